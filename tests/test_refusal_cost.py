"""A request over a limit is refused before any work that grows with what it holds:
a list of 20,000 items costs the same Python calls to refuse as one of 2,000, on
every route (REST list and stat, GraphQL jobs and jobStat, as variables), for every
kind of client list (condition values and the lists and objects inside them,
conditions, shortcut lists, only, sort keys, keyword words, stages, group keys and
fields, project fields). Counted in calls (sys.setprofile), not timed: the count does
not change with the machine's load.

The body itself is bounded by max_body_bytes (a 413 before it is read whole) and read
by C code alone (json, the nesting and Unicode checks), so its reading costs no Python
call per value either."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from tests.conftest import fixed_clock, memory_with
from tests.dataset import D1, dataset
from tests.routes import JOBS_GQL, STAT_GQL, graphql_names

SMALL, LARGE = 2_000, 20_000
# Calls the larger request may cost beyond the smaller one's: a few hundred come and
# go with the event loop's scheduling; one per extra item would be 18,000.
SLACK = 1_000


class Counter:
    """Python and C function calls made on any thread while ``on``."""

    def __init__(self) -> None:
        self.on = False
        self.calls = 0

    def __call__(self, frame: Any, event: str, arg: Any) -> None:
        if self.on and event in ("call", "c_call"):
            self.calls += 1


@pytest.fixture(scope="module")
def counted() -> Iterator[tuple[TestClient, Counter]]:
    counter = Counter()
    # Installed before the client starts its event loop's thread (and its workers).
    threading.setprofile(counter)
    sys.setprofile(counter)
    try:
        settings = Settings(max_body_bytes=16 * 1024 * 1024)
        with TestClient(create_app(settings, memory_with(dataset()), clock=fixed_clock)) as client:
            yield client, counter
    finally:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]


def _values(n: int) -> list[str]:
    return [f"job-{i:012d}" for i in range(n)]


Case = Callable[[int], tuple[dict[str, Any], dict[str, Any]]]
CASES: dict[str, tuple[tuple[str, ...], Case]] = {
    "in values": (("list", "stat"), lambda n: ({"filter": [{"k": "job_id", "v": _values(n), "o": "in"}]}, {})),
    "lists in a value": (
        ("list", "stat"),
        lambda n: ({"filter_or": [{"k": "filter", "v": [[v] for v in _values(n)], "o": "in"}]}, {}),
    ),
    "object value": (
        ("list", "stat"),
        lambda n: ({"filter": [{"k": "filter", "v": dict.fromkeys(_values(n), 1)}]}, {}),
    ),
    "conditions": (("list", "stat"), lambda n: ({"filter": [{"k": "job_id", "v": "x"}] * n}, {})),
    "keyword words": (("list", "stat"), lambda n: ({"keyword": " ".join(_values(n))}, {})),
    "only": (("list",), lambda n: ({"only": ["job_id"] * n}, {})),
    "sort keys": (("list",), lambda n: ({"sort": {"keys": [{"key": "job_id"}] * n}}, {})),
    "job_id shortcut": (("list",), lambda n: ({}, {"job_id": _values(n)})),
    "stages": (("stat",), lambda n: ({"aggregate": [{"count": {"name": "c"}}] * n}, {})),
    "group keys": (
        ("stat",),
        lambda n: ({"aggregate": [{"group": {"keys": [{"key": "status", "name": f"k{i}"} for i in range(n)]}}]}, {}),
    ),
    "group fields": (
        ("stat",),
        lambda n: (
            {"aggregate": [{"group": {"fields": [{"name": f"f{i}", "operator": "count"} for i in range(n)]}}]},
            {},
        ),
    ),
    "project operands": (
        ("stat",),
        lambda n: (
            {
                "aggregate": [
                    {"count": {"name": "c"}},
                    {"project": {"fields": [{"name": "x", "operator": "add", "fields": [1] * n}]}},
                ]
            },
            {},
        ),
    ),
}


def _request(route: str, query: dict[str, Any], shortcuts: dict[str, Any]) -> tuple[str, bytes]:
    rest, stat = route.startswith("rest"), route.endswith("stat")
    if stat and "aggregate" not in query:
        query = {**query, "distinct": "job_id"}
    if rest:
        body: dict[str, Any] = {"domain_id": D1, "query": query, **shortcuts}
        return ("/inventory/v1/jobs/stat" if stat else "/inventory/v1/jobs/search"), json.dumps(body).encode()
    variables = {"q": graphql_names(query), **({"jobId": shortcuts["job_id"]} if shortcuts else {})}
    document = (STAT_GQL if stat else JOBS_GQL) % D1
    return "/graphql", json.dumps({"query": document, "variables": variables}).encode()


def _refusal(client: TestClient, counter: Counter, path: str, body: bytes) -> tuple[int, str]:
    counter.calls, counter.on = 0, True
    try:
        response = client.post(path, content=body, headers={"content-type": "application/json"})
    finally:
        counter.on = False
    text = response.text
    assert "ERROR_LIMIT_EXCEEDED" in text, text[:300]
    assert response.status_code == (200 if path == "/graphql" else 400), text[:300]
    return counter.calls, text


@pytest.mark.parametrize(
    ("route", "case"),
    [(f"{api}-{kind}", case) for case, (kinds, _) in CASES.items() for kind in kinds for api in ("rest", "gql")],
)
def test_a_refusal_costs_no_call_per_item(counted: tuple[TestClient, Counter], route: str, case: str) -> None:
    client, counter = counted
    make = CASES[case][1]
    path, small = _request(route, *make(SMALL))
    _refusal(client, counter, path, small)  # first call: imports and caches
    small_calls, _ = _refusal(client, counter, path, small)
    path, large = _request(route, *make(LARGE))
    large_calls, text = _refusal(client, counter, path, large)
    assert large_calls - small_calls < SLACK, (small_calls, large_calls, text[:300])


@pytest.mark.parametrize("path", ["/inventory/v1/jobs/search", "/inventory/v1/jobs/stat", "/graphql"])
def test_a_body_over_the_limit_is_refused_before_it_is_read(counted: tuple[TestClient, Counter], path: str) -> None:
    client, counter = counted
    values = _values(1_000_000)  # 19 MB of JSON, over the 16 MiB limit
    if path == "/graphql":
        body = {"query": JOBS_GQL % D1, "variables": {"jobId": values}}
    else:
        body = {"domain_id": D1, "query": {"filter": [{"k": "job_id", "v": values, "o": "in"}]}}
    raw = json.dumps(body).encode()
    counter.calls, counter.on = 0, True
    try:
        response = client.post(path, content=raw, headers={"content-type": "application/json"})
    finally:
        counter.on = False
    assert response.status_code == 413, response.text[:300]
    assert "max_body_bytes" in response.text
    assert counter.calls < SLACK * 20, counter.calls  # not one per value, nor one per chunk read
