"""The embedded engine's worker threads, shared fairly between domains.

Queries wait in one queue per domain, and the workers take them round-robin by domain,
each domain with at most one query running at a time: a tenant that sends many costly
queries waits behind its own, while another tenant's query runs beside them at once
(the interpreter shares the CPU between the running queries, and every query gives the
lock up at its budget checks, ``budget.checked``). Reads run side by side; a write
(a live demo's ``insert_one``/``update_one`` and the index builds they cause) runs
alone: once one is queued, no read starts until it has run after the running ones.

A query's future can be cancelled while it waits (its caller's budget ran out, see
``memory.MemoryJobStore._run``): it is then never run. One running past its deadline
stops at its next budget check.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

WORKERS = 4  # queries of different domains running at once


@dataclass
class _Task:
    domain: Hashable
    call: Callable[[], Any]
    exclusive: bool
    future: Future[Any] = field(default_factory=Future)


class Scheduler:
    """Runs calls on up to ``workers`` threads (started on demand), round-robin by
    domain, one running call per domain; ``exclusive`` calls run alone. ``fair=False``
    puts every domain in one queue (first come, first served: the comparison
    ``bench/fairness.py`` measures against)."""

    def __init__(self, workers: int = WORKERS, name: str = "embedded-engine", *, fair: bool = True) -> None:
        self._workers = workers
        self._fair = fair
        self._name = name
        self._cond = threading.Condition()
        self._queues: dict[Hashable, deque[_Task]] = {}
        self._turns: deque[Hashable] = deque()  # domains with queued calls, in turn order
        self._writes: deque[_Task] = deque()  # exclusive calls, in arrival order
        self._running: set[Hashable] = set()
        self._exclusive_running = False
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._closed = False

    def submit(self, domain: Hashable, call: Callable[[], Any], *, exclusive: bool = False) -> Future[Any]:
        """Queue ``call`` in ``domain``'s turn; its future gives its result or error.
        Raises ``RuntimeError`` once closed."""
        task = _Task(domain if self._fair else None, call, exclusive)
        with self._cond:
            if self._closed:
                raise RuntimeError("the embedded engine is closed")
            if exclusive:
                self._writes.append(task)
            else:
                queue = self._queues.get(task.domain)
                if queue is None:
                    queue = self._queues[task.domain] = deque()
                    self._turns.append(task.domain)
                queue.append(task)
            if not self._idle and len(self._threads) < self._workers:
                thread = threading.Thread(target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True)
                self._threads.append(thread)
                thread.start()
            self._cond.notify_all()
        return task.future

    def close(self) -> None:
        """Cancel every queued call and let the workers end (running calls finish)."""
        with self._cond:
            self._closed = True
            for task in chain(self._writes, *self._queues.values()):
                task.future.cancel()
            self._writes.clear()
            self._queues.clear()
            self._turns.clear()
            self._cond.notify_all()

    def _next(self) -> _Task | None:
        """The next call that may run now, taken from its queue (called locked)."""
        if self._exclusive_running:
            return None
        if self._writes:
            return None if self._running else self._writes.popleft()
        for _ in range(len(self._turns)):
            domain = self._turns[0]
            self._turns.rotate(-1)  # taken or not, the domain's next turn is after the others'
            if domain in self._running:
                continue
            queue = self._queues[domain]
            task = queue.popleft()
            if not queue:
                del self._queues[domain]
                self._turns.remove(domain)
            return task
        return None

    def _work(self) -> None:
        while True:
            with self._cond:
                self._idle += 1
                task = self._next()
                while task is None and not self._closed:
                    self._cond.wait()
                    task = self._next()
                self._idle -= 1
                if task is None:
                    return
                self._running.add(task.domain)
                self._exclusive_running = task.exclusive
            try:
                if task.future.set_running_or_notify_cancel():
                    try:
                        result = task.call()
                    except BaseException as exc:  # handed to the caller through its future
                        task.future.set_exception(exc)
                    else:
                        task.future.set_result(result)
            finally:
                with self._cond:
                    self._running.discard(task.domain)
                    self._exclusive_running = False
                    self._cond.notify_all()
