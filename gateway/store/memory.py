"""The embedded engine: mongomock, in process, behind the store interface.

mongomock is synchronous and in memory; its calls are quick and hold no I/O, so they
run inline on the event loop rather than in a thread (mongomock is not thread-safe).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import mongomock
from pymongo.errors import OperationFailure

from gateway.errors import QueryRejected
from gateway.store.base import DEFAULT_NAMES, Collection, Document, ReadPurpose, SortSpec, physical_pipeline


class MemoryJobStore:
    def __init__(self, collection_names: Mapping[Collection, str] | None = None) -> None:
        names = {**DEFAULT_NAMES, **(collection_names or {})}
        self._names = names
        db: Any = mongomock.MongoClient(tz_aware=False).get_database("inventory")
        self._collections = {logical: db.get_collection(physical) for logical, physical in names.items()}

    def insert(self, collection: Collection, documents: Iterable[Document]) -> int:
        docs = list(documents)
        if docs:
            self._collections[collection].insert_many(docs)
        return len(docs)

    async def find(
        self,
        collection: Collection,
        filter: Mapping[str, Any],
        *,
        projection: Mapping[str, Any] | None = None,
        sort: SortSpec | None = None,
        skip: int = 0,
        limit: int = 0,
    ) -> list[Document]:
        with _query_errors():
            cursor = self._collections[collection].find(
                rewrite_filter(filter), dict(projection) if projection else None
            )
            if sort:
                cursor = cursor.sort(list(sort))
            return list(cursor.skip(skip).limit(limit))

    async def count(self, collection: Collection, filter: Mapping[str, Any]) -> int:
        with _query_errors():
            return self._collections[collection].count_documents(rewrite_filter(filter))

    async def aggregate(
        self, collection: Collection, pipeline: Sequence[Mapping[str, Any]], *, read: ReadPurpose = "stat"
    ) -> list[Document]:
        with _query_errors():
            return list(
                self._collections[collection].aggregate(rewrite_pipeline(physical_pipeline(pipeline, self._names)))
            )

    async def distinct(self, collection: Collection, key: str, filter: Mapping[str, Any]) -> list[Any]:
        with _query_errors():
            return self._collections[collection].distinct(key, dict(filter))

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None


# mongomock reports a query it cannot evaluate on the data (`$year` of a string, `$add`
# of text) with plain Python exceptions where MongoDB answers a server error; these
# come only from inside the mongomock call, never from the gateway's own code.
_ENGINE_REFUSALS = (
    OperationFailure,
    TypeError,
    ValueError,
    AttributeError,
    KeyError,
    AssertionError,
    ZeroDivisionError,
)


@contextmanager
def _query_errors() -> Iterator[None]:
    """The engine refusing a query is the query's fault: answer it as a client error."""
    try:
        yield
    except NotImplementedError as exc:
        raise QueryRejected(f"the embedded engine cannot run this query: {exc}") from None
    except _ENGINE_REFUSALS as exc:
        raise QueryRejected(f"the database rejected the query: {exc}") from None


# Where mongomock lacks what real MongoDB has, the pipeline is rewritten into an
# equivalent one it can run, so both engines give the same answer.


def rewrite_filter(node: Any) -> Any:
    """MongoDB's `$lte: null` and `$gte: null` match null and missing fields (null
    sorts lowest and equals itself); mongomock matches nothing. `$eq: null` is the same
    set, and mongomock gets it right. List operands of equality: see `_list_equality`."""
    if isinstance(node, list):
        return [rewrite_filter(n) for n in node]
    if not isinstance(node, Mapping):
        return node
    out: dict[str, Any] = {}
    lists: list[dict[str, Any]] = []
    for k, v in node.items():
        if not k.startswith("$") and isinstance(v, Mapping) and _has_list_operand(v):
            lists.append(_list_equality(k, v))
        else:
            out["$eq" if k in ("$lte", "$gte") and v is None else k] = (
                v if k in _LITERAL_OPERANDS else rewrite_filter(v)
            )
    if not lists:
        return out
    return {"$and": [out, *lists]} if out else lists[0] if len(lists) == 1 else {"$and": lists}


