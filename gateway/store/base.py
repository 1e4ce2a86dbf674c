"""The store interface every engine implements.

Small on purpose: what the service needs and nothing that would tempt it to do the
database's work in Python. Filters, sorts, projections and pipelines are MongoDB's own
forms, so the engine below only forwards them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

Collection = Literal["job", "collector"]
JOB: Collection = "job"
COLLECTOR: Collection = "collector"

Document = dict[str, Any]
ReadPurpose = Literal["list", "stat"]
SortSpec = Sequence[tuple[str, int]]


class JobStore(Protocol):
    """Async access to the job and collector collections (logical names)."""

    async def find(
        self,
        collection: Collection,
        filter: Mapping[str, Any],
        *,
        projection: Mapping[str, Any] | None = None,
        sort: SortSpec | None = None,
        skip: int = 0,
        limit: int = 0,
    ) -> list[Document]: ...

    async def count(self, collection: Collection, filter: Mapping[str, Any]) -> int: ...

    async def aggregate(
        self, collection: Collection, pipeline: Sequence[Mapping[str, Any]], *, read: ReadPurpose = "stat"
    ) -> list[Document]:
        """Run a pipeline; ``read`` says whose read preference applies (statistics by
        default, or that of lists for a page that needs a pipeline)."""
        ...

    async def distinct(self, collection: Collection, key: str, filter: Mapping[str, Any]) -> list[Any]: ...

    async def ping(self) -> None:
        """Raise ``StoreUnavailable`` when the database cannot be reached."""
        ...

    async def close(self) -> None: ...
