"""The hub: the process's job changes matched against every subscription, in the
database, and fanned out.

Changes are taken from the process's one source (``sources.ChangeSource``) in small
batches (``window`` seconds). For each domain a batch touches, the subscriptions of
that domain are matched with one query (``JobService.matching``: a ``$facet`` of their
compiled filters - the lists' own compiler, scope included - over the changed jobs;
subscriptions asking alike share one facet), never by a second filter in Python. So a
subscriber only ever sees jobs its scope and filter select, whatever the change.

A job changed more than once in a batch is matched and sent once, as its latest change
shows it (``latest_per_job``): the database matches the job as it now is, so an earlier
version - a job still CREATED, for a subscriber of IN_PROGRESS jobs - would be sent
where the filter does not select it.

- A ``Subscription`` (``jobChanged``) receives each matching change in a bounded
  queue; a subscriber that lets it fill is closed (``SlowConsumer``) rather than
  buffered without end. The collectors of a batch's jobs are read once for all its
  subscribers (``Batch``).
- A ``LiveList`` (``jobsLive``) is shared by the subscribers asking the same list; a
  change that matches its filter or touches a job it shows makes it run its query
  again, at most once per ``live_interval``, and pushes the rows when they differ.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from gateway.errors import SlowConsumer
from gateway.live.sources import ChangeSource
from gateway.query.collectors import CollectorRef
from gateway.service import JobService, Watch
from gateway.store.base import Change, Document

log = logging.getLogger("gateway.live")
MAX_BATCH = 1000
STOP_SECONDS = 5.0  # the longest the hub waits for its change source to stop
READY_SECONDS = 5.0  # the longest a first subscriber waits for the change source to open


def latest_per_job(changes: list[Change]) -> list[Change]:
    """Each job's latest change of ``changes``, in the order the jobs first changed; an
    ``insert`` when the job was inserted among them (then updated: inserted as it now is)."""
    latest: dict[Any, Change] = {}  # a key keeps the place of its first change
    inserted = set()
    for change in changes:
        latest[change.key] = change
        if change.operation == "insert":
            inserted.add(change.key)
    return [
        Change("insert", c.key, c.document, c.resume_token) if c.key in inserted and c.operation != "insert" else c
        for c in latest.values()
    ]


class Batch:
    """Changes of one domain dispatched together, and their jobs' collectors: read once,
    when a subscriber first shows one, for every subscriber of the batch."""

    def __init__(self, service: JobService, domain_id: str, changes: list[Change]) -> None:
        self.service, self.domain_id = service, domain_id
        self.jobs = [c.document for c in changes if c.document is not None]
        self._collectors: asyncio.Future[dict[CollectorRef, Document]] | None = None

    async def collectors(self) -> dict[CollectorRef, Document]:
        """Each collector the batch's jobs name that exists in the domain, by reference
        (``JobService.collectors_of``: one store call for the batch)."""
        if self._collectors is None:
            self._collectors = asyncio.ensure_future(self.service.collectors_of(self.domain_id, self.jobs))
        return await asyncio.shield(self._collectors)


@dataclass(frozen=True)
class Delivery:
    """A change handed to a subscriber, with the batch it came in."""

    change: Change
    batch: Batch


class Subscription:
    """One ``jobChanged`` subscriber's end: the changes its watch selects, in order."""

    def __init__(self, watch: Watch, size: int) -> None:
        self.watch = watch
        self.queue: asyncio.Queue[Delivery] = asyncio.Queue(maxsize=size)
        self.overflowed = False

    def offer(self, delivery: Delivery) -> bool:
        """Queue ``delivery``; False (and the subscription overflowed) when it is full."""
        if self.overflowed:
            return False
        try:
            self.queue.put_nowait(delivery)
        except asyncio.QueueFull:
            self.overflowed = True
            return False
        return True

    async def next(self, timeout: float | None = None) -> Delivery:
        """The next change; ``SlowConsumer`` once the queue has overflowed,
        ``TimeoutError`` after ``timeout`` seconds without one."""
        if self.overflowed:
            raise SlowConsumer(
                f"the subscriber fell {self.queue.maxsize} events behind and was closed; read events as they come "
                "or subscribe to fewer jobs."
            )
        async with asyncio.timeout(timeout):
            return await self.queue.get()


