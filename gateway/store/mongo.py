"""The MongoDB engine: pymongo's AsyncMongoClient behind the store interface.

One client per process, opened by the app's lifespan and closed on shutdown.

Time: all the database work of one request — server selection, connection checkout,
the server's work, retries, of every call the request makes — runs within ONE budget,
pymongo's client-side operation timeout (``timeoutMS``,
https://pymongo.readthedocs.io/en/stable/api/pymongo/index.html#pymongo.timeout): the
request's first call starts the clock (``gateway.store.request_budget``) and each call runs in
``pymongo.timeout(<what is left>)``, which also sends the server a ``maxTimeMS`` of what
is left. A database that is gone is reported sooner, after ``serverSelectionTimeoutMS``.

Options: those written in the URI win; the gateway's settings fill in only what the URI
leaves out (``client_options``). The effective values are logged once, at start-up,
without credentials.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pymongo
from pymongo import AsyncMongoClient, ReadPreference
from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError, ServerSelectionTimeoutError
from pymongo.uri_parser import split_options

from gateway.errors import InternalError, QueryRejected, QueryTimedOut, StoreUnavailable
from gateway.store.base import (
    DEFAULT_NAMES,
    Change,
    ChangesUnsupported,
    Collection,
    Document,
    ReadPurpose,
    SortSpec,
    physical_pipeline,
)
from gateway.store.request_budget import remaining

log = logging.getLogger("gateway.store")
# Beyond the budget, for the driver to report its own timeout before we cancel the call.
_GRACE = 0.05
# How long a change stream's getMore waits on the server for a change (maxAwaitTimeMS),
# and so how long a watch being stopped may wait for the command in flight to answer.
_AWAIT_MS = 1000
_STOP_WAIT = _AWAIT_MS / 1000 + 1.0

# Server error codes that mean "the query itself is wrong" (the client's fault).
_CLIENT_ERROR_CODES = frozenset(
    {
        2,  # BadValue (e.g. an invalid regex)
        9,  # FailedToParse
        14,  # TypeMismatch
        15,  # Overflow
        16,  # InvalidLength
        17,  # ProtocolError
        28,  # PathNotViable
        40,  # ConflictingUpdateOperators / path collision in projection
        51024,  # regex too complex / invalid
        51091,  # invalid regular expression
        31249,  # path collision in projection
        31250,  # path collision
        16020,  # $divide / expression argument errors
        16608,  # divide by zero
        16554,  # arithmetic on non-numbers
        16006,  # a date operator on a non-date
        16609,  # $divide of non-numbers
        16611,  # $mod of non-numbers
        17124,  # $size of a non-array
        40390,  # $objectToArray of a non-object
        40386,  # $arrayToObject of a non-array
        40392,  # invalid $group accumulator
        51075,  # $unwind of an invalid path
    }
)


def _caused_by_client(exc: OperationFailure) -> bool:
    """Server errors the query's own shape or values caused. Beyond the codes above,
    `LocationNNNNN` errors are the server's assertions on an expression's arguments."""
    code_name = (exc.details or {}).get("codeName", "")
    return exc.code in _CLIENT_ERROR_CODES or (isinstance(code_name, str) and code_name.startswith("Location"))


def written_options(uri: str) -> Mapping[str, Any]:
    """The options written in ``uri``, by pymongo's parser (case-insensitive names, no
    DNS lookup). Raises pymongo's ``ConfigurationError``/``InvalidURI`` for options it
    does not accept."""
    query = uri.partition("?")[2]
    return split_options(query) if query else {}


def _hosts(uri: str) -> str:
    """The URI's hosts (or SRV name), without the credentials."""
    return uri.partition("://")[2].split("/", 1)[0].split("?", 1)[0].rpartition("@")[2]


