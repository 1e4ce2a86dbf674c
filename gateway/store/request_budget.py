"""One time budget for all the database work of one request.

The HTTP layer opens a budget per request (``request_budget()``); an engine with a
clock spends it: the request's first database call starts the clock, and every call
gets what is left (``remaining``), so the calls of one request — in sequence or in
parallel, retries included — share one budget. Outside a request (the CLI, a store
used directly) each call has the whole budget. Pure: no driver, no I/O.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class _Clock:
    started: float | None = None  # time.monotonic() of the request's first database call


# Tasks a request starts (parallel calls, DataLoader batches) copy the context, and so
# share the one mutable clock.
_CURRENT: ContextVar[_Clock | None] = ContextVar("job_gateway_database_budget", default=None)


@contextmanager
def request_budget() -> Iterator[None]:
    """Everything inside is one request: its database calls share one budget."""
    token = _CURRENT.set(_Clock())
    try:
        yield
    finally:
        _CURRENT.reset(token)


def remaining(budget: float) -> float:
    """Seconds left of ``budget`` seconds for the current request's database work,
    starting its clock on the first call; ``budget`` itself outside a request. May be
    zero or negative: the budget is spent."""
    clock = _CURRENT.get()
    if clock is None:
        return budget
    now = time.monotonic()
    if clock.started is None:
        clock.started = now
    return budget - (now - clock.started)
