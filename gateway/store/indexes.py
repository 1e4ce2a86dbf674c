"""The indexes the gateway's query patterns need, and an idempotent way to create them.

An index is looked for by its key pattern, whatever its name, so running this against
a SpaceONE database that already indexes `job_id` (under its own name) is a no-op. An
index with those keys but options that fall short of the need (not unique where the
table says unique; partial, sparse, hidden, or under another collation, so that it does
not serve every query: https://www.mongodb.com/docs/manual/indexes/) is reported as a
warning and left alone: MongoDB refuses a second index on the same keys with other
options, and dropping an operator's index is the operator's call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.store.base import COLLECTOR, JOB, Collection


@dataclass(frozen=True)
class IndexSpec:
    """One index the gateway needs: the ``collection`` (logical name), its ``keys``
    (MongoDB's key pattern as (field, 1 or -1) pairs), the ``name`` it is created
    under, whether it is ``unique``, and ``why`` (the queries it serves)."""

    collection: Collection
    keys: tuple[tuple[str, int], ...]
    name: str
    unique: bool = False
    why: str = ""


INDEXES = (
    IndexSpec(JOB, (("job_id", 1),), "job_id_unique", unique=True, why="job(jobId), job_id filters"),
    IndexSpec(
        JOB, (("domain_id", 1), ("created_at", -1)), "domain_created_at", why="every list's scope and default sort"
    ),
    IndexSpec(
        JOB,
        (("domain_id", 1), ("status", 1), ("created_at", -1)),
        "domain_status_created_at",
        why="status filters and per-status statistics",
    ),
    IndexSpec(JOB, (("collector_id", 1),), "collector_id", why="collector_info.* conditions"),
    IndexSpec(JOB, (("projects", 1),), "projects", why="project-scoped callers"),
    IndexSpec(COLLECTOR, (("collector_id", 1),), "collector_id", why="collector lookups and the stat join"),
)


def shortfalls(spec: IndexSpec, info: Mapping[str, Any]) -> list[str]:
    """How an existing index on ``spec``'s keys (``info`` as pymongo's
    ``index_information`` gives it) falls short of ``spec``; empty when it serves."""
    found = []
    if spec.unique and not info.get("unique"):
        found.append("is not unique")
    if info.get("partialFilterExpression") is not None:
        found.append("is partial (it indexes only the documents its filter selects)")
    if info.get("sparse"):
        found.append("is sparse (it leaves out the documents without the field)")
    collation = info.get("collation")
    if isinstance(collation, Mapping) and collation.get("locale", "simple") != "simple":
        found.append(f"has the collation {collation['locale']!r} (the gateway's queries use the simple one)")
    if info.get("hidden"):
        found.append("is hidden from the query planner")
    return found


async def ensure_indexes(database: Any, names: Mapping[Collection, str]) -> list[str]:
    """Create the missing indexes; return one line per index saying what was done:
    ``created``, ``exists`` (an index on the same keys serves as needed), or
    ``warning`` (the only indexes on those keys fall short, and why)."""
    report = []
    for spec in INDEXES:
        collection = database.get_collection(names[spec.collection])
        existing = await collection.index_information()
        same = {name: info for name, info in existing.items() if tuple(tuple(k) for k in info["key"]) == spec.keys}
        keys = ", ".join(f"{field} {'asc' if order == 1 else 'desc'}" for field, order in spec.keys)
        where = f"{names[spec.collection]} ({keys})"
        serving = [name for name, info in same.items() if not shortfalls(spec, info)]
        if serving:
            report.append(f"exists   {where} as {serving[0]}")
        elif same:
            name, info = next(iter(same.items()))
            needed = f"{'a unique index' if spec.unique else 'an index'} for {spec.why}"
            report.append(
                f"warning  {where} as {name} {' and '.join(shortfalls(spec, info))}; the gateway needs {needed}: "
                "left as it is (drop it, then run create-indexes again)"
            )
        else:
            await collection.create_index(list(spec.keys), name=spec.name, unique=spec.unique)
            report.append(f"created  {where} as {spec.name}{' unique' if spec.unique else ''}: {spec.why}")
    return report
