"""The deadline of one embedded query (what is left of its request's time budget).

A query runs on the engine's worker thread and calls ``check()`` as it goes (every few
dozen documents); past the deadline it raises ``QueryTimedOut``, the error a MongoDB
``maxTimeMS`` expiry maps to, and the worker is free again. Every loop over documents
checks, and every step inside it is bounded (regular expressions match in linear
time), so no query can hold the worker much past its budget. Each check also yields
the interpreter lock for a moment, so the event loop's thread never waits for a busy
worker longer than a check's interval (not the interpreter's 5 ms switch interval, paid
again at every step of a request).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

from gateway.errors import QueryTimedOut

T = TypeVar("T")
_EVERY = 32


class Budget:
    """A deadline ``seconds`` from now (``time.monotonic``): what is left of a request's
    time budget of ``budget_ms`` (named in the error)."""

    def __init__(self, seconds: float, budget_ms: int) -> None:
        self.deadline = time.monotonic() + seconds
        self.budget_ms = budget_ms

    def check(self) -> None:
        """Raise ``QueryTimedOut`` (naming ``budget_ms``) once the deadline has passed;
        the engine's loops call it between documents, so a query stops within one
        document's work of its deadline."""
        if time.monotonic() > self.deadline:
            raise QueryTimedOut(self.budget_ms)
        time.sleep(0)  # let a waiting thread (the event loop's) take the interpreter lock


_local = threading.local()


def current() -> Budget | None:
    """The budget of the query running on this thread, if any."""
    return getattr(_local, "budget", None)


class running:
    """Context manager: ``budget`` is the current thread's while the block runs."""

    def __init__(self, budget: Budget) -> None:
        self._budget = budget

    def __enter__(self) -> Budget:
        _local.budget = self._budget
        return self._budget

    def __exit__(self, *exc: object) -> None:
        _local.budget = None


def checked(items: Iterable[T]) -> Iterator[T]:
    """``items``, checking the current budget every few hundred of them."""
    budget = current()
    if budget is None:
        yield from items
        return
    check = budget.check
    for i, item in enumerate(items):
        if not i % _EVERY:
            check()
        yield item
