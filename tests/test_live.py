"""The change source and the hub: one watch resumed after an interruption (on each
engine: the embedded one and the wire stand-in, whose change streams resume by token),
polling where there are no change streams, matching in the database, slow consumers;
and the WebSocket transport's limits, and the live demo."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import websockets
from pymongo.errors import WriteError
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from gateway.app import create_app
from gateway.demo import DEMO_DOMAINS
from gateway.errors import QueryRejected, SlowConsumer, StoreUnavailable
from gateway.graphql.context import GraphQLContext
from gateway.graphql.schema import build_schema
from gateway.live.hub import ChangeHub
from gateway.live.sources import ChangeSource
from gateway.service import JobService
from gateway.settings import Settings
from gateway.store import memory
from gateway.store.base import COLLECTOR, JOB, Change
from gateway.store.changelog import ChangeLog
from tests.conftest import MONGODB_URI, MongoSeed, fixed_clock, memory_with
from tests.dataset import D1, D2, dataset
from tests.live import live_server

pytestmark = pytest.mark.anyio
PROTOCOL = [Subprotocol("graphql-transport-ws")]


class Interrupted:
    """A store whose change stream breaks once, after its first change (a network
    error, a failover): the changes made meanwhile must come after the resume."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.broken = False
        self.loop: asyncio.AbstractEventLoop | None = None  # the loop that watches

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def watch(self, collection: Any, *, resume_after: Any = None, opened: Any = None) -> AsyncIterator[Change]:
        self.loop = asyncio.get_running_loop()
        seen = 0
        async for change in self.inner.watch(collection, resume_after=resume_after, opened=opened):
            if seen == 1 and not self.broken:
                self.broken = True
                raise StoreUnavailable("the database is unreachable (AutoReconnect).")
            seen += 1
            yield change


class Writer:
    """Updates jobs on either engine while a source watches them."""

    def __init__(self, engine: str) -> None:
        self.data = dataset()
        self.seed: MongoSeed | None = None
        if engine == "memory":
            self.store: Any = memory_with(self.data)
        else:
            from gateway.store.mongo import MongoJobStore

            self.seed = MongoSeed(self.data)
            self.store = MongoJobStore(MONGODB_URI or "", database=self.seed.name)

    def key(self, job_id: str) -> Any:
        return next(j["_id"] for j in self.data["job"] if j["job_id"] == job_id)

    async def update(self, job_id: str, **fields: Any) -> None:
        if self.seed is None:
            await self.store.update_one(JOB, self.key(job_id), fields)
        else:
            self.seed.client[self.seed.name]["job"].update_one({"_id": self.key(job_id)}, {"$set": fields})

    async def close(self) -> None:
        if self.seed is not None:
            await self.store.close()
            self.seed.drop()


@pytest.fixture
async def writer(engine: str) -> AsyncIterator[Writer]:
    made = Writer(engine)
    yield made
    await made.close()


async def _take(changes: AsyncIterator[Change], count: int, within: float = 5.0) -> list[Change]:
    out: list[Change] = []
    async with asyncio.timeout(within):
        while len(out) < count:
            out.append(await anext(changes))
    return out


async def test_the_watch_resumes_after_an_interruption_without_losing_a_change(writer: Writer) -> None:
    source = ChangeSource(Interrupted(writer.store))
    changes = aiter(source.changes())
    first = asyncio.ensure_future(_take(changes, 1))
    await asyncio.sleep(0.3)  # watching
    await writer.update("job-000000000001", remained_tasks=11)
    (a,) = await first
    rest = asyncio.ensure_future(_take(changes, 2))
    await writer.update("job-000000000002", remained_tasks=2)  # its value already: no change, no event
    await writer.update("job-000000000002", remained_tasks=12)  # breaks the stream, then is replayed
    await writer.update("job-00000000abcd", remained_tasks=13)
    b, c = await rest
    assert [x.document["job_id"] for x in (a, b, c)] == ["job-000000000001", "job-000000000002", "job-00000000abcd"]
    assert [x.document["remained_tasks"] for x in (a, b, c)] == [11, 12, 13]
    assert source.resumes == 1 and not source.polling


