"""The store interface every engine implements.

Small on purpose: what the service needs and nothing that would tempt it to do the
database's work in Python. Filters, sorts, projections and pipelines are MongoDB's own
forms, so the engine below only forwards them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Collection = Literal["job", "collector"]
JOB: Collection = "job"
COLLECTOR: Collection = "collector"

Document = dict[str, Any]
# The logical collection names, mapped to the database's own by each engine.
DEFAULT_NAMES: Mapping[Collection, str] = {JOB: "job", COLLECTOR: "collector"}
ReadPurpose = Literal["list", "stat"]
SortSpec = Sequence[tuple[str, int]]


def physical_pipeline(pipeline: Sequence[Mapping[str, Any]], names: Mapping[Collection, str]) -> list[Document]:
    """``pipeline`` with each ``$lookup``'s ``from`` (logical: ``job``/``collector``)
    replaced by the collection's name in the database; ``$facet`` branches and
    ``$lookup`` sub-pipelines included."""

    def stage(node: Mapping[str, Any]) -> Document:
        out = dict(node)
        if isinstance(out.get("$lookup"), Mapping):
            lookup = dict(out["$lookup"])
            logical = lookup.get("from")
            if logical in (JOB, COLLECTOR):
                lookup["from"] = names[logical]
            if isinstance(lookup.get("pipeline"), list):
                lookup["pipeline"] = [stage(s) for s in lookup["pipeline"]]
            out["$lookup"] = lookup
        if isinstance(out.get("$facet"), Mapping):
            out["$facet"] = {k: [stage(s) for s in v] for k, v in out["$facet"].items()}
        return out

    return [stage(s) for s in pipeline]


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


# -- change events (live subscriptions, gateway.live) ------------------------------

ChangeOperation = Literal["insert", "update", "replace", "delete"]


@dataclass(frozen=True)
class Change:
    """One change of a stored document, as a MongoDB change stream reports it: what
    happened, the document's ``_id``, the whole document as it now is (the change
    stream's ``fullDocument``; None for a delete), and the position a watch resumes
    after (its resume token; None where the engine has none)."""

    operation: ChangeOperation
    key: Any
    document: Document | None
    resume_token: Any = None


class ChangesUnsupported(Exception):
    """The database cannot stream its changes (a standalone MongoDB server has no
    change streams): changes must be found by polling."""


class ChangeFeed(Protocol):
    """A store that streams the changes of a collection (the embedded engine emits
    its own; MongoDB's change streams on a replica set)."""

    def watch(self, collection: Collection, *, resume_after: Any = None) -> AsyncIterator[Change]:
        """The changes of ``collection`` from now on (or after ``resume_after``, a
        resume token of an earlier change). Raises ``ChangesUnsupported`` when the
        database has no change streams, ``StoreUnavailable`` when it cannot be
        reached (resume after the last change seen)."""
        ...
