"""The embedded engine shares its workers fairly between domains (``gateway/store/
scheduler.py``): one tenant's many costly requests never hold another's small one
behind them, and the time a request waits for a worker is part of its budget (as
MongoDB's ``maxTimeMS`` counts from the operation's start, https://www.mongodb.com/docs/manual/reference/method/cursor.maxTimeMS/).

Asserted by events and the order of completions, never by wall-clock thresholds.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import CancelledError
from datetime import datetime
from typing import Any

import pytest

from gateway.errors import QueryTimedOut
from gateway.store.memory import MemoryJobStore
from gateway.store.scheduler import Scheduler
from gateway.store.tables import Table

WAIT = 30  # seconds: a guard against a hang, never reached when the test passes


class _Calls:
    """Calls that record when they start and end, and can be held at a gate."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.ended: list[str] = []
        self.gates: dict[str, threading.Event] = {}
        self.running: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def make(self, name: str, *, held: bool = False) -> Any:
        if held:
            self.gates[name] = threading.Event()
        self.running[name] = threading.Event()

        def call() -> str:
            with self._lock:
                self.started.append(name)
            self.running[name].set()
            if name in self.gates:
                assert self.gates[name].wait(WAIT)
            with self._lock:
                self.ended.append(name)
            return name

        return call


def test_another_domain_runs_beside_a_busy_one() -> None:
    """Domain a's first call holds; its other calls wait their turn, b's runs at once."""
    scheduler, calls = Scheduler(), _Calls()
    first = scheduler.submit("a", calls.make("a1", held=True))
    assert calls.running["a1"].wait(WAIT)
    queued = [scheduler.submit("a", calls.make(f"a{i}")) for i in range(2, 6)]
    assert scheduler.submit("b", calls.make("b1")).result(WAIT) == "b1"
    assert calls.started == ["a1", "b1"], "one running call per domain; b did not wait for a"
    calls.gates["a1"].set()
    assert [f.result(WAIT) for f in [first, *queued]] == ["a1", "a2", "a3", "a4", "a5"]
    assert calls.started == ["a1", "b1", "a2", "a3", "a4", "a5"], "a domain's calls run in order"
    scheduler.close()


def test_domains_take_turns_on_one_worker() -> None:
    """With one worker, a domain with many queued calls gets one turn per round."""
    scheduler, calls = Scheduler(workers=1), _Calls()
    futures = [scheduler.submit("a", calls.make("a1", held=True))]
    assert calls.running["a1"].wait(WAIT)
    futures += [scheduler.submit("a", calls.make(f"a{i}")) for i in range(2, 5)]
    futures += [scheduler.submit("b", calls.make("b1")), scheduler.submit("c", calls.make("c1"))]
    calls.gates["a1"].set()
    for future in futures:
        future.result(WAIT)
    order = calls.started
    assert order.index("b1") < order.index("a3") and order.index("c1") < order.index("a3"), order
    assert [n for n in order if n.startswith("a")] == ["a1", "a2", "a3", "a4"]
    scheduler.close()


def test_a_write_runs_alone() -> None:
    """A write waits for the running reads; reads queued after it wait for it."""
    scheduler, calls = Scheduler(), _Calls()
    read = scheduler.submit("a", calls.make("read-a", held=True))
    assert calls.running["read-a"].wait(WAIT)
    write = scheduler.submit(None, calls.make("write", held=True), exclusive=True)
    later = scheduler.submit("b", calls.make("read-b"))
    assert not calls.running["write"].wait(0.2) and calls.started == ["read-a"]
    calls.gates["read-a"].set()
    read.result(WAIT)
    assert calls.running["write"].wait(WAIT)
    assert not calls.running["read-b"].wait(0.2) and calls.started == ["read-a", "write"]
    calls.gates["write"].set()
    write.result(WAIT)
    assert later.result(WAIT) == "read-b"
    scheduler.close()


def test_a_cancelled_call_never_runs() -> None:
    scheduler, calls = Scheduler(), _Calls()
    first = scheduler.submit("a", calls.make("a1", held=True))
    assert calls.running["a1"].wait(WAIT)
    second = scheduler.submit("a", calls.make("a2"))
    assert second.cancel()
    third = scheduler.submit("a", calls.make("a3"))
    calls.gates["a1"].set()
    assert first.result(WAIT) == "a1" and third.result(WAIT) == "a3"
    with pytest.raises(CancelledError):
        second.result(WAIT)
    assert calls.started == ["a1", "a3"]
    scheduler.close()
    with pytest.raises(RuntimeError):
        scheduler.submit("a", calls.make("a4"))


def _store(max_time_ms: int, heavy: int) -> MemoryJobStore:
    store = MemoryJobStore(max_time_ms=max_time_ms)
    at = datetime(2024, 5, 1)
    store.insert(
        "job",
        [{"domain_id": "heavy", "status": ("SUCCESS", "ERROR")[i % 2], "created_at": at} for i in range(heavy)]
        + [{"domain_id": "light", "status": "SUCCESS", "created_at": at} for _ in range(3)],
    )
    store.prepare()
    return store


@pytest.mark.anyio
async def test_a_heavy_tenant_does_not_hold_a_small_query_behind_its_own() -> None:
    """Eight costly stat requests of one domain, then one small count of another: the
    small one answers before the heavy domain's second request (on one first-come
    worker it answered last, after all eight)."""
    store = _store(max_time_ms=120_000, heavy=40_000)
    stat = [
        {"$match": {"domain_id": "heavy"}},
        {"$group": {"_id": {"s": "$status", "d": "$created_at"}, "n": {"$sum": 1}}},
        {"$sort": {"_id.s": 1}},
    ]
    done: list[str] = []

    async def heavy(i: int) -> None:
        assert len(await store.aggregate("job", stat)) == 2
        done.append(f"heavy-{i}")

    async def light() -> None:
        assert await store.count("job", {"domain_id": "light", "status": "SUCCESS"}) == 3
        done.append("light")

    tasks = [asyncio.create_task(heavy(i)) for i in range(8)]
    await asyncio.sleep(0)  # the heavy requests are queued first
    await asyncio.gather(*tasks, asyncio.create_task(light()))
    assert done.index("light") <= 1, done
    await store.close()


@pytest.mark.anyio
async def test_time_queued_counts_in_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """A request queued behind its own domain's running one past its budget gets the
    time-out error and is never run; one running past it is answered with the
    time-out at once; another domain's request is answered meanwhile."""
    store = _store(max_time_ms=1000, heavy=10)  # time enough for the other domain's count on a loaded machine
    gate, holding = threading.Event(), threading.Event()
    counted: list[Any] = []
    real_count = Table.count

    def count(table: Table, filter: Any) -> int:
        counted.append(filter)
        if filter.get("status") == "hold":
            holding.set()
            assert gate.wait(WAIT)
        return real_count(table, filter)

    monkeypatch.setattr(Table, "count", count)
    held = asyncio.create_task(store.count("job", {"domain_id": "heavy", "status": "hold"}))
    assert await asyncio.to_thread(holding.wait, WAIT)
    queued = asyncio.create_task(store.count("job", {"domain_id": "heavy", "status": "queued"}))
    assert await store.count("job", {"domain_id": "light"}) == 3
    for task in (queued, held):
        with pytest.raises(QueryTimedOut):
            await asyncio.wait_for(task, WAIT)
    gate.set()
    assert [f.get("status") for f in counted] == ["hold", None], "the queued request never ran"
    await store.close()
