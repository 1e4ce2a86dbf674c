"""Production behaviour that can be checked without a MongoDB server: a database that
is gone, health and readiness, metrics, request ids, JSON logs, index creation, error
mapping of the MongoDB driver, and the container recipe."""

from __future__ import annotations

import io
import json
import logging
import re
import time
import tomllib
from collections.abc import Iterator
from typing import Any

import pytest
from pymongo.errors import (
    AutoReconnect,
    ExecutionTimeout,
    NetworkTimeout,
    OperationFailure,
    ServerSelectionTimeoutError,
)
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.errors import GatewayError, InternalError, InvalidQuery, QueryTimedOut, StoreUnavailable
from gateway.logs import log_handler
from gateway.settings import Settings
from gateway.store.indexes import INDEXES, ensure_indexes
from gateway.store.memory import MemoryJobStore
from gateway.store.mongo import _errors
from tests.conftest import ROOT, SLACK_SECONDS, gql
from tests.dataset import D1
from tests.processes import free_port

pytestmark = pytest.mark.anyio


@pytest.fixture
def gone() -> Any:
    """An app whose MongoDB is a closed loopback port, with a 300 ms selection budget."""
    uri = f"mongodb://127.0.0.1:{free_port()}/?directConnection=true"
    settings = Settings(mongodb_uri=uri, server_selection_timeout_ms=300, max_time_ms=500, insecure_no_auth=True)
    with TestClient(create_app(settings)) as client:
        yield client


def test_database_gone_answers_unavailable_within_budget(gone: TestClient) -> None:
    for attempt in range(2):  # the second request still answers: no stuck state
        started = time.perf_counter()
        response = gone.post("/inventory/v1/jobs/search", json={"domain_id": D1})
        elapsed = time.perf_counter() - started
        assert response.status_code == 503, attempt
        assert response.json()["error"]["code"] == "ERROR_DB_UNAVAILABLE"
        assert elapsed < 0.5 + SLACK_SECONDS
    stat = gone.post("/inventory/v1/jobs/stat", json={"domain_id": D1, "query": {"distinct": "status"}})
    assert stat.status_code == 503
    body = gql(gone, f'{{ jobs(domainId: "{D1}") {{ totalCount }} }}')
    assert body["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    assert "Traceback" not in json.dumps(body)


def test_health_and_readiness(gone: TestClient, client: TestClient) -> None:
    assert gone.get("/healthz").status_code == 200
    ready = gone.get("/readyz")
    assert ready.status_code == 503 and ready.json()["status"] == "unavailable" and ready.json()["reason"]
    assert client.get("/readyz").json() == {"status": "ready"}


def test_request_id_round_trips(client: TestClient) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "req-42.a:b"}).headers["x-request-id"] == "req-42.a:b"
    generated = client.get("/healthz", headers={"X-Request-ID": "bad id\n"}).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert client.get("/healthz").headers["x-request-id"] != generated


