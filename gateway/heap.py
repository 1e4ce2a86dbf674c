"""Giving freed memory back to the system after a burst of subscribers.

CPython keeps the memory it frees for reuse. Its small-object allocator (pymalloc)
returns an arena (1 MiB) to the system only once every object in it is gone; glibc's
``malloc`` returns the free pages inside its heap only when asked to, by
``malloc_trim`` (https://man7.org/linux/man-pages/man3/malloc_trim.3.html). After a
burst, such as a thousand subscribers connecting and then leaving, a process would
otherwise stay at its high-water mark.

``HeapRelease`` asks. It follows a count (the active subscriptions): when the count
falls to half of its peak since the last release or lower, it calls glibc's
``malloc_trim(0)`` on a worker thread once the count has stopped falling for
``SETTLE_SECONDS`` (the leaving connections' memory freed meanwhile), after a full
collection of reference cycles; at most once every ``interval`` seconds, and at most
``interval`` seconds after the count fell, however long it goes on falling. Where
the C library is not glibc, it does nothing. How much memory comes back depends on the
allocator the interpreter runs with: docs/performance.md measures both.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

SETTLE_SECONDS = 1.0  # after the count falls, before the release: the rest of the burst leaves
MIN_PEAK = 10  # a peak below this is no burst: nothing to give back


def glibc_trim() -> Callable[[], int] | None:
    """glibc's ``malloc_trim(0)`` (1 if memory was released, else 0), or None where
    the C library has none (musl, macOS, Windows)."""
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the process's own C library: no search
    except (OSError, AttributeError, TypeError):  # no such symbol; TypeError: Windows
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return lambda: int(trim(0))


class HeapRelease:
    """Call it with each new value of the count it follows (a ``ChangeHub``'s
    ``on_count``); it releases as the module docstring says. ``trim`` is the release
    (glibc's by default; None: never release); ``interval`` is the least time between
    two releases, in seconds."""

    def __init__(self, *, interval: float = 10.0, trim: Callable[[], int] | None = None) -> None:
        self.trim = trim if trim is not None else glibc_trim()
        self.interval = interval
        self.releases = 0
        self._peak = 0
        self._last = -interval  # loop time of the last release
        self._deadline = 0.0  # a pending release happens by then, however the count moves
        self._pending: asyncio.TimerHandle | None = None

    def __call__(self, count: int) -> None:
        self._peak = max(self._peak, count)
        if self.trim is None or self._peak < MIN_PEAK or count * 2 > self._peak:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        earliest = self._last + self.interval
        if self._pending is None:
            self._deadline = max(now + self.interval, earliest)
        else:
            self._pending.cancel()  # still falling: wait until it settles, but not past the deadline
        when = min(max(now + SETTLE_SECONDS, earliest), self._deadline)
        self._pending = loop.call_at(when, self._release)

    def _release(self) -> None:
        self._pending = None
        loop = asyncio.get_running_loop()
        self._last = loop.time()
        self._peak = 0  # the next burst is measured from here
        self.releases += 1
        gc.collect()  # what only the cycle collector frees (a few ms: few objects outlive a burst)
        assert self.trim is not None
        future = loop.run_in_executor(None, self.trim)
        future.add_done_callback(self._released)

    @staticmethod
    def _released(future: asyncio.Future[int]) -> None:
        if future.cancelled():
            return
        if future.exception() is not None:
            log.warning("releasing freed memory failed: %r", future.exception())
        else:
            log.debug("freed memory given back to the system (malloc_trim: %s)", future.result())

    def close(self) -> None:
        """Forget a pending release (at shutdown)."""
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