async def test_a_subscriber_receives_every_change_across_a_change_source_restart(writer: Writer) -> None:
    """A real client (gql over graphql-transport-ws) subscribed while the process's one
    change stream breaks (a network error, a failover) and is resumed by its resume
    token: every change reaches it once, in order. On the embedded engine and on the
    wire stand-in's own change streams."""
    from gql import Client, GraphQLRequest
    from gql.transport.websockets import WebsocketsTransport

    if writer.seed is None:
        store: Any = writer.store
    else:
        from gateway.store.mongo import MongoJobStore

        store = MongoJobStore(MONGODB_URI or "", database=writer.seed.name)  # first used on the server's loop
    interrupted = Interrupted(store)
    document = f'subscription {{ jobChanged(domainId: "{D1}") {{ kind job {{ jobId remainedTasks }} }} }}'
    with live_server(create_app(Settings(), interrupted, clock=fixed_clock)) as url:
        transport = WebsocketsTransport(url=url.replace("http://", "ws://") + "/graphql")
        async with Client(transport=transport) as session:
            received: list[Any] = []

            async def read() -> None:
                async for result in session.subscribe(GraphQLRequest(document)):
                    received.append(result["jobChanged"]["job"])
                    if len(received) == 3:
                        return

            reading = asyncio.ensure_future(read())
            await asyncio.sleep(0.5)  # subscribed, the stream open
            await writer.update("job-000000000001", remained_tasks=31)
            await writer.update("job-000000000002", remained_tasks=32)  # breaks the stream, then is replayed
            await writer.update("job-00000000abcd", remained_tasks=33)
            await asyncio.wait_for(reading, 10)
        if store is not writer.store:  # closed on the loop it was used on: the server's
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(store.close(), interrupted.loop))
    assert received == [
        {"jobId": "job-000000000001", "remainedTasks": 31},
        {"jobId": "job-000000000002", "remainedTasks": 32},
        {"jobId": "job-00000000abcd", "remainedTasks": 33},
    ]
    assert interrupted.broken