@dataclass(eq=False)
class LiveList:
    """A list query shared by its subscribers: re-run when touched (debounced), its
    rows pushed to each subscriber's slot when they change."""

    watch: Watch
    run: Callable[[], Awaitable[Any]]
    interval: float
    shown: frozenset[Any] = frozenset()
    rows: Any = None
    version: int = 0
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    subscribers: int = 0
    first: asyncio.Future[None] | None = None  # the first run, that every subscriber waits for
    _pending: asyncio.Task[None] | None = None

    async def refresh(self) -> None:
        """Run the query; a new version when the rows differ."""
        rows, shown = await self.run()
        if rows != self.rows:
            self.rows, self.shown = rows, frozenset(shown)
            async with self.changed:
                self.version += 1
                self.changed.notify_all()

    def touch(self) -> None:
        """A change concerns the list: run it again, within ``interval``."""
        if self._pending is None or self._pending.done():
            self._pending = asyncio.create_task(self._later())

    async def _later(self) -> None:
        await asyncio.sleep(self.interval)
        try:
            await self.refresh()
        except Exception:
            log.exception("a live list could not be refreshed")

    async def wait(self, seen: int, timeout: float | None = None) -> int:
        """Wait for a version newer than ``seen``; the newest."""
        async with asyncio.timeout(timeout), self.changed:
            await self.changed.wait_for(lambda: self.version > seen)
            return self.version

    def close(self) -> None:
        """Cancel the first run and a refresh waiting to run (on the hub's shutdown)."""
        for task in (self.first, self._pending):
            if task is not None:
                task.cancel()


@dataclass
class _Domain:
    subscriptions: set[Subscription] = field(default_factory=set)
    lists: dict[str, LiveList] = field(default_factory=dict)