# Operands that are data, not query: never rewritten.
_LITERAL_OPERANDS = frozenset({"$eq", "$ne", "$in", "$nin"})


def _has_list_operand(ops: Mapping[str, Any]) -> bool:
    return any(
        (op in ("$eq", "$ne") and isinstance(v, list))
        or (op in ("$in", "$nin") and isinstance(v, list) and any(isinstance(x, list) for x in v))
        for op, v in ops.items()
    )


def _list_equality(path: str, ops: Mapping[str, Any]) -> dict[str, Any]:
    """A list value equals a field that is that list or that holds it as an element
    (https://www.mongodb.com/docs/manual/reference/operator/query/eq/#array-element).
    mongomock's `$eq`/`$ne` see only the first, its `$in`/`$nin` only the second; its
    implicit equality `{path: [...]}` sees both, so list values are matched that way."""
    clauses: list[dict[str, Any]] = []
    for op, value in ops.items():
        if op in ("$eq", "$ne") and isinstance(value, list):
            clauses.append({path: value} if op == "$eq" else {"$nor": [{path: value}]})
        elif op in ("$in", "$nin") and isinstance(value, list):
            others = [v for v in value if not isinstance(v, list)]
            lists = [{path: v} for v in value if isinstance(v, list)]
            any_of = [*([{path: {"$in": others}}] if others else []), *lists]
            clauses.append({"$or": any_of} if op == "$in" else {"$nor": any_of})
        else:
            clauses.append(rewrite_filter({path: {op: value}}))
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


_ROWS = "__rows"


def rewrite_pipeline(pipeline: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """mongomock answers `$count` and a `$group` by null with a row even when no
    document comes in (a count of 0); MongoDB answers no row. Count the rows in the
    group and drop the group when it saw none. `$match` filters as `rewrite_filter`."""
    out: list[dict[str, Any]] = []
    for stage in pipeline:
        if "$count" in stage:
            out += rewrite_pipeline([{"$group": {"_id": None, stage["$count"]: {"$sum": 1}}}, {"$project": {"_id": 0}}])
        elif "$match" in stage:
            out.append({"$match": rewrite_filter(stage["$match"])})
        elif "$facet" in stage:
            out.append({"$facet": {name: rewrite_pipeline(sub) for name, sub in stage["$facet"].items()}})
        elif "$group" in stage and stage["$group"].get("_id") is None:
            group = rewrite(stage["$group"])
            out += [
                {"$group": {**group, _ROWS: {"$sum": 1}}},
                {"$match": {_ROWS: {"$gt": 0}}},
                {"$project": {_ROWS: 0}},
            ]
        else:
            out.append(rewrite(dict(stage)))
    return out


def rewrite(node: Any) -> Any:
    """Rewrite the expressions mongomock cannot evaluate (see `_date_to_string`)."""
    if isinstance(node, list):
        return [rewrite(n) for n in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"$dateToString"} and isinstance(node["$dateToString"], dict):
        return _date_to_string(rewrite(node["$dateToString"]))
    return {k: rewrite(v) for k, v in node.items()}


def _date_to_string(spec: dict[str, Any]) -> Any:
    """mongomock formats with Python's strftime, which has no `%L` (milliseconds):
    format the pieces around each `%L` and put the zero-padded milliseconds between."""
    fmt, date = spec.get("format"), spec.get("date")
    if not isinstance(fmt, str) or "%L" not in fmt:
        return {"$dateToString": spec}
    millis = {"$substr": [{"$toString": {"$add": [1000, {"$millisecond": date}]}}, 1, 3]}
    parts: list[Any] = []
    for i, piece in enumerate(fmt.split("%L")):
        if i:
            parts.append(millis)
        if piece:
            parts.append({"$dateToString": {"format": piece, "date": date}})
    # A missing date gives null, as $dateToString does.
    return {"$cond": [{"$eq": [{"$ifNull": [date, None]}, None]}, None, {"$concat": parts}]}
