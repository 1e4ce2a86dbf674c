"""The MongoDB engine: pymongo's AsyncMongoClient behind the store interface.

One client per process, opened by the app's lifespan and closed on shutdown. Every
operation carries ``maxTimeMS``; server selection has its own timeout so that a
database that is gone is reported within the budget instead of hanging a request.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from pymongo import AsyncMongoClient, ReadPreference
from pymongo.errors import (
    AutoReconnect,
    ConnectionFailure,
    ExecutionTimeout,
    NetworkTimeout,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
)

from gateway.errors import InternalError, QueryRejected, StoreUnavailable
from gateway.store.base import DEFAULT_NAMES, Collection, Document, ReadPurpose, SortSpec, physical_pipeline

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


class MongoJobStore:
    def __init__(
        self,
        uri: str,
        *,
        database: str = "inventory",
        collection_names: Mapping[Collection, str] | None = None,
        max_time_ms: int = 5000,
        server_selection_timeout_ms: int = 3000,
        list_read_preference: str = "primary",
        stat_read_preference: str = "secondaryPreferred",
        app_name: str = "job-gateway",
    ) -> None:
        self._max_time_ms = max_time_ms
        self._client: AsyncMongoClient[Document] = AsyncMongoClient(
            uri,
            tz_aware=False,
            retryReads=True,
            appname=app_name,
            serverSelectionTimeoutMS=server_selection_timeout_ms,
            connectTimeoutMS=server_selection_timeout_ms,
            # Bounded socket reads: maxTimeMS plus slack for the network round trip.
            socketTimeoutMS=max_time_ms + 2000,
        )
        db = self._client.get_database(database)
        names = {**DEFAULT_NAMES, **(collection_names or {})}
        self._names = names
        list_pref = _read_preference(list_read_preference)
        stat_pref = _read_preference(stat_read_preference)
        self._lists = {k: db.get_collection(v, read_preference=list_pref) for k, v in names.items()}
        self._stats = {k: db.get_collection(v, read_preference=stat_pref) for k, v in names.items()}
        self._db = db

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
        with _errors():
            cursor = self._lists[collection].find(
                dict(filter),
                dict(projection) if projection else None,
                sort=list(sort) if sort else None,
                skip=skip,
                limit=limit,
                max_time_ms=self._max_time_ms,
            )
            return await cursor.to_list()

    async def count(self, collection: Collection, filter: Mapping[str, Any]) -> int:
        with _errors():
            return await self._lists[collection].count_documents(dict(filter), maxTimeMS=self._max_time_ms)

    async def aggregate(
        self, collection: Collection, pipeline: Sequence[Mapping[str, Any]], *, read: ReadPurpose = "stat"
    ) -> list[Document]:
        collections = self._lists if read == "list" else self._stats
        with _errors():
            cursor = await collections[collection].aggregate(
                physical_pipeline(pipeline, self._names), maxTimeMS=self._max_time_ms
            )
            return await cursor.to_list()

    async def distinct(self, collection: Collection, key: str, filter: Mapping[str, Any]) -> list[Any]:
        with _errors():
            return await self._stats[collection].distinct(key, dict(filter), maxTimeMS=self._max_time_ms)

    async def ping(self) -> None:
        with _errors():
            await self._db.command("ping")

    async def close(self) -> None:
        await self._client.close()

    @property
    def database(self) -> Any:
        """The pymongo database, for administrative commands (create-indexes)."""
        return self._db


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
def _errors() -> Iterator[None]:
    """Map driver errors onto the gateway's: down or slow -> unavailable; a query the
    server rejects -> the client's error when its code says so, else internal."""
    try:
        yield
    except (ServerSelectionTimeoutError, AutoReconnect, NetworkTimeout, ConnectionFailure) as exc:
        raise StoreUnavailable(f"the database is unreachable ({type(exc).__name__}).") from exc
    except ExecutionTimeout as exc:
        raise StoreUnavailable("the database did not answer within the time budget (maxTimeMS).") from exc
    except OperationFailure as exc:
        if _caused_by_client(exc):
            raise QueryRejected(
                f"the database rejected the query: {exc.details.get('errmsg', exc) if exc.details else exc}"
            ) from exc
        raise InternalError() from exc
    except PyMongoError as exc:
        raise InternalError() from exc