class MongoJobStore:
    """The ``JobStore`` and ``ChangeFeed`` on a MongoDB server, through pymongo's
    ``AsyncMongoClient``: each call forwards its query unchanged, under the request's
    time budget (``timeoutMS``; see the module docstring), reading with the lists' or
    the statistics' read preference, the driver's errors mapped to the gateway's
    (``StoreUnavailable``, ``QueryTimedOut``, ``QueryRejected``, ``InternalError``)."""

    def __init__(
        self,
        uri: str,
        *,
        database: str = "inventory",
        collection_names: Mapping[Collection, str] | None = None,
        timeout_ms: int = 5000,
        server_selection_timeout_ms: int = 3000,
        list_read_preference: str = "primary",
        stat_read_preference: str = "secondaryPreferred",
        app_name: str = "job-gateway",
    ) -> None:
        """Open a client on ``uri`` (no I/O yet). ``timeout_ms`` is the time budget of a
        request's database work, ``server_selection_timeout_ms`` that of finding a
        server (also the connect timeout); both only where the URI does not say
        ``timeoutMS``, ``serverSelectionTimeoutMS``, ``connectTimeoutMS``. The read
        preferences are the lists' and the statistics', unless the URI names one for
        all. Raises ``ValueError`` on a bad read preference name, pymongo's
        ``ConfigurationError`` on a bad URI."""
        defaults: dict[str, Any] = {
            "timeoutMS": timeout_ms,
            "serverSelectionTimeoutMS": server_selection_timeout_ms,
            "connectTimeoutMS": server_selection_timeout_ms,
            "appName": app_name,
        }
        written = written_options(uri)
        # pymongo's keyword arguments would override the URI's options: pass only the rest.
        kwargs = {name: value for name, value in defaults.items() if name not in written}
        from_uri = sorted(name for name in [*defaults, "readPreference"] if name in written)
        # Naive UTC datetimes are what the rest of the gateway works with: not a setting.
        self._client: AsyncMongoClient[Document] = AsyncMongoClient(uri, tz_aware=False, **kwargs)
        options = self._client.options
        # None (timeoutMS=0 in the URI): no budget, as the URI asks.
        self._budget: float | None = options.timeout or None
        self._selection = options.server_selection_timeout
        db = self._client.get_database(database)
        names = {**DEFAULT_NAMES, **(collection_names or {})}
        self._names = names
        prefs = {"list": _read_preference(list_read_preference), "stat": _read_preference(stat_read_preference)}
        if "readPreference" in from_uri:
            prefs = {"list": options.read_preference, "stat": options.read_preference}
        self._lists = {k: db.get_collection(v, read_preference=prefs["list"]) for k, v in names.items()}
        self._stats = {k: db.get_collection(v, read_preference=prefs["stat"]) for k, v in names.items()}
        self._db = db
        effective = {
            "hosts": _hosts(uri),
            "database": database,
            "timeoutMS": round(options.timeout * 1000) if options.timeout else 0,
            "serverSelectionTimeoutMS": round(options.server_selection_timeout * 1000),
            "connectTimeoutMS": round((options.pool_options.connect_timeout or 0) * 1000),
            "readPreference": {purpose: pref.document for purpose, pref in prefs.items()},
            "appName": (options.pool_options.metadata.get("application") or {}).get("name"),
            "from_uri": from_uri,
        }
        log.info("MongoDB store", extra={"mongodb": effective})

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
        """``JobStore.find``: pymongo's ``find`` with the lists' read preference."""
        async with self._budgeted(self._lists[collection].read_preference):
            cursor = self._lists[collection].find(
                dict(filter),
                dict(projection) if projection else None,
                sort=list(sort) if sort else None,
                skip=skip,
                limit=limit,
            )
            return await cursor.to_list()

    async def count(self, collection: Collection, filter: Mapping[str, Any]) -> int:
        """``JobStore.count``: pymongo's ``count_documents`` (lists' read preference)."""
        async with self._budgeted(self._lists[collection].read_preference):
            return await self._lists[collection].count_documents(dict(filter))

    async def aggregate(
        self, collection: Collection, pipeline: Sequence[Mapping[str, Any]], *, read: ReadPurpose = "stat"
    ) -> list[Document]:
        """``JobStore.aggregate``: pymongo's ``aggregate``, ``$lookup`` sources renamed to
        the configured collection names (``physical_pipeline``)."""
        collections = self._lists if read == "list" else self._stats
        async with self._budgeted(collections[collection].read_preference):
            cursor = await collections[collection].aggregate(physical_pipeline(pipeline, self._names))
            return await cursor.to_list()

    async def distinct(self, collection: Collection, key: str, filter: Mapping[str, Any]) -> list[Any]:
        """``JobStore.distinct``: pymongo's ``distinct`` (statistics' read preference)."""
        async with self._budgeted(self._stats[collection].read_preference):
            return await self._stats[collection].distinct(key, dict(filter))

    async def ping(self) -> None:
        """The ``ping`` command on the primary, under the request's budget: raises
        ``StoreUnavailable`` when no server answers in time."""
        async with self._budgeted(ReadPreference.PRIMARY):
            await self._db.command("ping")

    async def close(self) -> None:
        """Close the client and its connection pools."""
        await self._client.close()

    async def watch(
        self, collection: Collection, *, resume_after: Any = None, opened: Callable[[], None] | None = None
    ) -> AsyncIterator[Change]:
        """The collection's change stream (``fullDocument: updateLookup``), from now on or
        after ``resume_after`` (a resume token). Raises ``ChangesUnsupported`` on a
        server without change streams (a standalone: error 40573), ``StoreUnavailable``
        when the server cannot be reached - resume with the last change's token
        (https://www.mongodb.com/docs/manual/changeStreams/#resume-a-change-stream)."""
        unreachable = StoreUnavailable.unreachable(round(self._selection * 1000))
        try:
            with _errors(timed_out=unreachable, unreachable=unreachable):
                stream = await _let_finish(
                    self._lists[collection].watch(
                        full_document="updateLookup", resume_after=resume_after, max_await_time_ms=_AWAIT_MS
                    )
                )
        except (InternalError, QueryRejected) as exc:
            cause = exc.__cause__
            if isinstance(cause, OperationFailure) and cause.code in _NO_CHANGE_STREAMS:
                raise ChangesUnsupported(str(cause)) from None
            raise
        if opened is not None:
            opened()
        async with stream:
            while True:
                with _errors(timed_out=unreachable, unreachable=unreachable):
                    event = await _let_finish(stream.try_next())
                if event is None:
                    continue
                operation = event.get("operationType")
                if operation not in ("insert", "update", "replace", "delete"):
                    continue  # drop, rename, invalidate: not a job's change
                yield Change(operation, event["documentKey"]["_id"], event.get("fullDocument"), event["_id"])

    @property
    def database(self) -> Any:
        """The pymongo database, for administrative commands (create-indexes)."""
        return self._db

    @asynccontextmanager
    async def _budgeted(self, reads: Any) -> AsyncIterator[None]:
        """One database call reading with preference ``reads``: within what is left of
        the request's budget, with the driver's errors mapped to the gateway's."""
        if self._budget is None:
            unreachable = StoreUnavailable.unreachable(round(self._selection * 1000))
            with _errors(timed_out=unreachable, unreachable=unreachable):
                yield
            return
        budget_ms = round(self._budget * 1000)
        left = remaining(self._budget)
        if left <= 0:
            raise QueryTimedOut(budget_ms)
        searching = not self._client.topology_description.has_readable_server(reads)
        if searching:
            # Known to have no server to read from: the call starts by waiting for one,
            # which the driver specification bounds by serverSelectionTimeoutMS too
            # (pymongo waits for the whole budget).
            left = min(left, self._selection)
        # Named by the bound a wait for a server has (not what this call had left of it).
        unreachable = StoreUnavailable.unreachable(round(min(self._budget, self._selection) * 1000))
        # Out of time while no server was known means none was found, whichever bound ended the wait.
        timed_out = unreachable if searching else QueryTimedOut(budget_ms)
        with _errors(timed_out=timed_out, unreachable=unreachable):
            try:
                # pymongo bounds the call; the outer deadline only catches its server
                # selection, which notices a passed deadline up to 0.5 s late (it polls).
                async with asyncio.timeout(left + _GRACE):
                    with pymongo.timeout(left):
                        yield
            except TimeoutError as exc:
                raise timed_out from exc


