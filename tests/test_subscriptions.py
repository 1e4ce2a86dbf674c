"""Subscriptions with real clients against a live gateway: Python ``gql`` over WebSocket
(graphql-transport-ws) and an HTTP client over /graphql/stream (GraphQL over SSE, the
graphql-sse protocol); tests/test_subscription_clients.py runs graphql-sse's and
graphql-ws's own clients. Changes are made on the embedded engine while the gateway serves."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2 as httpx
import jwt
import pytest
import websockets
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from gateway.app import create_app
from gateway.settings import Settings
from gateway.store.memory import MemoryJobStore
from tests.conftest import fixed_clock
from tests.dataset import D1, D2, dataset
from tests.live import live_server

SECRET = "s" * 40
pytestmark = pytest.mark.anyio

CHANGED = """subscription($d: String, $w: JobWhere, $ids: [String!]) {
  jobChanged(domainId: $d, where: $w, jobId: $ids) { kind job { jobId status remainedTasks collectorInfo { provider } } }
}"""
LIVE = """subscription($d: String, $n: Int!) {
  jobsLive(domainId: $d, first: $n, orderBy: [{field: JOB_ID}]) { totalCount results { jobId remainedTasks } }
}"""


class Gateway:
    def __init__(self, url: str, store: MemoryJobStore, data: dict[str, list[dict[str, Any]]]) -> None:
        self.url, self.store, self.data = url, store, data

    def key(self, job_id: str) -> Any:
        return next(j["_id"] for j in self.data["job"] if j["job_id"] == job_id)

    async def update(self, job_id: str, **fields: Any) -> float:
        """Change a job (as the inventory service would); the time it was stored."""
        await self.store.update_one("job", self.key(job_id), fields)
        return time.monotonic()

    @asynccontextmanager
    async def ws(self, token: str | None = None) -> AsyncIterator[Any]:
        transport = WebsocketsTransport(
            url=self.url.replace("http://", "ws://") + "/graphql",
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
            init_payload={"Authorization": f"Bearer {token}"} if token else {},
        )
        async with Client(transport=transport) as session:
            yield session


def serve(**settings: Any) -> Iterator[Gateway]:
    data = dataset()
    store = MemoryJobStore(max_time_ms=settings.get("max_time_ms", 5000))  # as the app builds it
    for name, docs in data.items():
        store.insert(name, docs)  # type: ignore[arg-type]
    with live_server(create_app(Settings(**settings), store, clock=fixed_clock)) as url:
        yield Gateway(url, store, data)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    yield from serve()


@pytest.fixture
def secured() -> Iterator[Gateway]:
    yield from serve(jwt_secret=SECRET)


def token(domain: str = D1, seconds: float = 3600) -> str:
    return jwt.encode({"did": domain, "exp": int(time.time() + seconds)}, SECRET, algorithm="HS256")


class Events:
    """A subscription's events as they come, read in the background."""

    def __init__(self, session: Any, document: str, variables: dict[str, Any]) -> None:
        self.queue: asyncio.Queue[tuple[float, Any]] = asyncio.Queue()
        self.error: Exception | None = None
        self.task = asyncio.create_task(self._read(session, document, variables))

    async def _read(self, session: Any, document: str, variables: dict[str, Any]) -> None:
        try:
            async for result in session.subscribe(GraphQLRequest(document, variable_values=variables)):
                self.queue.put_nowait((time.monotonic(), result))
        except Exception as exc:
            self.error = exc
            self.queue.put_nowait((time.monotonic(), exc))

    async def next(self, within: float = 2.0) -> tuple[float, Any]:
        async with asyncio.timeout(within):
            return await self.queue.get()

    async def none_within(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        assert self.queue.empty(), self.queue.get_nowait()

    def close(self) -> None:
        self.task.cancel()


async def started(gateway: Gateway, session: Any, document: str = CHANGED, **variables: Any) -> Events:
    events = Events(session, document, variables)
    await asyncio.sleep(0.3)  # subscribed at the hub
    return events


async def test_an_update_reaches_the_subscribers_it_concerns_within_a_second(gateway: Gateway) -> None:
    async with gateway.ws() as session:
        running = await started(gateway, session, d=D1, w={"status": {"eq": "IN_PROGRESS"}})
        other_job = await started(gateway, session, d=D1, ids=["job-000000000001"])
        stored_at = await gateway.update("job-00000000abcd", remained_tasks=1)
        received_at, result = await running.next()
        assert received_at - stored_at < 1.0
        assert result["jobChanged"] == {
            "kind": "UPDATED",
            "job": {
                "jobId": "job-00000000abcd",
                "status": "IN_PROGRESS",
                "remainedTasks": 1,
                "collectorInfo": {"provider": "aws"},
            },
        }
        await other_job.none_within(0.5)
        await gateway.update("job-00000000abcd", status="SUCCESS", remained_tasks=0)  # leaves the filter
        await running.none_within(0.5)
        stored_at = await gateway.update("job-000000000001", remained_tasks=3)
        received_at, result = await other_job.next()
        assert received_at - stored_at < 1.0 and result["jobChanged"]["job"]["jobId"] == "job-000000000001"


async def test_an_insert_reaches_the_subscribers(gateway: Gateway) -> None:
    async with gateway.ws() as session:
        events = await started(gateway, session, d=D1, w={"collector": {"provider": {"eq": "aws"}}})
        new = {**gateway.data["job"][0], "job_id": "job-0000000new01", "status": "CREATED"}
        new.pop("_id")
        await gateway.store.insert_one("job", new)
        stored_at = time.monotonic()
        received_at, result = await events.next()
        assert received_at - stored_at < 1.0
        assert result["jobChanged"]["kind"] == "INSERTED" and result["jobChanged"]["job"]["jobId"] == "job-0000000new01"


async def test_a_live_list_is_pushed_again_when_it_changes(gateway: Gateway) -> None:
    async with gateway.ws() as session:
        events = await started(gateway, session, LIVE, d=D1, n=2)
        _, first = await events.next()
        assert [r["jobId"] for r in first["jobsLive"]["results"]] == ["job-000000000001", "job-000000000002"]
        await gateway.update("job-00000000abcd", remained_tasks=2)  # not on the list: nothing to push
        await events.none_within(1.0)
        stored_at = await gateway.update("job-000000000001", remained_tasks=9)
        received_at, second = await events.next()
        assert received_at - stored_at < 1.0
        assert second["jobsLive"]["results"][0] == {"jobId": "job-000000000001", "remainedTasks": 9}


async def test_a_live_list_over_sse(gateway: Gateway) -> None:
    body = {"query": LIVE, "variables": {"d": D1, "n": 1}}
    async with (
        httpx.AsyncClient(base_url=gateway.url, timeout=10) as client,
        client.stream("POST", "/graphql/stream", json=body, headers={"Accept": "text/event-stream"}) as response,
    ):
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response)
        first = await anext(events)
        assert first["data"]["jobsLive"]["results"] == [{"jobId": "job-000000000001", "remainedTasks": 0}]
        await gateway.update("job-000000000001", remained_tasks=4)
        second = await asyncio.wait_for(anext(events), 2.0)
        assert second["data"]["jobsLive"]["results"] == [{"jobId": "job-000000000001", "remainedTasks": 4}]


