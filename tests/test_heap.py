"""Freed memory given back to the system after a burst of subscribers leaves
(gateway.heap): when, and how often."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable

import pytest

from gateway import heap
from gateway.heap import HeapRelease, glibc_trim

pytestmark = pytest.mark.anyio


class Trim:
    """A stand-in for glibc's malloc_trim that notes when it is called."""

    def __init__(self) -> None:
        self.at: list[float] = []

    @property
    def calls(self) -> int:
        return len(self.at)

    def __call__(self) -> int:
        self.at.append(time.monotonic())
        return 1


async def until(condition: Callable[[], bool], within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        while not condition():
            await asyncio.sleep(0.01)


@pytest.fixture(autouse=True)
def quick_settle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "SETTLE_SECONDS", 0.1)


async def test_a_count_fallen_to_half_its_peak_releases_once_per_interval() -> None:
    trim = Trim()
    release = HeapRelease(interval=1.0, trim=trim)
    for count in [*range(1, 101), *range(99, 50, -1)]:
        release(count)
    await asyncio.sleep(0.3)
    assert trim.calls == 0  # 51 of a peak of 100: not yet
    fell = time.monotonic()
    release(50)
    await until(lambda: trim.calls == 1)  # half the peak: released
    assert trim.at[0] - fell >= 0.1 - 0.01  # after the settling time
    for count in [*range(51, 101), *range(99, 10, -1)]:  # a second burst at once
        release(count)
    await until(lambda: trim.calls == 2)
    assert trim.at[1] - trim.at[0] >= 1.0 - 0.05  # not before the interval since the first
    assert release.releases == 2


async def test_small_counts_and_no_trim_release_nothing() -> None:
    trim = Trim()
    small = HeapRelease(interval=0, trim=trim)
    for count in (1, 5, 9, 2, 0):
        small(count)
    never = HeapRelease(interval=0)
    never.trim = None
    for count in (100, 0):
        never(count)
    await asyncio.sleep(0.5)
    assert trim.calls == 0 and small.releases == 0 and never.releases == 0


async def test_a_pending_release_is_forgotten_at_close() -> None:
    trim = Trim()
    release = HeapRelease(interval=0, trim=trim)
    release(100)
    release(0)
    release.close()
    await asyncio.sleep(0.5)
    assert trim.calls == 0


async def test_the_release_waits_for_the_count_to_stop_falling_but_not_past_the_interval() -> None:
    trim = Trim()
    release = HeapRelease(interval=1.5, trim=trim)
    release(100)
    start = time.monotonic()
    for count in (50, 40, 30, 20, 10, 0):  # subscribers leaving over 0.3 s
        release(count)
        await asyncio.sleep(0.05)
    last_fall = time.monotonic() - 0.05
    await until(lambda: trim.calls == 1)
    assert trim.at[0] - last_fall >= 0.1 - 0.01  # once, after the whole fall settled
    await asyncio.sleep(1.6)  # the interval since that release
    release(100)
    churn_from = time.monotonic()
    while time.monotonic() - churn_from < 2.5:  # churn that never settles
        release(int(time.monotonic() * 100) % 2)
        await asyncio.sleep(0.02)
    assert trim.calls == 2  # released by the interval anyway
    assert trim.at[1] - churn_from <= 1.5 + 0.5 and trim.at[0] - start < 1.5


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim is Linux's")
def test_glibc_trim_answers_where_the_c_library_is_glibc() -> None:
    import platform

    trim = glibc_trim()
    if platform.libc_ver()[0] != "glibc":
        assert trim is None
    else:
        assert trim is not None and trim() in (0, 1)
