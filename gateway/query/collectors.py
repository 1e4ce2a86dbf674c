"""A job's collector: the one definition of which stored fields name it, and every
form that definition takes (contract section 1).

A job names its collector by ``collector_id`` when that is set and not ``""``. Older
inventory databases hold jobs with no ``collector_id`` but a ``collector`` field, the
collector document's ``_id``: that reference is followed only when ``collector_id`` is
missing, null or ``""``. Only a collector of the job's own domain counts; one that is
gone, or lives in another domain, makes ``collector_info`` null.

The same rule, in each form the gateway needs:

- ``collector_ref(job)``: which collector a fetched job shows (both adapters' output);
- ``REF_FIELDS``: the stored fields to fetch so that ``collector_ref`` can answer;
- ``collectors_filter(domain_id, refs)``: the collector query that loads a page's
  collectors in one call;
- ``jobs_of_collectors(found, negate=...)``: the job filter for "whose collector is one
  of these" (list and stat ``collector_info.*`` conditions);
- ``join_stages()``: pipeline stages that add ``collector_info`` to each job (lists
  sorted by a collector field, statistics grouped by one).

Pure: no I/O. Collection names here are the logical ones; the store maps them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.query.paths import COLLECTOR_INFO

Document = dict[str, Any]

# The logical name of the collector collection, as the store knows it
# (`gateway.store.base.COLLECTOR`); the store maps it to the physical one.
COLLECTOR = "collector"
# The stored fields that name a job's collector, in the order they are tried.
REF_FIELDS = ("collector_id", "collector")
# collector_id values that mean "not set": the `collector` reference is followed then.
_UNSET_IDS: list[Any] = [None, ""]


@dataclass(frozen=True)
class CollectorRef:
    """A job's reference to its collector: by ``collector_id``, or (older databases) by
    the collector document's ``_id`` in ``object_id``. Exactly one is set."""

    collector_id: str | None = None
    object_id: Any = None


@dataclass(frozen=True)
class CollectorIds:
    """The collectors a ``collector_info.*`` condition found in the caller's domain:
    their ``collector_id`` values and their document ``_id`` values."""

    collector_ids: tuple[Any, ...] = ()
    object_ids: tuple[Any, ...] = ()

    @classmethod
    def of(cls, collectors: Iterable[Mapping[str, Any]]) -> CollectorIds:
        """From collector documents projected to ``_id`` and ``collector_id``."""
        docs = list(collectors)
        return cls(
            collector_ids=tuple(d["collector_id"] for d in docs if d.get("collector_id") not in _UNSET_IDS),
            object_ids=tuple(d["_id"] for d in docs),
        )


def collector_ref(job: Mapping[str, Any]) -> CollectorRef | None:
    """The collector a stored job names, or None when it names none. A value of a shape
    no collector id has (a list, an object) names none."""
    collector_id = job.get("collector_id")
    if collector_id not in _UNSET_IDS:
        return CollectorRef(collector_id=collector_id) if isinstance(collector_id, str) else None
    object_id = job.get("collector")
    if object_id is None or isinstance(object_id, list | dict):
        return None
    return CollectorRef(object_id=object_id)


def collectors_filter(domain_id: str, refs: Sequence[CollectorRef]) -> Document:
    """The collector-collection filter for the collectors ``refs`` name, in ``domain_id``."""
    ids = sorted({r.collector_id for r in refs if r.collector_id is not None})
    object_ids = list({r.object_id for r in refs if r.collector_id is None})
    clauses: list[Document] = []
    if ids:
        clauses.append({"collector_id": {"$in": ids}})
    if object_ids:
        clauses.append({"_id": {"$in": object_ids}})
    return {"domain_id": domain_id, "$or": clauses or [{"_id": {"$in": []}}]}


def match_refs(refs: Sequence[CollectorRef], collectors: Iterable[Document]) -> list[Document | None]:
    """The collector of each of ``refs`` (same order; None where it is gone), from the
    documents ``collectors_filter`` found."""
    by_ref: dict[CollectorRef, Document] = {}
    for doc in collectors:
        by_ref[CollectorRef(object_id=doc["_id"])] = doc
        if isinstance(doc.get("collector_id"), str):
            by_ref[CollectorRef(collector_id=doc["collector_id"])] = doc
    return [by_ref.get(ref) for ref in refs]


def jobs_of_collectors(found: CollectorIds, *, negate: bool) -> Document:
    """Jobs whose collector is one of ``found`` (or, with ``negate``, is not: jobs whose
    collector is gone included), by the rule of this module."""
    among: Document = {
        "$or": [
            {"collector_id": {"$in": list(found.collector_ids)}},
            {"collector_id": {"$in": _UNSET_IDS}, "collector": {"$in": list(found.object_ids)}},
        ]
    }
    return {"$nor": [among]} if negate else among


# In a pipeline: whether a job names its collector by the old `collector` reference.
_BY_REF: Document = {"$eq": [{"$ifNull": ["$collector_id", ""]}, ""]}


def ref_expression() -> Document:
    """A pipeline expression of the reference a job names its collector by, as
    ``collector_ref`` reads it: ``{"c": collector_id}``, or ``{"o": collector}`` for the
    old reference (read it back with ``ref_of``)."""
    return {"$cond": [_BY_REF, {"o": "$collector"}, {"c": "$collector_id"}]}


def ref_of(value: object) -> CollectorRef | None:
    """The ``CollectorRef`` a value of ``ref_expression`` stands for (None: none)."""
    if not isinstance(value, Mapping):
        return None
    if isinstance(value.get("c"), str):
        return CollectorRef(collector_id=value["c"])
    return None if value.get("o") is None else CollectorRef(object_id=value["o"])


def join_stages() -> list[Document]:
    """Stages adding ``collector_info`` to each job: the collector its ``collector_id``
    names, else the one its old ``collector`` reference names; only one of the job's own
    domain (MongoDB ``$lookup`` by local and foreign field, then ``$filter``)."""
    candidates = {"$cond": [_BY_REF, "$_by_ref", "$_by_id"]}
    same_domain = {"$filter": {"input": candidates, "as": "c", "cond": {"$eq": ["$$c.domain_id", "$domain_id"]}}}
    return [
        {"$lookup": {"from": COLLECTOR, "localField": "collector_id", "foreignField": "collector_id", "as": "_by_id"}},
        {"$lookup": {"from": COLLECTOR, "localField": "collector", "foreignField": "_id", "as": "_by_ref"}},
        {"$addFields": {COLLECTOR_INFO: {"$arrayElemAt": [same_domain, 0]}}},
        {"$project": {"_by_id": 0, "_by_ref": 0}},
    ]
