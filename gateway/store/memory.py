"""The embedded engine: the job and collector collections in memory, behind the store
interface, answering MongoDB's queries as MongoDB does.

Documents are stored as a MongoDB server would hold them (``documents.stored``: naive
UTC datetimes to the millisecond, tuples as arrays, an ``_id`` given to each) in
``tables.Table`` (partitions by domain, in-memory indexes). Queries are evaluated by
this package's own modules for exactly the MongoDB language the compiler emits:
``matching`` (filters), ``sorting``, ``projection``, ``pipeline`` with
``expressions`` and ``accumulators``, ``regexes`` (PCRE by RE2). What those do not
implement is refused (``UnsupportedByEngine``), never answered differently.

Every query runs off the event loop, on the engine's worker threads, taken fairly by
domain (``scheduler``: one running query per domain, domains in turn, so a tenant
sending many costly queries waits behind its own while another's runs beside them;
a write runs alone), under the time budget ``max_time_ms``: as on MongoDB, the
database calls of one request share it (``request_budget``), the time queued for a
worker included. Past it the query stops, or is never run if still queued, and the
call raises ``QueryTimedOut``, the error a MongoDB time-out gives.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import Any, TypeVar

import bson
from bson import ObjectId
from pymongo.errors import BulkWriteError, WriteError

from gateway.display import json_text
from gateway.errors import QueryRejected, QueryTimedOut
from gateway.store.base import (
    DEFAULT_NAMES,
    Change,
    ChangeOperation,
    Collection,
    Document,
    ReadPurpose,
    SortSpec,
    physical_pipeline,
)
from gateway.store.bsonorder import MISSING, sort_key
from gateway.store.budget import Budget, running
from gateway.store.changelog import ChangeLog
from gateway.store.documents import NotStorable, sent, stored
from gateway.store.fieldpaths import query_values
from gateway.store.matching import expand
from gateway.store.pipeline import run_pipeline
from gateway.store.projection import compile_projection, copy
from gateway.store.request_budget import remaining
from gateway.store.scheduler import Scheduler
from gateway.store.tables import Table, domain_of

T = TypeVar("T")
CHANGE_LOG = 10_000  # recent changes a watch can resume after
_IMMUTABLE_ID = "Performing an update on the path '_id' would modify the immutable field '_id'"
_HISTORY_LOST = (
    "the database rejected the query: the resume point is no longer in the change log "
    "(ChangeStreamHistoryLost, code 286)."
)
_MARGIN = 0.05  # seconds a caller waits past its budget for a running call to stop


def _sent(query: Any) -> Any:
    """``query`` as a server receives it (``documents.sent``); what a driver could not
    encode is a rejected query."""
    try:
        return sent(query)
    except NotStorable as exc:
        raise QueryRejected(f"the database rejected the query: {exc}.") from exc


class MemoryJobStore:
    """The embedded engine. ``insert`` loads documents (at start-up, before serving);
    the async methods are the ``JobStore`` interface, and ``ChangeFeed``'s ``watch``
    over the changes its own live writes (``insert_one``, ``update_one``) make."""

    def __init__(
        self,
        collection_names: Mapping[Collection, str] | None = None,
        *,
        max_time_ms: int = 5000,
        scheduler: Scheduler | None = None,
    ) -> None:
        self._names = {**DEFAULT_NAMES, **(collection_names or {})}
        self._tables = {physical: Table() for physical in self._names.values()}
        self._budget_ms = max_time_ms
        self._budget_seconds = max_time_ms / 1000
        self._lock = threading.Lock()
        self._scheduler = scheduler or Scheduler()
        self._changes_lock = threading.Lock()
        self._sequence = 0
        self._log = ChangeLog(CHANGE_LOG)
        self._watchers: dict[Collection, list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Change]]]] = {
            logical: [] for logical in self._names
        }

    def _table(self, collection: Collection) -> Table:
        return self._tables[self._names[collection]]

    def insert(self, collection: Collection, documents: Iterable[Mapping[str, Any]]) -> int:
        """Store ``documents`` (each given an ``_id`` if it has none, as a driver does).

        Raises ``NotStorable`` for a value BSON cannot carry and, as a driver's
        ``insert_many`` does, ``BulkWriteError`` (code 11000) for an ``_id`` the
        collection already holds; then nothing is stored."""
        docs = []
        for index, document in enumerate(documents):
            if "_id" not in document and isinstance(document, dict):
                document["_id"] = ObjectId()
            try:
                docs.append(stored(document))
            except NotStorable as exc:
                exc.index = index
                raise
        with self._lock:
            duplicate = self._table(collection).insert(docs)
        if duplicate is not None:
            raise BulkWriteError(
                {"writeErrors": [{"index": 0, "code": 11000, "errmsg": "E11000 duplicate key error", "op": duplicate}]}
            )
        return len(docs)

    def prepare(self) -> None:
        """Build the indexes of what was inserted now rather than at the first query."""
        with self._lock:
            for table in self._tables.values():
                table.prepare()

    async def _run(self, call: Callable[..., T], *args: Any, domain: Any = None, exclusive: bool = False) -> T:
        """``call(*args)`` on a worker, in ``domain``'s turn (``exclusive``: alone),
        within what is left of the request's budget: the clock runs while the call is
        queued too, and a call still queued when the budget is spent never runs."""
        seconds = remaining(self._budget_seconds)
        if seconds <= 0:
            raise QueryTimedOut(self._budget_ms)
        budget = Budget(seconds, self._budget_ms)
        future = self._scheduler.submit(domain, partial(self._guarded, budget, call, args), exclusive=exclusive)
        try:
            # A running call stops itself at its next budget check; the margin lets
            # its own QueryTimedOut (or its answer, just in time) arrive first.
            return await asyncio.wait_for(asyncio.wrap_future(future), seconds + _MARGIN)
        except TimeoutError:
            raise QueryTimedOut(self._budget_ms) from None

    @staticmethod
    def _guarded(budget: Budget, call: Callable[..., T], args: tuple[Any, ...]) -> T:
        with running(budget):
            budget.check()
            return call(*args)

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
        """``JobStore.find`` on the engine's worker: ``filter`` as a server receives it
        (``_sent``), then the table's filter, sort, skip and limit
        (``tables.Table.find``), then the projection (``projection``)."""
        query = _sent(filter)

        def find() -> list[Document]:
            project = compile_projection(projection)
            rows = self._table(collection).find(query, list(sort) if sort else None, skip, limit)
            return [project(row) for row in rows]

        return await self._run(find, domain=domain_of(query))

    async def count(self, collection: Collection, filter: Mapping[str, Any]) -> int:
        """``JobStore.count`` on the engine's workers (``tables.Table.count``)."""
        query = _sent(filter)
        return await self._run(self._table(collection).count, query, domain=domain_of(query))

    async def aggregate(
        self, collection: Collection, pipeline: Sequence[Mapping[str, Any]], *, read: ReadPurpose = "stat"
    ) -> list[Document]:
        """``JobStore.aggregate`` on the engine's worker: a leading ``$match`` is
        answered by the table (its indexes), the rest by ``pipeline.run_pipeline``."""
        stages = _sent(physical_pipeline(pipeline, self._names))

        def aggregate() -> list[Document]:
            table = self._table(collection)
            if stages and "$match" in stages[0]:
                docs, rest = table.select(stages[0]["$match"]), stages[1:]
            else:
                docs, rest = table.select({}), stages
            return [copy(row) for row in run_pipeline(docs, rest, self._foreign)]

        first = stages[0].get("$match", {}) if stages else {}
        return await self._run(aggregate, domain=domain_of(first))

    def _foreign(self, name: str) -> Table:
        if name not in self._tables:
            raise QueryRejected(f"the database rejected the query: no collection {json_text(name)} to $lookup from.")
        return self._tables[name]

    async def distinct(self, collection: Collection, key: str, filter: Mapping[str, Any]) -> list[Any]:
        """``JobStore.distinct``: the distinct values of ``key`` (array elements one by
        one; missing left out), equal values by BSON comparison order, as MongoDB."""

        query = _sent(filter)

        def distinct() -> list[Any]:
            values = query_values(key)
            seen: dict[Any, Any] = {}
            for doc in self._table(collection).select(query):
                for value in expand(values(doc)):
                    if value is not MISSING and type(value) is not list:
                        seen.setdefault(sort_key(value), value)
            return [copy(v) for v in seen.values()]

        return await self._run(distinct, domain=domain_of(query))

    # -- writes while serving, and their change events (a live demo: `--simulate`) --

    async def insert_one(self, collection: Collection, document: Mapping[str, Any]) -> Document:
        """Store one document (as ``insert``, but on the engine's worker, so while it
        serves) and emit an ``insert`` change; the document as stored."""
        doc = dict(document)
        doc.setdefault("_id", ObjectId())
        doc = stored(doc)

        def insert() -> Document:
            table = self._table(collection)
            if table.insert([doc]) is not None:
                raise BulkWriteError({"writeErrors": [{"index": 0, "code": 11000, "errmsg": "E11000 duplicate key"}]})
            table.prepare()  # re-indexed while it runs alone, never by the reads beside each other
            return copy(doc)  # copied while the write runs alone: the next may change it in place

        inserted = await self._run(insert, exclusive=True)
        self._emit(collection, "insert", inserted)
        return copy(inserted)

    async def update_one(self, collection: Collection, key: Any, fields: Mapping[str, Any]) -> Document | None:
        """Set ``fields`` (top-level names, MongoDB's ``$set``) on the document whose
        ``_id`` is ``key`` and emit an ``update`` change (none when no value changes,
        as MongoDB logs no no-op update); the document as it now is, or None when there
        is no such document. Raises ``WriteError`` (code 66, ImmutableField) for an
        ``_id`` other than the document's, as MongoDB does
        (https://www.mongodb.com/docs/manual/core/document/#the-_id-field)."""

        def update() -> tuple[Document | None, bool]:
            table = self._table(collection)
            current = table.find({"_id": {"$eq": key}}, None, 0, 1)
            if not current:
                return None, False
            values = stored(fields)
            if "_id" in values and values["_id"] != current[0]["_id"]:
                raise WriteError(_IMMUTABLE_ID, 66, {"code": 66, "codeName": "ImmutableField", "errmsg": _IMMUTABLE_ID})
            doc = {**current[0], **values}  # the values not set: shared, not copied
            if bson.encode(doc) == bson.encode(current[0]):
                return copy(current[0]), False  # a no-op: MongoDB writes no oplog entry, so no change event
            doc = table.update(current[0], doc)  # in place where it can: nothing new kept but the values
            table.prepare()
            return copy(doc), True  # copied while the write runs alone: the next may change it in place

        doc, changed = await self._run(update, exclusive=True)
        if not changed or doc is None:
            return doc  # the worker's copy: the caller's own
        self._emit(collection, "update", doc)
        return copy(doc)  # the emitted one is shared with the watchers

    def _emit(self, collection: Collection, operation: ChangeOperation, doc: Document) -> None:
        """Record and send the change that made ``doc`` (the engine's own copy of the
        document as it then was, shared with the watchers and the log)."""
        with self._changes_lock:
            self._sequence += 1
            change = Change(operation, doc["_id"], doc, resume_token=self._sequence)
            self._log.append(collection, change)
            watchers = list(self._watchers[collection])
        for loop, queue in watchers:
            loop.call_soon_threadsafe(queue.put_nowait, change)

    async def watch(
        self, collection: Collection, *, resume_after: Any = None, opened: Callable[[], None] | None = None
    ) -> AsyncIterator[Change]:
        """The changes of ``collection`` the engine's own writes make; after
        ``resume_after`` (a change's resume token, its sequence number) the changes
        since then that the recent log (``CHANGE_LOG`` changes, ``changelog.ChangeLog``)
        still holds come first, an update's document looked up as it now is. Raises
        ``QueryRejected`` when the log no longer holds every change since then, as
        MongoDB answers a resume token fallen off its oplog (error 286)."""
        queue: asyncio.Queue[Change] = asyncio.Queue()
        watcher = (asyncio.get_running_loop(), queue)
        with self._changes_lock:
            missed = []
            if resume_after is not None:
                if self._log.lost(resume_after):
                    raise QueryRejected(_HISTORY_LOST)
                missed = self._log.since(collection, resume_after)
            self._watchers[collection].append(watcher)
        if opened is not None:
            opened()
        try:
            if missed:
                for change in await self._run(self._looked_up, collection, missed):
                    yield change
            while True:
                yield await queue.get()
        finally:
            with self._changes_lock:
                self._watchers[collection].remove(watcher)

    def _looked_up(self, collection: Collection, changes: list[Change]) -> list[Change]:
        """``changes`` with each document MongoDB's ``fullDocument: updateLookup`` gives
        a change read later: an insert's as inserted; an update's as the document now
        is, or None once it is gone
        (https://www.mongodb.com/docs/manual/changeStreams/#lookup-full-document-for-update-operations)."""
        table = self._table(collection)
        out = []
        for change in changes:
            if change.operation in ("update", "replace"):  # the log keeps only an insert's document
                found = table.find({"_id": {"$eq": change.key}}, None, 0, 1)
                out.append(replace(change, document=copy(found[0]) if found else None))
            else:
                out.append(replace(change, document=copy(change.document)))  # the log's stays the log's
        return out

    async def ping(self) -> None:
        """Nothing to reach: always answers."""
        return None

    async def close(self) -> None:
        """Stop the workers; queries still waiting for one are cancelled."""
        self._scheduler.close()
