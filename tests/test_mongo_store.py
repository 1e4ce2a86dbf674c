"""The MongoDB engine's configuration, without a server: options written in the URI win
over the settings, the effective values are logged once without credentials, and a
request's database calls share one time budget."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.logs import JsonFormatter
from gateway.settings import Settings, SettingsError
from gateway.store.mongo import MongoJobStore
from gateway.store.request_budget import remaining, request_budget
from tests.conftest import SLACK_SECONDS
from tests.dataset import D1
from tests.processes import free_port

pytestmark = pytest.mark.anyio


def _logged(caplog: pytest.LogCaptureFixture) -> dict[str, Any]:
    (record,) = [r for r in caplog.records if r.name == "gateway.store"]
    text = JsonFormatter().format(record)
    return json.loads(text)["mongodb"] | {"_text": text}


async def test_options_written_in_the_uri_win(caplog: pytest.LogCaptureFixture) -> None:
    uri = (
        "mongodb://reader:s3cret@127.0.0.1:1,127.0.0.1:2/inventory?replicaSet=rs0&serverSelectionTimeoutMS=800"
        "&timeoutMS=2000&readPreference=secondary&appName=dashboards"
    )
    with caplog.at_level(logging.INFO, logger="gateway.store"):
        store = MongoJobStore(uri, timeout_ms=5000, server_selection_timeout_ms=3000, stat_read_preference="nearest")
    try:
        logged = _logged(caplog)  # read back from the client's own options
        assert (logged["timeoutMS"], logged["serverSelectionTimeoutMS"]) == (2000, 800)
        assert logged["connectTimeoutMS"] == 3000  # not in the URI: the setting
        assert logged["appName"] == "dashboards"
        # The URI's read preference is every read's, lists' and statistics' alike.
        assert logged["readPreference"] == {"list": {"mode": "secondary"}, "stat": {"mode": "secondary"}}
        assert logged["from_uri"] == ["appName", "readPreference", "serverSelectionTimeoutMS", "timeoutMS"]
        assert logged["hosts"] == "127.0.0.1:1,127.0.0.1:2"
        assert "s3cret" not in logged["_text"] and "reader" not in logged["_text"]
    finally:
        await store.close()


async def test_settings_fill_in_what_the_uri_leaves_out(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="gateway.store"):
        store = MongoJobStore("mongodb://127.0.0.1:1/", timeout_ms=4000, server_selection_timeout_ms=1500)
    try:
        logged = _logged(caplog)
        assert (logged["timeoutMS"], logged["serverSelectionTimeoutMS"], logged["connectTimeoutMS"]) == (
            4000,
            1500,
            1500,
        )
        assert logged["readPreference"] == {"list": {"mode": "primary"}, "stat": {"mode": "secondaryPreferred"}}
        assert logged["appName"] == "job-gateway" and logged["from_uri"] == []
    finally:
        await store.close()


@pytest.mark.parametrize("written", ["timeoutMS=300", "serverSelectionTimeoutMS=300"])
def test_the_uri_bounds_the_wait_for_a_database_that_is_not_there(written: str) -> None:
    """Settings say 5 s and 3 s; the URI says 300 ms: the caller waits 300 ms, and is
    told the true cause in the API's words (no server), on every route."""
    uri = f"mongodb://127.0.0.1:{free_port()}/?{written}"
    settings = Settings(mongodb_uri=uri, max_time_ms=5000, server_selection_timeout_ms=3000, insecure_no_auth=True)
    unreachable = "the database is unreachable: no server answered within 300 ms."
    with TestClient(create_app(settings)) as client:
        for _ in range(2):
            started = time.perf_counter()
            response = client.post("/inventory/v1/jobs/search", json={"domain_id": D1})
            assert time.perf_counter() - started < 0.3 + SLACK_SECONDS
            assert response.status_code == 503
            assert response.json()["error"] == {"code": "ERROR_DB_UNAVAILABLE", "message": unreachable}
        body = client.post("/graphql", json={"query": f'{{ jobs(domainId: "{D1}") {{ totalCount }} }}'}).json()
        assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [(unreachable, "UNAVAILABLE")]
        ready = client.get("/readyz")
        assert (ready.status_code, ready.json()) == (503, {"status": "unavailable", "reason": unreachable})


@pytest.mark.parametrize("option", ["timeoutMS=abc", "readPreference=fastest", "serverSelectionTimeoutMS=-1"])
def test_a_uri_option_pymongo_refuses_stops_start_up_with_one_line(option: str) -> None:
    name = option.partition("=")[0]
    with pytest.raises(SettingsError, match=f'^MONGODB_URI option "{name}": ') as refused:
        Settings(mongodb_uri=f"mongodb://reader:s3cret@db/?{option}", insecure_no_auth=True)
    assert "\n" not in str(refused.value) and "s3cret" not in str(refused.value)


async def test_one_budget_per_request_shared_by_its_tasks() -> None:
    assert remaining(2.0) == 2.0  # outside a request: each call has the whole budget
    with request_budget():
        await asyncio.sleep(0.05)  # not counted: the clock starts at the first call
        before_first = time.monotonic()
        assert remaining(2.0) == 2.0
        after_first = time.monotonic()
        await asyncio.sleep(0.05)
        before = time.monotonic()
        in_tasks = await asyncio.gather(*(asyncio.create_task(_remaining_in_task()) for _ in range(3)))
        after = time.monotonic()
        # Each task sees the one clock, started at the first call: what the clocks read
        # around the calls bounds what is left, however long the sleeps took.
        assert all(2.0 - (after - before_first) <= left <= 2.0 - (before - after_first) for left in in_tasks)
        assert all(left <= 1.951 for left in in_tasks)
    assert remaining(2.0) == 2.0


async def _remaining_in_task() -> float:
    return remaining(2.0)