# "The $changeStream stage is only supported on replica sets" (40573), and a server
# that does not know the stage (a stand-in without change streams).
_NO_CHANGE_STREAMS = frozenset({40573, 40324, 115})


def _read_preference(name: str) -> Any:
    modes = {
        "primary": ReadPreference.PRIMARY,
        "primaryPreferred": ReadPreference.PRIMARY_PREFERRED,
        "secondary": ReadPreference.SECONDARY,
        "secondaryPreferred": ReadPreference.SECONDARY_PREFERRED,
        "nearest": ReadPreference.NEAREST,
    }
    try:
        return modes[name]
    except KeyError:
        raise ValueError(f"unknown read preference {name!r}; one of {', '.join(modes)}") from None


@contextmanager
def _errors(*, timed_out: StoreUnavailable, unreachable: StoreUnavailable) -> Iterator[None]:
    """Map driver errors onto the gateway's, in the API's words (gateway.errors): no
    server found -> ``unreachable``; out of time -> ``timed_out`` (the budget ran out, or
    no server was known and none was found in time); a connection dropped mid-query ->
    connection lost; a query the server rejects -> the client's error when its code
    says so, else internal."""
    try:
        yield
    except PyMongoError as exc:
        if isinstance(exc, ServerSelectionTimeoutError):
            raise unreachable from exc
        if exc.timeout:
            raise timed_out from exc
        if isinstance(exc, ConnectionFailure):
            raise StoreUnavailable.connection_lost() from exc
        if isinstance(exc, OperationFailure) and _caused_by_client(exc):
            message = exc.details.get("errmsg", exc) if exc.details else exc
            raise QueryRejected(f"the database rejected the query: {message}") from exc
        raise InternalError() from exc


async def _let_finish(command: Awaitable[Any]) -> Any:
    """Await a change stream's command; cancelled (the watch stopping) while it is in
    flight, let it finish - the server answers within maxAwaitTimeMS - for at most
    ``_STOP_WAIT`` s before the cancellation goes on. pymongo cancelled mid-command
    leaves that connection's socket unclosed, and the stream's closing killCursors can
    wait on the server for the cursor still in use."""
    pending = asyncio.ensure_future(command)
    try:
        return await asyncio.shield(pending)
    except asyncio.CancelledError:
        done, _ = await asyncio.wait({pending}, timeout=_STOP_WAIT)
        if not done:
            pending.cancel()
        elif not pending.cancelled():
            pending.exception()  # retrieved, never reported as unhandled: the watch ends anyway
        raise
