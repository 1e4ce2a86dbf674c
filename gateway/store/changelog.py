"""The embedded engine's record of recent changes, which a watch resumes after: its
oplog.

A change stream opened with ``fullDocument: updateLookup`` reports an insert with the
document inserted (the oplog holds it) and an update with the document as it is when
the event is read, looked up then
(https://www.mongodb.com/docs/manual/changeStreams/#lookup-full-document-for-update-operations).
The log keeps what that needs and no more: an insert's document, an update's key.
It is a ring of fixed size, filled in place, so that a change recorded allocates
nothing that outlives the ring's oldest entry: a long-running live process
(``--simulate``, a bench's writes) does not scatter small long-lived objects across
the heap, where each would keep memory freed around it from returning to the system.
"""

from __future__ import annotations

from typing import Any

from gateway.store.base import Change, ChangeOperation, Collection
from gateway.store.projection import copy

_OPERATIONS: tuple[ChangeOperation, ...] = ("insert", "update", "replace", "delete")


class ChangeLog:
    """The last ``size`` changes, by resume token (consecutive integers from 1, the
    engine's change sequence), in a ring of ``size`` slots."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._last = 0  # the resume token of the newest change recorded; 0: none yet
        self._collections: list[Collection | None] = [None] * size
        self._operations = bytearray(size)
        self._keys: list[Any] = [None] * size
        self._documents: list[Any] = [None] * size

    def append(self, collection: Collection, change: Change) -> None:
        """Record ``change`` (its ``resume_token`` must follow the last one recorded);
        the oldest change is forgotten once ``size`` are held."""
        token = change.resume_token
        if token != self._last + 1:
            raise ValueError(f"change {token} recorded after {self._last}: resume tokens must be consecutive")
        slot = token % self._size
        self._collections[slot] = collection
        self._operations[slot] = _OPERATIONS.index(change.operation)
        self._keys[slot] = change.key  # the stored document's own _id: nothing new
        # An insert's document: the log's own copy, which no watcher can change.
        self._documents[slot] = copy(change.document) if change.operation == "insert" else None
        self._last = token

    def lost(self, resume_after: int) -> bool:
        """Whether a change after ``resume_after`` is no longer held: resuming there
        would skip it (MongoDB: error 286, ChangeStreamHistoryLost)."""
        return resume_after + 1 < max(self._last - self._size + 1, 1)

    def since(self, collection: Collection, resume_after: int) -> list[Change]:
        """The changes of ``collection`` after the one whose token is ``resume_after``
        that the ring still holds, oldest first; an update's ``document`` is None (look
        it up, as ``updateLookup`` does)."""
        first = max(resume_after + 1, self._last - self._size + 1, 1)
        out = []
        for token in range(first, self._last + 1):
            slot = token % self._size
            if self._collections[slot] == collection:
                operation = _OPERATIONS[self._operations[slot]]
                out.append(Change(operation, self._keys[slot], self._documents[slot], resume_token=token))
        return out