def test_metrics_after_requests(client: TestClient) -> None:
    client.post("/inventory/v1/jobs/search", json={"domain_id": D1})
    client.post("/inventory/v1/jobs/search", json={})
    client.post("/graphql", json={"query": f'query ListJobs {{ jobs(domainId: "{D1}") {{ totalCount }} }}'})
    client.get("/no/such/route")
    text = client.get("/metrics").text
    assert 'job_gateway_requests_total{operation="",route="/inventory/v1/jobs/search",status="200"} 1.0' in text
    assert 'job_gateway_requests_total{operation="",route="/inventory/v1/jobs/search",status="400"} 1.0' in text
    assert 'job_gateway_requests_total{operation="ListJobs",route="/graphql",status="200"} 1.0' in text
    assert 'route="other"' in text and "/no/such/route" not in text
    assert 'job_gateway_request_duration_seconds_bucket{le="0.1",operation="ListJobs",route="/graphql"}' in text
    assert 'job_gateway_store_call_duration_seconds_count{collection="job",method="find"}' in text
    assert 'job_gateway_errors_total{code="ERROR_REQUIRED_PARAMETER"} 1.0' in text
    assert 'job_gateway_errors_total{code="ERROR_NOT_FOUND"} 1.0' in text


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the gateway's log handler writes while the test runs (INFO and up)."""
    stream = io.StringIO()
    handler = log_handler(stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_one_json_log_line_per_request(client: TestClient, json_log: io.StringIO) -> None:
    client.post(
        "/graphql",
        json={"query": f'query Named {{ jobs(domainId: "{D1}") {{ totalCount }} }}'},
        headers={"X-Request-ID": "abc", "Authorization": "Bearer secret-token"},
    )
    (line,) = [line for line in _lines(json_log) if line["logger"] == "gateway.access"]
    assert line["request_id"] == "abc" and line["route"] == "/graphql" and line["operation"] == "Named"
    assert line["status"] == 200 and line["duration_ms"] >= 0 and line["method"] == "POST"
    assert line["level"] == "info" and line["message"] == "request" and line["time"].endswith("+00:00")
    assert "secret-token" not in json_log.getvalue()


class BrokenStore(MemoryJobStore):
    async def find(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")


def test_every_log_line_of_a_request_carries_its_id(json_log: io.StringIO) -> None:
    """Not only the access log: an unexpected error's line too, from GraphQL and REST."""
    with TestClient(create_app(Settings(), BrokenStore()), raise_server_exceptions=False) as broken:
        query = f'{{ jobs(domainId: "{D1}") {{ results {{ jobId }} }} }}'
        assert broken.post("/graphql", json={"query": query}, headers={"X-Request-ID": "gql-1"}).status_code == 200
        rest = broken.post("/inventory/v1/jobs/search", json={"domain_id": D1}, headers={"X-Request-ID": "rest-1"})
        assert rest.status_code == 500
    errors = [line for line in _lines(json_log) if line["level"] == "error"]
    assert sorted(line["request_id"] for line in errors) == ["gql-1", "rest-1"]
    assert all("disk on fire" in line["exception"] for line in errors)
    access = {line["request_id"]: line["status"] for line in _lines(json_log) if line["logger"] == "gateway.access"}
    assert access == {"gql-1": 200, "rest-1": 500}


class FakeCollection:
    def __init__(self, existing: dict[str, Any]) -> None:
        self.existing = existing
        self.created: list[tuple[Any, dict[str, Any]]] = []

    async def index_information(self) -> dict[str, Any]:
        return self.existing

    async def create_index(self, keys: Any, **options: Any) -> str:
        self.created.append((keys, options))
        self.existing[options["name"]] = {"key": keys}
        return options["name"]


class FakeDatabase:
    def __init__(self, job_id_index: dict[str, Any] | None = None) -> None:
        # A SpaceONE database already has job_id indexed, under its own name.
        job_id = {"key": [("job_id", 1)], "unique": True, **(job_id_index or {})}
        self.collections = {
            "jobs": FakeCollection({"_id_": {"key": [("_id", 1)]}, "job_id_1": job_id}),
            "cols": FakeCollection({}),
        }

    def get_collection(self, name: str) -> FakeCollection:
        return self.collections[name]


NAMES = {"job": "jobs", "collector": "cols"}


async def test_create_indexes_is_idempotent() -> None:
    db = FakeDatabase()
    first = await ensure_indexes(db, NAMES)  # type: ignore[arg-type]
    assert first[0] == "exists   jobs (job_id asc) as job_id_1"
    assert sum(line.startswith("created") for line in first) == len(INDEXES) - 1
    assert ({"name": "domain_status_created_at", "unique": False}) in [o for _, o in db.collections["jobs"].created]
    second = await ensure_indexes(db, NAMES)  # type: ignore[arg-type]
    assert all(line.startswith("exists") for line in second)
    assert len(db.collections["jobs"].created) == 4 and len(db.collections["cols"].created) == 1


@pytest.mark.parametrize(
    ("options", "said"),
    [
        ({"unique": False}, "is not unique"),
        ({"partialFilterExpression": {"status": "SUCCESS"}}, "is partial"),
        ({"sparse": True}, "is sparse"),
        ({"collation": {"locale": "fr", "strength": 2}}, "has the collation 'fr'"),
        ({"hidden": True}, "is hidden from the query planner"),
        ({"unique": False, "sparse": True}, "is not unique and is sparse"),
    ],
)
async def test_an_index_on_the_same_keys_that_falls_short_is_a_warning(options: dict[str, Any], said: str) -> None:
    db = FakeDatabase(options)
    for _ in range(2):  # left alone, so said again
        first = (await ensure_indexes(db, NAMES))[0]  # type: ignore[arg-type]
        assert first.startswith(f"warning  jobs (job_id asc) as job_id_1 {said}")
        assert "; the gateway needs a unique index for job(jobId)" in first
    assert not any(keys == [("job_id", 1)] for keys, _ in db.collections["jobs"].created)


async def test_a_simple_collation_serves() -> None:
    first = (await ensure_indexes(FakeDatabase({"collation": {"locale": "simple"}}), NAMES))[0]  # type: ignore[arg-type]
    assert first == "exists   jobs (job_id asc) as job_id_1"


TIMED_OUT = QueryTimedOut(5000)
UNREACHABLE = StoreUnavailable.unreachable(3000)


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (ServerSelectionTimeoutError("no servers"), UNREACHABLE),
        (NetworkTimeout("slow"), TIMED_OUT),
        (ExecutionTimeout("maxTimeMS", code=50), TIMED_OUT),
        (AutoReconnect("connection reset"), StoreUnavailable.connection_lost()),
        (OperationFailure("Regular expression is invalid", code=51091), InvalidQuery),
        (OperationFailure("bad value", code=2), InvalidQuery),
        (OperationFailure("not authorized", code=13), InternalError),
    ],
)
def test_driver_errors_are_mapped(raised: Exception, expected: Exception | type[Exception]) -> None:
    """Each to the gateway's error; a database that is not there, out of time or gone
    mid-query in the API's words (the cause), never the driver's class or option names."""
    with pytest.raises(GatewayError) as caught, _errors(timed_out=TIMED_OUT, unreachable=UNREACHABLE):
        raise raised
    if isinstance(expected, type):
        assert isinstance(caught.value, expected)
    else:
        assert (type(caught.value), caught.value.message) == (type(expected), expected.message)
        assert type(raised).__name__ not in caught.value.message and "MS" not in caught.value.message


