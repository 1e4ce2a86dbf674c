"""The store interface every engine implements.

Small on purpose: what the service needs and nothing that would tempt it to do the
database's work in Python. Filters, sorts, projections and pipelines are MongoDB's own
forms, so the engine below only forwards them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
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
    ) -> list[Document]:
        """The documents of ``collection`` matching ``filter`` (a MongoDB query
        document), as MongoDB's ``find``: only the ``projection``'s fields when one is
        given (MongoDB's projection document), ordered by ``sort`` ((field, 1 or -1)
        pairs, first key first; unordered without one), ``skip`` rows left out first,
        at most ``limit`` returned (0: no limit, as in MongoDB). Raises
        ``StoreUnavailable`` (or its ``QueryTimedOut``) when the database cannot answer
        within the request's budget, ``QueryRejected`` for a query the database refuses,
        ``UnsupportedByEngine`` for one the embedded engine does not implement."""
        ...

    async def count(self, collection: Collection, filter: Mapping[str, Any]) -> int:
        """How many documents of ``collection`` match ``filter``, as MongoDB's
        ``countDocuments``. Raises as ``find``."""
        ...

    async def aggregate(
        self, collection: Collection, pipeline: Sequence[Mapping[str, Any]], *, read: ReadPurpose = "stat"
    ) -> list[Document]:
        """The output documents of ``pipeline`` (MongoDB aggregation stages; a
        ``$lookup``'s ``from`` names a logical collection) run on ``collection``, as
        MongoDB's ``aggregate``. ``read`` says whose read preference applies
        (statistics by default, or that of lists for a page that needs a pipeline).
        Raises as ``find``."""
        ...

    async def distinct(self, collection: Collection, key: str, filter: Mapping[str, Any]) -> list[Any]:
        """The distinct values of the dotted path ``key`` among the documents matching
        ``filter``, as MongoDB's ``distinct`` (an array's elements count one by one;
        missing values are left out; in no particular order). Raises as ``find``."""
        ...

    async def ping(self) -> None:
        """Raise ``StoreUnavailable`` when the database cannot be reached."""
        ...

    async def close(self) -> None:
        """Release the engine's connections or worker; no call may follow."""
        ...


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

    def watch(
        self, collection: Collection, *, resume_after: Any = None, opened: Callable[[], None] | None = None
    ) -> AsyncIterator[Change]:
        """The changes of ``collection`` from now on (or after ``resume_after``, a
        resume token of an earlier change); ``opened`` is called once the stream is open
        (every change from then on will come). Raises ``ChangesUnsupported`` when the
        database has no change streams, ``StoreUnavailable`` when it cannot be
        reached (resume after the last change seen)."""
        ...