async def test_a_stream_outlives_the_request_database_budget() -> None:
    """An SSE stream is one HTTP request; each event's reads have a budget of their own."""
    for gateway in serve(max_time_ms=200):
        body = {"query": CHANGED, "variables": {"d": D1, "ids": ["job-000000000001"]}}
        async with (
            httpx.AsyncClient(base_url=gateway.url, timeout=10) as client,
            client.stream("POST", "/graphql/stream", json=body, headers={"Accept": "text/event-stream"}) as response,
        ):
            events = sse_events(response)
            for remained in (5, 6):
                await asyncio.sleep(0.4)  # past the budget of the request that opened the stream
                await gateway.update("job-000000000001", remained_tasks=remained)
                event = await asyncio.wait_for(anext(events), 2.0)
                assert "errors" not in event, event
                job = event["data"]["jobChanged"]["job"]
                assert (job["remainedTasks"], job["collectorInfo"]) == (remained, {"provider": "aws"})


async def sse_events(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """The ``next`` events of a graphql-sse stream (distinct connections mode)."""
    event = None
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            event = line[len("event: ") :]
        elif line.startswith("data: ") and event == "next":
            yield json.loads(line[len("data: ") :])
        elif event == "complete":
            return


async def test_sse_refuses_what_it_cannot_stream(secured: Gateway) -> None:
    async with httpx.AsyncClient(base_url=secured.url, timeout=10) as client:
        body = {"query": LIVE, "variables": {"n": 1}}
        stream = {"Accept": "text/event-stream"}
        assert (await client.post("/graphql/stream", json=body, headers=stream)).status_code == 401
        authorized = {**stream, "Authorization": f"Bearer {token()}"}
        assert (
            await client.post("/graphql/stream", json=body, headers={"Authorization": f"Bearer {token()}"})
        ).status_code == 406
        assert (await client.get("/graphql/stream", headers=authorized)).status_code == 405
        assert (
            await client.post(
                "/graphql/stream", content=b"[", headers={**authorized, "Content-Type": "application/json"}
            )
        ).status_code == 400


async def test_domains_never_see_each_others_jobs(secured: Gateway) -> None:
    """D2's subscriber filters on collector fields that D1's jobs match (aws): still
    only D2's jobs reach it, and D1's subscriber never sees D2's."""
    async with secured.ws(token(D2)) as d2_session, secured.ws(token(D1)) as d1_session:
        d2 = await started(secured, d2_session, w={"collector": {"provider": {"eq": "aws"}}})
        d1 = await started(secured, d1_session)
        await secured.update("job-000000000001", remained_tasks=4)  # D1, an aws collector
        _, seen = await d1.next()
        assert seen["jobChanged"]["job"]["jobId"] == "job-000000000001"
        await d2.none_within(0.7)
        await secured.update("job-0000000000d8", remained_tasks=4)  # D2's own aws job
        _, own = await d2.next()
        assert own["jobChanged"]["job"]["jobId"] == "job-0000000000d8"
        await d1.none_within(0.5)


async def test_naming_another_domain_is_forbidden(secured: Gateway) -> None:
    async with secured.ws(token(D1)) as session:
        events = await started(secured, session, d=D2)
        _, error = await events.next()
        assert isinstance(error, TransportQueryError)
        assert error.errors[0]["extensions"]["code"] == "FORBIDDEN"


async def test_an_expired_token_closes_the_subscription_with_a_named_error(secured: Gateway) -> None:
    async with secured.ws(token(D1, seconds=2)) as session:
        events = await started(secured, session)
        _, error = await events.next(within=4.0)
        assert isinstance(error, TransportQueryError)
        assert error.errors[0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "ERROR_AUTHENTICATE_FAILURE"}
        assert "expired" in error.errors[0]["message"]


async def test_a_connection_without_a_valid_token_is_refused(secured: Gateway) -> None:
    url = secured.url.replace("http://", "ws://") + "/graphql"
    for payload in ({}, {"Authorization": "Bearer nonsense"}, {"token": token(D1, seconds=-10)}):
        async with websockets.connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as socket:
            await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
            with pytest.raises(ConnectionClosed) as closed:
                await socket.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_metrics_show_subscriptions_and_events(gateway: Gateway) -> None:
    async with gateway.ws() as session:
        events = await started(gateway, session, d=D1)
        await gateway.update("job-000000000001", remained_tasks=5)
        await events.next()
        async with httpx.AsyncClient(base_url=gateway.url) as client:
            text = (await client.get("/metrics")).text
    assert "job_gateway_subscriptions_active 1.0" in text
    assert "job_gateway_subscription_events_total 1.0" in text
    assert "job_gateway_subscription_batches_total 1.0" in text


async def test_a_slow_consumer_is_closed_with_a_named_error_on_both_transports() -> None:
    """A subscriber that falls a whole queue behind (here 2 events, as one batch of
    changes brings 4 for it) is closed with SLOW_CONSUMER rather than buffered without
    end; the connection goes on serving its other subscriptions."""
    slow = {"code": "SLOW_CONSUMER", "reason": "ERROR_SLOW_CONSUMER"}
    d1_jobs = [j["job_id"] for j in dataset()["job"] if j["domain_id"] == D1][:4]
    for gateway in serve(subscription_queue=2):

        async def burst(base: int, gateway: Gateway = gateway) -> None:
            """Each of the 4 jobs changed at once (a value it has not had: a change)."""
            await asyncio.gather(*(gateway.update(job, remained_tasks=base + n) for n, job in enumerate(d1_jobs)))

        async with gateway.ws() as session:
            events = await started(gateway, session, d=D1, ids=d1_jobs)
            await burst(50)
            received = [(await events.next())[1]]
            while not isinstance(received[-1], Exception):
                received.append((await events.next())[1])
            *delivered, closing = received
            assert len(delivered) <= 2 and all("jobChanged" in result for result in delivered)
            assert isinstance(closing, TransportQueryError) and closing.errors[0]["extensions"] == slow
            # The connection stays usable: a new subscription on it receives the next change.
            again = await started(gateway, session, d=D1, ids=d1_jobs[:1])
            await gateway.update(d1_jobs[0], remained_tasks=99)
            _, result = await again.next()
            assert result["jobChanged"]["job"]["remainedTasks"] == 99

        body = {"query": CHANGED, "variables": {"d": D1, "ids": d1_jobs}}
        async with (
            httpx.AsyncClient(base_url=gateway.url, timeout=10) as client,
            client.stream("POST", "/graphql/stream", json=body, headers={"Accept": "text/event-stream"}) as response,
        ):
            stream = sse_events(response)
            await asyncio.sleep(0.3)  # subscribed at the hub
            await burst(70)
            payloads = [p async for p in _within(stream, 3.0)]
        assert [p["errors"][0]["extensions"] for p in payloads if "errors" in p] == [slow]
        assert "errors" in payloads[-1] and len(payloads) <= 3


async def _within(stream: AsyncIterator[dict[str, Any]], seconds: float) -> AsyncIterator[dict[str, Any]]:
    """The stream's events until it completes (failing after ``seconds``)."""
    async with asyncio.timeout(seconds):
        async for item in stream:
            yield item


async def test_over_sse_domains_never_see_each_others_jobs(secured: Gateway) -> None:
    """The HTTP transport's token (the Authorization header) scopes every event as the
    WebSocket's does, through collector conditions too."""
    d2_body = {"query": CHANGED, "variables": {"w": {"collector": {"provider": {"eq": "aws"}}}}}
    async with (
        httpx.AsyncClient(base_url=secured.url, timeout=10) as client,
        client.stream(
            "POST",
            "/graphql/stream",
            json=d2_body,
            headers={"Accept": "text/event-stream", "Authorization": f"Bearer {token(D2)}"},
        ) as response,
    ):
        d2 = sse_events(response)
        await asyncio.sleep(0.3)
        await secured.update("job-000000000001", remained_tasks=4)  # D1, an aws collector
        await secured.update("job-0000000000d8", remained_tasks=4)  # D2's own aws job
        first = await asyncio.wait_for(anext(d2), 2.0)
        assert first["data"]["jobChanged"]["job"]["jobId"] == "job-0000000000d8"
        assert first["data"]["jobChanged"]["job"]["collectorInfo"] == {"provider": "aws"}


async def test_over_sse_an_expired_token_closes_the_stream_with_a_named_error(secured: Gateway) -> None:
    headers = {"Accept": "text/event-stream", "Authorization": f"Bearer {token(D1, seconds=2)}"}
    async with (
        httpx.AsyncClient(base_url=secured.url, timeout=10) as client,
        client.stream("POST", "/graphql/stream", json={"query": CHANGED}, headers=headers) as response,
    ):
        payloads = [p async for p in _within(sse_events(response), 5.0)]
    (closing,) = payloads
    assert closing["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "ERROR_AUTHENTICATE_FAILURE"}
    assert "expired" in closing["errors"][0]["message"]


async def test_over_sse_an_insert_and_an_update_reach_the_subscriber_within_a_second(gateway: Gateway) -> None:
    body = {"query": CHANGED, "variables": {"d": D1, "w": {"status": {"in": ["CREATED", "IN_PROGRESS"]}}}}
    async with (
        httpx.AsyncClient(base_url=gateway.url, timeout=10) as client,
        client.stream("POST", "/graphql/stream", json=body, headers={"Accept": "text/event-stream"}) as response,
    ):
        events = sse_events(response)
        await asyncio.sleep(0.3)  # subscribed at the hub
        new = {**gateway.data["job"][0], "job_id": "job-0000000new02", "status": "CREATED"}
        new.pop("_id")
        await gateway.store.insert_one("job", new)
        stored_at = time.monotonic()
        inserted = await asyncio.wait_for(anext(events), 2.0)
        assert time.monotonic() - stored_at < 1.0
        assert inserted["data"]["jobChanged"]["kind"] == "INSERTED"
        assert inserted["data"]["jobChanged"]["job"]["jobId"] == "job-0000000new02"
        await gateway.update("job-000000000001", remained_tasks=8)  # SUCCESS: not selected
        stored_at = await gateway.update("job-00000000abcd", remained_tasks=6)
        updated = await asyncio.wait_for(anext(events), 2.0)
        assert time.monotonic() - stored_at < 1.0
        assert updated["data"]["jobChanged"]["kind"] == "UPDATED"
        assert updated["data"]["jobChanged"]["job"]["jobId"] == "job-00000000abcd"


async def test_sse_refuses_several_operations_without_operation_name(gateway: Gateway) -> None:
    """GetOperation on the stream transport too: a request error, not the first one run."""
    body = {"query": CHANGED.replace("subscription(", "subscription A(") + " query B { __typename }"}
    async with (
        httpx.AsyncClient(base_url=gateway.url, timeout=10) as client,
        client.stream("POST", "/graphql/stream", json=body, headers={"Accept": "text/event-stream"}) as response,
    ):
        event = await asyncio.wait_for(anext(sse_events(response)), 5.0)
    assert "data" not in event or event["data"] is None
    assert "operationName" in event["errors"][0]["message"]


async def test_sse_answers_a_document_that_does_not_parse_with_one_error_event(gateway: Gateway) -> None:
    async with (
        httpx.AsyncClient(base_url=gateway.url, timeout=10) as client,
        client.stream(
            "POST", "/graphql/stream", json={"query": "{"}, headers={"Accept": "text/event-stream"}
        ) as response,
    ):
        events = [event async for event in sse_events(response)]
    assert [e["errors"][0]["extensions"]["reason"] for e in events] == ["ERROR_INVALID_GRAPHQL_DOCUMENT"]


async def test_over_websocket_a_request_error_is_an_error_message_and_the_connection_goes_on(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    """graphql-transport-ws: a document that does not parse, or whose operation cannot
    be chosen, is answered by an ``error`` message for its id, in the gateway's shape,
    as a validation error is (PROTOCOL.md, Error); nothing is logged as the gateway's
    fault, and the connection's other subscriptions go on."""
    invalid = "ERROR_INVALID_GRAPHQL_DOCUMENT"
    refused = {
        "1": ({"query": "{"}, invalid),
        "2": (
            {"query": CHANGED.replace("subscription(", "subscription A(") + " subscription B { jobChanged { kind } }"},
            invalid,
        ),
        "3": ({"query": "subscription { nope }"}, invalid),
        "4": ({"query": "subscription A { jobChanged { kind } }", "operationName": "Z"}, invalid),
        "5": ({"query": ""}, "ERROR_INVALID_REQUEST_BODY"),
    }
    url = gateway.url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(
            json.dumps({"id": "live", "type": "subscribe", "payload": {"query": CHANGED, "variables": {"d": D1}}})
        )
        for op, (payload, _) in refused.items():
            await ws.send(json.dumps({"id": op, "type": "subscribe", "payload": payload}))
        answers = {}
        async with asyncio.timeout(5):
            while len(answers) < len(refused):
                message = json.loads(await ws.recv())
                answers[message["id"]] = message
        await asyncio.sleep(0.3)
        await gateway.update("job-00000000abcd", remained_tasks=77)
        async with asyncio.timeout(5):
            event = json.loads(await ws.recv())
    for op, (_, reason) in refused.items():
        assert answers[op]["type"] == "error", answers[op]
        (error,) = answers[op]["payload"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["reason"] == reason
    assert "operationName" in answers["2"]["payload"][0]["message"]
    assert answers["4"]["payload"][0]["message"] == 'Unknown operation named "Z".'
    assert answers["5"]["payload"][0]["message"] == "a GraphQL request needs a query (or a documentId)."
    assert event["id"] == "live" and event["payload"]["data"]["jobChanged"]["job"]["remainedTasks"] == 77
    assert [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")] == []
