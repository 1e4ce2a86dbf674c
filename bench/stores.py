"""Stores for benchmarks.

`ZeroCostStore` takes the store's cost out of a measurement: it answers each distinct
call once from the store it wraps, then from memory, as an indexed MongoDB query on a
warm cache nearly does. What remains of a request's time is the gateway's own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from gateway.store.base import Collection, Document, JobStore, ReadPurpose, SortSpec


class ZeroCostStore:
    """A JobStore that memoizes every data call by its arguments. The first call of a
    kind costs what the wrapped store costs; repeats cost a dictionary lookup (the key
    is the arguments' ``repr``, a few microseconds). Answers are shared between calls:
    the gateway never mutates what a store returns. Calls whose arguments change every
    time (relative instants such as ``now-1d``) are never repeated, so they are not
    free; the benchmark scenarios it serves avoid them."""

    def __init__(self, inner: JobStore) -> None:
        self._inner = inner
        self._answers: dict[str, Any] = {}

    async def _answer(self, call: Callable[[], Awaitable[Any]], *key: Any) -> Any:
        memo = repr(key)
        if memo not in self._answers:
            self._answers[memo] = await call()
        return self._answers[memo]

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
        inner = self._inner
        return list(
            await self._answer(
                lambda: inner.find(collection, filter, projection=projection, sort=sort, skip=skip, limit=limit),
                "find",
                collection,
                filter,
                projection,
                sort,
                skip,
                limit,
            )
        )

    async def count(self, collection: Collection, filter: Mapping[str, Any]) -> int:
        count: int = await self._answer(lambda: self._inner.count(collection, filter), "count", collection, filter)
        return count

    async def aggregate(
        self, collection: Collection, pipeline: Sequence[Mapping[str, Any]], *, read: ReadPurpose = "stat"
    ) -> list[Document]:
        return list(
            await self._answer(
                lambda: self._inner.aggregate(collection, pipeline, read=read), "aggregate", collection, pipeline, read
            )
        )

    async def distinct(self, collection: Collection, key: str, filter: Mapping[str, Any]) -> list[Any]:
        return list(
            await self._answer(
                lambda: self._inner.distinct(collection, key, filter), "distinct", collection, key, filter
            )
        )

    async def ping(self) -> None:
        await self._inner.ping()

    async def close(self) -> None:
        await self._inner.close()