def test_dockerfile_builds_from_what_the_repo_has() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, re.M):
        for path in source.split():
            assert (ROOT / path).exists(), f"Dockerfile copies {path}, which is not in the repository"
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    entrypoint = json.loads(re.search(r"^ENTRYPOINT (.+)$", dockerfile, re.M).group(1))
    assert entrypoint[0] in scripts and entrypoint[1] == "serve"
    assert re.search(r"^USER (?!root|0\b)\S+", dockerfile, re.M)
    assert "/healthz" in re.search(r"^HEALTHCHECK[\s\S]+?\n(?=\S)", dockerfile + "\nX", re.M).group(0)
    assert "JOB_GATEWAY_HOST=0.0.0.0" in dockerfile and "JOB_GATEWAY_WORKERS" in dockerfile


def test_cors_only_for_configured_origins() -> None:
    from tests.conftest import memory_with
    from tests.dataset import dataset

    settings = Settings(cors_origins="https://console.example.com, https://other.example.com")
    with TestClient(create_app(settings, memory_with(dataset()))) as client:
        headers = {
            "Origin": "https://console.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        }
        preflight = client.options("/graphql", headers=headers)
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://console.example.com"
        refused = client.options("/graphql", headers={**headers, "Origin": "https://evil.example.com"})
        assert "access-control-allow-origin" not in refused.headers
    with TestClient(create_app(Settings(), memory_with(dataset()))) as client:
        response = client.post(
            "/inventory/v1/jobs/search", json={"domain_id": D1}, headers={"Origin": "https://console.example.com"}
        )
        assert "access-control-allow-origin" not in response.headers


def test_cors_allowed_headers_come_from_the_setting() -> None:
    """JOB_GATEWAY_CORS_HEADERS: what a browser client may add (Apollo Client's
    apollographql-client-name, say) is a setting, not code."""
    from tests.conftest import memory_with
    from tests.dataset import dataset

    origin = "https://console.example.com"
    asked = {"Origin": origin, "Access-Control-Request-Method": "POST"}
    apollo = {**asked, "Access-Control-Request-Headers": "content-type,apollographql-client-name"}
    with TestClient(create_app(Settings(cors_origins=origin), memory_with(dataset()))) as client:
        assert client.options("/graphql", headers=apollo).status_code == 400  # not in the default list
        default = client.options("/graphql", headers={**asked, "Access-Control-Request-Headers": "x-request-id"})
        assert default.status_code == 200
    settings = Settings.from_environ(
        {"JOB_GATEWAY_CORS_ORIGINS": origin, "JOB_GATEWAY_CORS_HEADERS": "Content-Type, apollographql-client-name"}
    )
    with TestClient(create_app(settings, memory_with(dataset()))) as client:
        allowed = client.options("/graphql", headers=apollo)
        assert allowed.status_code == 200
        assert "apollographql-client-name" in allowed.headers["access-control-allow-headers"].lower()
        refused = client.options("/graphql", headers={**asked, "Access-Control-Request-Headers": "authorization"})
        assert refused.status_code == 400