class ChangeHub:
    """See the module docstring. Its first subscriber ``start``s it (a process nobody
    subscribes to keeps no change stream open); ``stop`` it on shutdown."""

    def __init__(
        self,
        service: JobService,
        source: ChangeSource,
        *,
        window: float = 0.02,
        live_interval: float = 0.5,
        queue_size: int = 100,
        on_delivered: Callable[[int], None] | None = None,
        on_count: Callable[[int], None] | None = None,
        on_batch: Callable[[], None] | None = None,
    ) -> None:
        self.service = service
        self.source = source
        self.window = window
        self.live_interval = live_interval
        self.queue_size = queue_size
        self._domains: dict[str, _Domain] = defaultdict(_Domain)
        self._task: asyncio.Task[None] | None = None
        self._delivered = on_delivered or (lambda n: None)
        self._count = on_count or (lambda n: None)
        self._batch = on_batch or (lambda: None)
        self.active = 0

    async def start(self) -> None:
        """Start reading the change source, in a task of the running loop (once), and
        wait until it is open (at most ``READY_SECONDS``: a database out of reach is
        watched once it answers), so that every change from then on reaches the
        subscriber that started it."""
        if self._task is None:
            # A context of its own: not the first subscriber's request (its request id,
            # its database budget), which the process's one source outlives.
            self._task = asyncio.create_task(self._run(), name="change-hub", context=contextvars.Context())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(READY_SECONDS):
                await self.source.ready.wait()

    async def stop(self) -> None:
        """Stop reading changes and cancel the live lists' pending refreshes."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for domain in self._domains.values():
            for live in domain.lists.values():
                live.close()

    def _counted(self, delta: int) -> None:
        self.active += delta
        self._count(self.active)

    @contextlib.contextmanager
    def subscribe(self, watch: Watch) -> Iterator[Subscription]:
        """A ``Subscription`` to the changes ``watch`` selects, while the block runs."""
        subscription = Subscription(watch, self.queue_size)
        domain = self._domains[watch.scope.domain_id]
        domain.subscriptions.add(subscription)
        self._counted(1)
        try:
            yield subscription
        finally:
            domain.subscriptions.discard(subscription)
            self._counted(-1)

    @contextlib.asynccontextmanager
    async def live(self, watch: Watch, key: str, run: Callable[[], Awaitable[Any]]) -> AsyncIterator[LiveList]:
        """The ``LiveList`` of the list ``key`` names (run by ``run``: (rows, the job ids
        shown)), shared with every subscriber asking the same, while the block runs."""
        domain = self._domains[watch.scope.domain_id]
        live = domain.lists.get(key)
        if live is None:
            live = domain.lists[key] = LiveList(watch, run, self.live_interval)
            live.first = asyncio.ensure_future(live.refresh())
        live.subscribers += 1
        self._counted(1)
        try:
            try:
                # Every subscriber, the first and those joining meanwhile, starts from
                # the first rows; when they cannot be read, the next subscriber tries again.
                assert live.first is not None
                await asyncio.shield(live.first)
            except Exception:
                if domain.lists.get(key) is live:
                    domain.lists.pop(key)
                raise
            yield live
        finally:
            live.subscribers -= 1
            self._counted(-1)
            if not live.subscribers:
                if domain.lists.get(key) is live:
                    domain.lists.pop(key)
                live.close()

    async def _run(self) -> None:
        changes: asyncio.Queue[Change] = asyncio.Queue()

        async def read() -> None:
            async for change in self.source.changes():
                changes.put_nowait(change)

        reader = asyncio.create_task(read(), name="change-source")
        try:
            while True:
                batch = [await changes.get()]
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.window):
                        while len(batch) < MAX_BATCH:
                            batch.append(await changes.get())
                try:
                    await self.dispatch(batch)
                except Exception:
                    log.exception("a batch of %d job changes could not be dispatched", len(batch))
        finally:
            reader.cancel()
            done, _ = await asyncio.wait({reader}, timeout=STOP_SECONDS)
            if not done:
                log.warning("the change source did not stop within %.0f s; shutting down without it", STOP_SECONDS)
            elif not reader.cancelled():
                reader.exception()  # retrieved: stopping, whatever ended the reader

    async def dispatch(self, batch: list[Change]) -> None:
        """Match a batch of changes with the subscriptions of their domains (one query
        per domain) and hand each subscriber what its watch selects."""
        by_domain: dict[str, list[Change]] = defaultdict(list)
        for change in batch:
            domain_id = (change.document or {}).get("domain_id")
            if isinstance(domain_id, str) and domain_id in self._domains:
                by_domain[domain_id].append(change)
        for domain_id, changes in by_domain.items():
            await self._dispatch_domain(self._domains[domain_id], domain_id, changes)

    async def _dispatch_domain(self, domain: _Domain, domain_id: str, changes: list[Change]) -> None:
        subscriptions, lists = list(domain.subscriptions), list(domain.lists.values())
        if not subscriptions and not lists:
            return
        watches: dict[str, Watch] = {}
        for watch in [s.watch for s in subscriptions] + [live.watch for live in lists]:
            watches.setdefault(watch.key, watch)
        changes = latest_per_job(changes)
        keys = [c.key for c in changes]
        matched = dict(zip(watches, await self.service.matching(domain_id, keys, list(watches.values())), strict=True))
        self._batch()
        delivered = 0
        batch = Batch(self.service, domain_id, changes)
        for subscription in subscriptions:
            selected = matched[subscription.watch.key]
            for change in changes:
                if change.key in selected and subscription.offer(Delivery(change, batch)):
                    delivered += 1
        touched = {(c.document or {}).get("job_id") for c in changes}
        for live in lists:
            if matched[live.watch.key] or live.shown.intersection(touched):
                live.touch()
        if delivered:
            self._delivered(delivered)