class HistoryLost:
    """A store whose first resume is rejected by the server, as MongoDB rejects a resume
    token no longer in the oplog (error 286, ChangeStreamHistoryLost)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.resumed_after: list[Any] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def watch(self, collection: Any, *, resume_after: Any = None, opened: Any = None) -> AsyncIterator[Change]:
        self.resumed_after.append(resume_after)
        if len(self.resumed_after) == 1:
            raise QueryRejected("the database rejected the query: resume point may no longer be in the oplog")
        async for change in self.inner.watch(collection, resume_after=resume_after, opened=opened):
            yield change


async def test_a_rejected_watch_is_watched_again_from_now(writer: Writer, caplog: pytest.LogCaptureFixture) -> None:
    store = HistoryLost(writer.store)
    source = ChangeSource(store)
    source.resume_token = "a token the server no longer holds"
    changes = aiter(source.changes())
    first = asyncio.ensure_future(_take(changes, 1))
    await asyncio.sleep(0.5)  # rejected once, then watching again
    await writer.update("job-000000000001", remained_tasks=21)
    (change,) = await first
    assert change.document["remained_tasks"] == 21
    assert store.resumed_after == ["a token the server no longer holds", None]
    assert "watching again from now" in caplog.text and not source.polling


async def test_the_first_subscriber_starts_the_source_and_misses_no_change(writer: Writer) -> None:
    source = ChangeSource(writer.store)
    service = JobService(writer.store, clock=fixed_clock)
    hub = ChangeHub(service, source)
    await asyncio.sleep(0.2)
    assert not source.ready.is_set()  # nobody subscribed: nothing watched
    await hub.start()
    try:
        assert source.ready.is_set()
        with hub.subscribe(service.watch({"domain_id": D1})) as subscription:
            await writer.update("job-000000000001", remained_tasks=31)  # at once: the stream is open
            delivery = await subscription.next(timeout=5)
        assert delivery.change.document["remained_tasks"] == 31
    finally:
        await hub.stop()


class NoChangeStream:
    """A store with no change stream (as a standalone MongoDB server)."""

    def __init__(self, inner: Any) -> None:
        self.find = inner.find


async def test_without_change_streams_the_jobs_are_polled(caplog: pytest.LogCaptureFixture) -> None:
    data = dataset()
    store = memory_with(data)
    source = ChangeSource(NoChangeStream(store), poll_seconds=0.05)  # type: ignore[arg-type]
    changes = aiter(source.changes())
    with caplog.at_level(logging.WARNING, logger="gateway.live"):
        taking = asyncio.ensure_future(_take(changes, 2))
        await asyncio.sleep(0.3)
        later = max(j["updated_at"] for j in data["job"]) + timedelta(seconds=5)
        await store.update_one(JOB, data["job"][1]["_id"], {"remained_tasks": 7, "updated_at": later})
        new = {**data["job"][0], "job_id": "job-0000000new02", "created_at": later + timedelta(seconds=1)}
        new["updated_at"] = new["created_at"]
        new.pop("_id")
        await store.insert_one(JOB, new)
        updated, inserted = await taking
    assert source.polling
    assert (updated.operation, updated.document["remained_tasks"]) == ("update", 7)
    assert (inserted.operation, inserted.document["job_id"]) == ("insert", "job-0000000new02")
    warnings = [r for r in caplog.records if "POLLING" in r.getMessage()]
    assert len(warnings) == 1


def _change(doc: dict[str, Any]) -> Change:
    return Change("update", doc["_id"], doc)


async def test_the_hub_matches_in_the_database_once_per_domain_and_batch() -> None:
    data = dataset()
    calls: list[Any] = []
    store = memory_with(data)

    class Counting:
        def __getattr__(self, name: str) -> Any:
            return getattr(store, name)

        async def aggregate(self, collection: Any, pipeline: Any, **kwargs: Any) -> Any:
            calls.append((collection, "aggregate", pipeline))
            return await store.aggregate(collection, pipeline, **kwargs)

        async def find(self, collection: Any, filter: Any, **kwargs: Any) -> Any:
            calls.append((collection, "find", filter))
            return await store.find(collection, filter, **kwargs)

    service = JobService(Counting(), clock=fixed_clock)  # type: ignore[arg-type]
    hub = ChangeHub(service, ChangeSource(store))
    aws = {"key": "collector_info.provider", "operator": "eq", "value": "aws"}
    watches = [
        service.watch({"domain_id": D1}, where={"and": [{"key": "status", "operator": "eq", "value": "ERROR"}]}),
        service.watch({"domain_id": D1, "job_id": ["job-000000000001"]}),
        service.watch({"domain_id": D1}),
        service.watch({"domain_id": D1}),  # the same filter again: one facet for both
        service.watch({"domain_id": D2}),
        service.watch({"domain_id": D2}, where={"and": [aws]}),
        service.watch({"domain_id": D2}, where={"not": {"and": [aws]}}),
    ]
    with contextlib.ExitStack() as stack:
        subs = [stack.enter_context(hub.subscribe(w)) for w in watches]
        await hub.dispatch([_change(j) for j in data["job"]])
    dispatched = list(calls)
    received = [sorted(s.queue.get_nowait().change.document["job_id"] for _ in range(s.queue.qsize())) for s in subs]
    assert received[0] == ["job-000000000002"]
    assert received[1] == ["job-000000000001"]
    assert received[2] == received[3] == sorted(j["job_id"] for j in data["job"] if j["domain_id"] == D1)
    # The lists' answers to the same filters, each job of D2 once:
    for sub, where in ((subs[4], None), (subs[5], {"and": [aws]}), (subs[6], {"not": {"and": [aws]}})):
        page = await service.list_jobs({"domain_id": D2}, where=where)
        assert received[subs.index(sub)] == sorted(j["job_id"] for j in page.jobs)
    assert sorted(received[5] + received[6]) == received[4]
    # One query on the jobs per domain (a facet per distinct filter), and one on the
    # collectors for D2's two collector conditions (the same filter, negated or not:
    # looked up once).
    assert sorted((c, method) for c, method, _ in dispatched) == [
        ("collector", "find"),
        ("job", "aggregate"),
        ("job", "aggregate"),
    ]
    facets = [pipeline[1]["$facet"] for c, _, pipeline in dispatched if c == "job"]
    assert sorted(len(f) for f in facets) == [3, 3]  # three distinct filters in each domain


async def test_subscribers_joining_a_live_list_while_it_is_first_read_start_from_its_rows() -> None:
    store = memory_with(dataset())
    service = JobService(store, clock=fixed_clock)
    hub = ChangeHub(service, ChangeSource(store))
    watch = service.watch({"domain_id": D1})
    runs = 0

    async def run() -> tuple[Any, list[Any]]:
        nonlocal runs
        runs += 1
        await asyncio.sleep(0.1)  # a database round trip
        if runs == 1:
            raise StoreUnavailable("the database is unreachable (AutoReconnect).")
        return ["rows"], ["job-000000000001"]

    async def subscriber() -> Any:
        async with hub.live(watch, "the list", run) as live:
            return live.rows

    # The first read fails: both subscribers waiting on it are told, and the next one reads again.
    failed = await asyncio.gather(subscriber(), subscriber(), return_exceptions=True)
    assert [type(f) for f in failed] == [StoreUnavailable, StoreUnavailable]
    assert await asyncio.gather(subscriber(), subscriber()) == [["rows"], ["rows"]]
    assert runs == 2 and hub.active == 0


async def test_a_slow_consumer_is_closed_with_a_named_error() -> None:
    data = dataset()
    store = memory_with(data)
    service = JobService(store, clock=fixed_clock)
    hub = ChangeHub(service, ChangeSource(store), queue_size=2)
    with hub.subscribe(service.watch({"domain_id": D1})) as subscription:
        await hub.dispatch([_change(j) for j in data["job"] if j["domain_id"] == D1])
        assert subscription.overflowed and subscription.queue.qsize() == 2  # bounded: memory stays flat
        with pytest.raises(SlowConsumer, match="behind"):
            await subscription.next()
    # Through GraphQL: the subscription ends with the error's code.
    schema = build_schema()
    hub = ChangeHub(service, ChangeSource(store), queue_size=2)
    context = GraphQLContext(service=service, hub=hub)
    results = await schema.subscribe(
        f'subscription {{ jobChanged(domainId: "{D1}") {{ job {{ jobId }} }} }}', context_value=context
    )
    first = asyncio.ensure_future(anext(results))
    await asyncio.sleep(0.2)
    await hub.dispatch([_change(j) for j in data["job"] if j["domain_id"] == D1])
    delivered, closing = await first, await anext(results)
    assert delivered.data == {"jobChanged": {"job": {"jobId": "job-000000000001"}}}
    assert closing.errors[0].extensions == {"code": "SLOW_CONSUMER", "reason": "ERROR_SLOW_CONSUMER"}
    with pytest.raises(StopAsyncIteration):
        await anext(results)


@pytest.fixture
def limited() -> Iterator[str]:
    settings = Settings(max_subscriptions_per_connection=1, max_subscription_connections=2, subscription_idle_seconds=1)
    with live_server(create_app(settings, memory_with(dataset()), clock=fixed_clock)) as url:
        yield url.replace("http://", "ws://") + "/graphql"


async def _connect(url: str) -> Any:
    socket = await websockets.connect(url, subprotocols=PROTOCOL)
    await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert json.loads(await socket.recv())["type"] == "connection_ack"
    return socket


def _subscribe(operation: str) -> str:
    query = f'subscription {{ jobChanged(domainId: "{D1}") {{ job {{ jobId }} }} }}'
    return json.dumps({"id": operation, "type": "subscribe", "payload": {"query": query}})


async def test_subscriptions_per_connection_are_bounded(limited: str) -> None:
    socket = await _connect(limited)
    await socket.send(_subscribe("1"))
    await socket.send(_subscribe("2"))
    answer = json.loads(await asyncio.wait_for(socket.recv(), 2))
    assert answer["id"] == "2" and answer["type"] == "error" and "limit" in answer["payload"][0]["message"]
    await socket.close()


async def test_connections_per_process_are_bounded(limited: str) -> None:
    open_ = [await _connect(limited), await _connect(limited)]
    for socket in open_:
        await socket.send(_subscribe("1"))
    with pytest.raises(ConnectionClosed) as closed:
        third = await websockets.connect(limited, subprotocols=PROTOCOL)
        await third.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
    for socket in open_:
        await socket.close()


async def test_a_connection_without_subscriptions_is_closed_when_idle(limited: str) -> None:
    socket = await _connect(limited)
    started = time.monotonic()
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(socket.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4408
    assert 0.9 < time.monotonic() - started < 4


async def test_serve_simulate_makes_the_demo_live() -> None:
    with live_server(create_app(Settings(simulate=True, demo_jobs=200))) as url:
        socket = await _connect(url.replace("http://", "ws://") + "/graphql")
        query = f'subscription {{ jobChanged(domainId: "{DEMO_DOMAINS[0]}") {{ kind job {{ jobId status remainedTasks }} }} }}'
        query_other = query.replace(DEMO_DOMAINS[0], DEMO_DOMAINS[1])
        await socket.send(json.dumps({"id": "a", "type": "subscribe", "payload": {"query": query}}))
        await socket.send(json.dumps({"id": "b", "type": "subscribe", "payload": {"query": query_other}}))
        kinds = set()
        async with asyncio.timeout(15):
            while not {"INSERTED", "UPDATED"} <= kinds:
                message = json.loads(await socket.recv())
                assert message["type"] == "next", message
                kinds.add(message["payload"]["data"]["jobChanged"]["kind"])
        await socket.close()


async def test_the_embedded_engines_live_writes_are_read_back() -> None:
    """Its writes while serving (``--simulate``) are what its reads then answer."""
    store = memory_with(dataset())
    assert await store.count(JOB, {"domain_id": D1}) == 7
    data = dataset()
    new = {**data["job"][0], "job_id": "job-0000000new03"}
    new.pop("_id")
    await store.insert_one(JOB, new)  # type: ignore[attr-defined]
    assert await store.count(JOB, {"domain_id": D1}) == 8
    found = await store.find(JOB, {"job_id": "job-0000000new03"}, projection={"_id": 0, "created_at": 1})
    assert found == [{"created_at": datetime(2024, 5, 15, 10, 0)}]
    key = data["job"][1]["_id"]
    await store.update_one(JOB, key, {"remained_tasks": 42})  # type: ignore[attr-defined]
    found = await store.find(JOB, {"remained_tasks": {"$gte": 40}}, projection={"job_id": 1}, sort=[("job_id", 1)])
    assert found == [{"_id": key, "job_id": data["job"][1]["job_id"]}]
    assert await store.update_one(JOB, "no-such-id", {"remained_tasks": 1}) is None  # type: ignore[attr-defined]


async def test_a_resumed_watch_replays_as_update_lookup_does() -> None:
    """Resumed after a token, the embedded engine replays what its log holds of that
    collection as a change stream with ``fullDocument: updateLookup`` does: an insert
    with the document inserted, an update with the document as it now is."""
    data = dataset()
    store = memory_with(data)
    new = {**data["job"][0], "job_id": "job-0000000new04", "remained_tasks": 5}
    new.pop("_id")
    inserted = await store.insert_one(JOB, new)  # type: ignore[attr-defined]
    key = data["job"][1]["_id"]
    await store.update_one(JOB, key, {"remained_tasks": 41})  # type: ignore[attr-defined]
    await store.update_one(COLLECTOR, data["collector"][0]["_id"], {"name": "renamed"})  # type: ignore[attr-defined]
    await store.update_one(JOB, key, {"remained_tasks": 42})  # type: ignore[attr-defined]
    await store.update_one(JOB, inserted["_id"], {"remained_tasks": 6})  # type: ignore[attr-defined]

    async def replayed(after: int, count: int) -> list[Change]:
        watch = aiter(store.watch(JOB, resume_after=after))  # type: ignore[attr-defined]
        taken = await _take(watch, count)
        await watch.aclose()  # type: ignore[attr-defined]
        return taken

    every = await replayed(0, 4)
    assert [(c.operation, c.resume_token) for c in every] == [
        ("insert", 1),
        ("update", 2),
        ("update", 4),
        ("update", 5),
    ]
    assert every[0].document is not None and every[0].document["remained_tasks"] == 5  # as inserted
    assert [c.document["remained_tasks"] for c in every[1:] if c.document] == [42, 42, 6]  # as they now are
    assert [c.resume_token for c in await replayed(3, 2)] == [4, 5]


async def test_what_a_watcher_does_with_a_changes_document_leaves_the_log_as_it_was() -> None:
    data = dataset()
    store = memory_with(data)
    new = {**data["job"][0], "job_id": "job-0000000new05"}
    new.pop("_id")
    await store.insert_one(JOB, new)  # type: ignore[attr-defined]
    for _ in range(2):
        watch = aiter(store.watch(JOB, resume_after=0))  # type: ignore[attr-defined]
        (change,) = await _take(watch, 1)
        await watch.aclose()  # type: ignore[attr-defined]
        assert change.document is not None and change.document["job_id"] == "job-0000000new05"
        change.document["job_id"] = "changed by a watcher"


async def test_an_update_of_the_id_is_refused_as_mongodb_refuses_it() -> None:
    data = dataset()
    store = memory_with(data)
    key = data["job"][1]["_id"]
    with pytest.raises(WriteError) as refused:
        await store.update_one(JOB, key, {"_id": "another", "remained_tasks": 1})  # type: ignore[attr-defined]
    assert refused.value.code == 66
    assert await store.count(JOB, {"_id": key, "remained_tasks": data["job"][1]["remained_tasks"]}) == 1
    assert await store.update_one(JOB, key, {"_id": key, "remained_tasks": 2}) is not None  # type: ignore[attr-defined]


async def test_resuming_after_a_change_the_log_no_longer_holds_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """As MongoDB answers a resume token fallen off the oplog: error 286, which the
    change source answers by watching again from now (said loudly), never a silent gap."""
    monkeypatch.setattr(memory, "CHANGE_LOG", 3)
    data = dataset()
    store = memory_with(data)
    for n in range(5):
        await store.update_one(JOB, data["job"][n % 2]["_id"], {"remained_tasks": 100 + n})  # type: ignore[attr-defined]
    with pytest.raises(QueryRejected, match="286"):
        await anext(aiter(store.watch(JOB, resume_after=1)))  # type: ignore[attr-defined]
    held = aiter(store.watch(JOB, resume_after=2))  # type: ignore[attr-defined]
    assert [c.resume_token for c in await _take(held, 3)] == [3, 4, 5]
    await held.aclose()  # type: ignore[attr-defined]


def test_the_change_log_is_a_ring_of_consecutive_changes() -> None:
    log = ChangeLog(3)
    for token in range(1, 6):
        log.append(JOB, Change("update", f"k{token}", {"_id": f"k{token}"}, resume_token=token))
    held = log.since(JOB, 0)
    assert [(c.key, c.resume_token, c.document) for c in held] == [("k3", 3, None), ("k4", 4, None), ("k5", 5, None)]
    assert log.since(JOB, 4)[0].key == "k5" and log.since(COLLECTOR, 0) == []
    with pytest.raises(ValueError, match="consecutive"):
        log.append(JOB, Change("update", "k7", None, resume_token=7))


async def test_an_updated_document_read_and_changed_leaves_the_store_as_it_was() -> None:
    """An update shares the values it does not set with the document it replaces;
    a reader changing what it read changes neither."""
    data = dataset()
    job = next(j for j in data["job"] if len(j["errors"]) == 2)
    store = memory_with(dataset())
    await store.update_one(JOB, job["_id"], {"remained_tasks": 43})  # type: ignore[attr-defined]
    (read,) = await store.find(JOB, {"_id": job["_id"]})
    read["errors"].append({"error_code": "MINE"})
    read["errors"][0]["additional"]["task"] = "changed by a reader"
    (again,) = await store.find(JOB, {"_id": job["_id"]})
    assert again == {**read, "errors": job["errors"]} and again["remained_tasks"] == 43


async def test_updates_leave_every_index_answering_as_a_store_loaded_with_the_result() -> None:
    """A live demo's updates swap a document in its indexes when it indexes as before
    (a job's progress) and re-index otherwise: either way every read path (the domain,
    status, a time window, job_id and collector_id hashes, counts) answers as a store
    loaded afresh with the updated documents."""
    store = memory_with(dataset())
    data = dataset()
    jobs = {j["_id"]: j for j in data["job"]}
    first, second, third, fourth = (j["_id"] for j in data["job"][:4])
    updates = [
        (first, {"remained_tasks": 3}),  # indexed alike: swapped in place
        (second, {"status": "IN_PROGRESS"}),  # another status
        (first, {"remained_tasks": 2, "updated_at": datetime(2024, 5, 15, 11, 0)}),
        (third, {"created_at": datetime(2020, 1, 1)}),  # another time
        (fourth, {"job_id": "job-renamed00001", "collector_id": "collector-gcp000000002"}),  # other hash keys
        (second, {"status": ["SUCCESS"]}),  # a value no index holds: kept beside them
        (third, {"domain_id": D2}),  # another partition
        (second, {"status": None, "remained_tasks": 9}),
    ]
    d1 = {"domain_id": D1}
    since = {"created_at": {"$gte": datetime(2024, 5, 14)}}
    filters: list[dict[str, Any]] = [
        d1,
        {"domain_id": D2},
        {**d1, "status": "IN_PROGRESS"},
        {**d1, "status": {"$in": ["SUCCESS", "ERROR", None]}},
        {**d1, **since},
        {**d1, "status": "SUCCESS", **since},
        {"job_id": "job-renamed00001"},
        {"job_id": data["job"][3]["job_id"]},
        {**d1, "collector_id": "collector-gcp000000002"},
        {**d1, "remained_tasks": {"$gte": 2}},
    ]

    async def answers(target: Any) -> list[Any]:
        rows = []
        for f in filters:
            found = await target.find(JOB, f, projection={"_id": 1, "remained_tasks": 1}, sort=[("created_at", -1)])
            rows.append((await target.count(JOB, f), found))
        return rows

    for key, fields in updates:
        await answers(store)  # the indexes built, so that the next update meets them
        await store.update_one(JOB, key, fields)  # type: ignore[attr-defined]
        jobs[key] = {**jobs[key], **fields}
        afresh = memory_with({"job": list(jobs.values()), "collector": dataset()["collector"]})
        assert await answers(store) == await answers(afresh), fields


async def test_a_batchs_collectors_are_read_once_for_all_its_subscribers() -> None:
    data = dataset()
    store = memory_with(data)
    finds: list[Any] = []

    class Counting:
        def __getattr__(self, name: str) -> Any:
            return getattr(store, name)

        async def find(self, collection: Any, filter: Any, **kwargs: Any) -> Any:
            finds.append(collection)
            return await store.find(collection, filter, **kwargs)

    service = JobService(Counting(), clock=fixed_clock)  # type: ignore[arg-type]
    hub = ChangeHub(service, ChangeSource(store))
    with contextlib.ExitStack() as stack:
        subs = [stack.enter_context(hub.subscribe(service.watch({"domain_id": D1}))) for _ in range(20)]
        await hub.dispatch([_change(j) for j in data["job"]])
        deliveries = [s.queue.get_nowait() for s in subs]
        found = await asyncio.gather(*(d.batch.collectors() for d in deliveries))
    assert finds.count("collector") == 1
    # D1's jobs name two collectors by collector_id and one (an older database's) by _id:
    named = {j.get("collector_id") for j in data["job"] if j["domain_id"] == D1}
    named |= {j.get("collector") for j in data["job"] if j["domain_id"] == D1}
    expected = {c["name"] for c in data["collector"] if c["domain_id"] == D1 and named & {c["collector_id"], c["_id"]}}
    assert sorted(doc["name"] for doc in found[0].values()) == sorted(expected)
    assert len(expected) == 3
    assert all(f == found[0] for f in found)


async def test_a_long_subscription_keeps_no_memory_of_its_past_events() -> None:
    """Each event is executed and forgotten: the objects alive after 600 events are
    those alive after 100 (graphql-core's per-event executor shared one memo of
    collected subfields across events, growing by about 15 objects an event)."""
    import gc

    data = dataset()
    store = memory_with(data)
    service = JobService(store, clock=fixed_clock)
    hub = ChangeHub(service, ChangeSource(store), queue_size=1000)
    context = GraphQLContext(service=service, hub=hub)
    query = (
        f'subscription {{ jobChanged(domainId: "{D1}") {{ kind job {{ jobId status collectorInfo {{ name }} }} }} }}'
    )
    results = await build_schema().subscribe(query, context_value=context)
    changes = [_change(j) for j in data["job"] if j["domain_id"] == D1]

    async def events(count: int) -> None:
        for _ in range(count // len(changes) + 1):
            await hub.dispatch(changes)  # queued for the subscriber, then read
            for _ in changes:
                assert (await anext(results)).errors is None

    first = asyncio.ensure_future(anext(results))  # subscribed at the hub
    await asyncio.sleep(0.1)
    await hub.dispatch(changes[:1])
    assert (await first).errors is None
    await events(100)
    gc.collect()
    alive = len(gc.get_objects())
    await events(500)
    gc.collect()
    assert len(gc.get_objects()) - alive < 500
    await results.aclose()  # type: ignore[attr-defined]


async def test_the_readmes_subscriptions_show_the_simulated_demo_progressing() -> None:
    """The README's two subscriptions, as written (the GraphiQL one over WebSocket, the
    curl one's body over SSE), against the demo that serve --simulate makes live: each
    shows jobs changing."""
    import re

    import httpx2 as httpx

    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Live updates") :]
    graphiql = re.search(r"```graphql\n(subscription .*?)```", section, re.S)
    curl = re.search(r"```sh\ncurl -N (\S+) (.*?) -d '(.*?)'\n```", section, re.S)
    assert graphiql is not None and curl is not None
    assert curl.group(1).endswith("/graphql/stream") and "text/event-stream" in curl.group(2)
    with live_server(create_app(Settings(simulate=True, demo_jobs=300))) as url:
        socket = await _connect(url.replace("http://", "ws://") + "/graphql")
        payload = {"query": graphiql.group(1)}
        await socket.send(json.dumps({"id": "readme", "type": "subscribe", "payload": payload}))
        seen: list[Any] = []
        async with asyncio.timeout(20):
            while len(seen) < 2:
                message = json.loads(await socket.recv())
                assert message["type"] == "next" and "errors" not in message["payload"], message
                seen.append(message["payload"]["data"]["jobChanged"]["job"])
        await socket.close()
        assert all(job["status"] == "IN_PROGRESS" and "collectorInfo" in job for job in seen), seen
        headers = {"Accept": "text/event-stream", "Content-Type": "application/json"}
        pushed: list[Any] = []
        async with (
            httpx.AsyncClient(base_url=url, timeout=20) as client,
            client.stream("POST", "/graphql/stream", content=curl.group(3), headers=headers) as response,
            asyncio.timeout(20),
        ):
            assert response.status_code == 200
            async for line in response.aiter_lines():
                if line.startswith("data: {"):
                    pushed.append(json.loads(line[len("data: ") :])["data"]["jobsLive"]["results"])
                    if len(pushed) == 2:
                        break
        assert len(pushed[0]) == 5 and pushed[0] != pushed[1]  # the list, then the list changed


async def test_a_job_changed_twice_in_a_batch_is_sent_once_as_it_now_is() -> None:
    """The database matches a job as it now is: an earlier version in the same batch (a
    job still CREATED) must not reach a subscriber of IN_PROGRESS jobs."""
    data = dataset()
    store = memory_with(data)
    job = next(j for j in data["job"] if j["domain_id"] == D1 and j["status"] != "IN_PROGRESS")
    service = JobService(store, clock=fixed_clock)
    hub = ChangeHub(service, ChangeSource(store))
    running = {"and": [{"key": "status", "operator": "eq", "value": "IN_PROGRESS"}]}
    created = {**job, "status": "CREATED", "remained_tasks": 5}
    started = {**job, "status": "IN_PROGRESS", "remained_tasks": 5}
    await store.update_one(JOB, job["_id"], {"status": "IN_PROGRESS", "remained_tasks": 5})  # type: ignore[attr-defined]
    other = next(j for j in data["job"] if j["domain_id"] == D1 and j["_id"] != job["_id"])
    with hub.subscribe(service.watch({"domain_id": D1}, where=running)) as subscription:
        with hub.subscribe(service.watch({"domain_id": D1})) as everything:
            batch = [Change("insert", job["_id"], created), _change(other), Change("update", job["_id"], started)]
            await hub.dispatch(batch)
            shown = [everything.queue.get_nowait().change for _ in range(everything.queue.qsize())]
        (delivery,) = [subscription.queue.get_nowait() for _ in range(subscription.queue.qsize())]
    assert (delivery.change.operation, delivery.change.document) == ("insert", started)
    # Every job once, in the order they first changed, each as its latest change shows it.
    assert [(c.operation, c.document) for c in shown] == [("insert", started), ("update", other)]
