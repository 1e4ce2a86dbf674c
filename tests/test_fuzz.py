"""Property-based fuzzing of Query and StatisticsQuery JSON through both adapters:
whatever a client sends, the answer is never a 5xx, never a hang, always in budget."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.query.operators import OPERATORS
from gateway.settings import Settings
from tests.conftest import fixed_clock, memory_with
from tests.dataset import D1, dataset
from tests.fuzzing import FUZZ

# Processor time of this process per request (the gateway's work, the embedded engine's
# included), which other processes' load does not lengthen; a stall guard, not a
# performance measure (JOB_GATEWAY_FUZZ_BUDGET_SECONDS for a slower machine).
BUDGET_SECONDS = float(os.environ.get("JOB_GATEWAY_FUZZ_BUDGET_SECONDS", "2.0"))

KEYS = st.sampled_from(
    ["status", "job_id", "created_at", "errors", "errors.error_code", "projects", "filter", "filter.region", "total_tasks",
     "collector_info.provider", "collector_info", "$where", "a..b", "", "domain_id", "collector", "x" * 300, "_id"]
)  # fmt: skip
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20),
    st.sampled_from(["now/d-7d", "now-1h", "2024-05-15T10:00:00Z", "(a+)+$", "[", ".*", "$ne", "$domain_id", "ERROR"]),
)  # fmt: skip
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["$ne", "$gt", "error_code", "a", "$where"]), inner, max_size=3)
    ),
    max_leaves=8,
)
OPERATOR = st.sampled_from([*OPERATORS, "like", "", "$eq"]) | st.none()


@st.composite
def conditions(draw: Any) -> Any:
    cond = {}
    if draw(st.booleans()):
        cond["k" if draw(st.booleans()) else "key"] = draw(KEYS)
    cond["v" if draw(st.booleans()) else "value"] = draw(VALUES)
    op = draw(OPERATOR)
    if op is not None:
        cond["o" if draw(st.booleans()) else "operator"] = op
    return cond if draw(st.integers(0, 20)) else draw(VALUES)


QUERIES = st.fixed_dictionaries(
    {},
    optional={
        "filter": st.lists(conditions(), max_size=4) | VALUES,
        "filter_or": st.lists(conditions(), max_size=3),
        "sort": st.one_of(
            st.fixed_dictionaries({"key": KEYS, "desc": st.booleans() | VALUES}),
            st.lists(st.fixed_dictionaries({"key": KEYS}), max_size=2),
            VALUES,
        ),
        "page": st.fixed_dictionaries(
            {}, optional={"start": VALUES | st.integers(-5, 50), "limit": VALUES | st.integers(-5, 2000)}
        ),
        "only": st.lists(KEYS, max_size=3) | VALUES,
        "minimal": VALUES,
        "count_only": st.booleans() | VALUES,
        "keyword": st.text(max_size=30) | VALUES,
    },
)
NAMES = st.sampled_from(["n", "status", "day", "a.b", "$x", "", "count"])
GROUP = st.fixed_dictionaries(
    {},
    optional={
        "keys": st.lists(
            st.fixed_dictionaries(
                {"key": KEYS, "name": NAMES},
                optional={
                    "date_format": st.sampled_from(["year", "month", "day", "%Y-%m-%d", "%L", "%Q", ""]) | VALUES
                },
            ),
            max_size=2,
        ),
        "fields": st.lists(
            st.fixed_dictionaries(
                {
                    "name": NAMES,
                    "operator": st.sampled_from(
                        [
                            "count",
                            "sum",
                            "average",
                            "max",
                            "min",
                            "first",
                            "last",
                            "add_to_set",
                            "merge_objects",
                            "push",
                            "median",
                        ]
                    ),
                },
                optional={
                    "key": KEYS,
                    "conditions": st.lists(conditions(), max_size=2),
                    "fields": st.lists(st.fixed_dictionaries({"key": KEYS, "name": NAMES}), max_size=2),
                },
            ),
            max_size=3,
        ),
    },
)
PROJECT = st.fixed_dictionaries(
    {
        "fields": st.lists(
            st.fixed_dictionaries(
                {"name": NAMES},
                optional={
                    "key": KEYS,
                    "operator": st.sampled_from(
                        [
                            "size",
                            "sum",
                            "array_to_object",
                            "object_to_array",
                            "add",
                            "subtract",
                            "multiply",
                            "divide",
                            "pow",
                        ]
                    ),
                    "fields": st.lists(NAMES | st.integers() | VALUES, max_size=3),
                },
            ),
            max_size=3,
        )
    },
    optional={"exclude_keys": VALUES},
)
STAGES = st.one_of(
    st.builds(lambda g: {"group": g}, GROUP),
    st.builds(lambda p: {"unwind": {"path": p}}, KEYS),
    st.builds(lambda n: {"count": {"name": n}}, NAMES),
    st.builds(lambda k, d: {"sort": {"key": k, "desc": d}}, NAMES | KEYS, st.booleans()),
    st.builds(lambda p: {"project": p}, PROJECT),
    st.builds(lambda n: {"limit": n}, st.integers(-2, 5) | VALUES),
    st.builds(lambda n: {"skip": n}, st.integers(-2, 5) | VALUES),
    st.dictionaries(st.sampled_from(["group", "bucket", "limit"]), VALUES, max_size=2),
)
STAT_QUERIES = st.fixed_dictionaries(
    {},
    optional={
        "filter": st.lists(conditions(), max_size=3),
        "keyword": st.text(max_size=10),
        "aggregate": st.lists(STAGES, max_size=5) | VALUES,
        "distinct": KEYS | VALUES,
        "page": st.fixed_dictionaries(
            {}, optional={"start": st.integers(-3, 5) | VALUES, "limit": st.integers(-3, 2000) | VALUES}
        ),
    },
)


@pytest.fixture(scope="module")
def client() -> Any:
    with TestClient(
        create_app(Settings(), memory_with(dataset()), clock=fixed_clock), raise_server_exceptions=False
    ) as client:
        yield client


def timed(call: Any) -> Any:
    started = time.process_time()
    response = call()
    assert time.process_time() - started < BUDGET_SECONDS
    assert response.status_code < 500, response.text
    return response


@FUZZ
@given(query=QUERIES | VALUES)
def test_list_queries_through_rest(client: TestClient, query: Any) -> None:
    response = timed(lambda: client.post("/inventory/v1/jobs/search", json={"domain_id": D1, "query": query}))
    if response.status_code == 200:
        assert {r.get("domain_id", D1) for r in response.json()["results"]} <= {D1}
    else:
        assert response.json()["error"]["code"].startswith("ERROR_")


@FUZZ
@given(query=STAT_QUERIES | VALUES)
def test_stat_queries_through_rest(client: TestClient, query: Any) -> None:
    response = timed(lambda: client.post("/inventory/v1/jobs/stat", json={"domain_id": D1, "query": query}))
    if response.status_code != 200:
        assert response.json()["error"]["code"].startswith("ERROR_")


@FUZZ
@given(
    filter_=st.lists(conditions(), max_size=3),
    page=st.fixed_dictionaries({}, optional={"start": st.integers(-3, 10), "limit": st.integers(-3, 2000)}),
    only=st.lists(KEYS, max_size=2) | st.none(),
)
def test_list_queries_through_graphql(client: TestClient, filter_: Any, page: Any, only: Any) -> None:
    query = f'query($q: JobQueryInput) {{ jobs(domainId: "{D1}", query: $q) {{ totalCount results {{ jobId domainId }} }} }}'
    variables = {"q": {"filter": filter_, "page": page, "only": only}}
    body = timed(lambda: client.post("/graphql", json={"query": query, "variables": variables})).json()
    for error in body.get("errors", []):
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error


@FUZZ
@given(query=STAT_QUERIES)
def test_stat_queries_through_graphql(client: TestClient, query: Any) -> None:
    body = timed(
        lambda: client.post(
            "/graphql",
            json={
                "query": f'query($q: StatisticsQueryInput!) {{ jobStat(domainId: "{D1}", query: $q) }}',
                "variables": {"q": query},
            },
        )
    ).json()
    for error in body.get("errors", []):
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
