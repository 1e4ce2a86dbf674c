"""One definition of a job's collector (gateway.query.collectors) drives the output,
list filters, stat filters, sorts by collector fields and stat group keys: on data
where the stored references disagree, every route and both adapters agree."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from bson import ObjectId

from tests.conftest import gql

D1, D2 = "domain-rule00000001", "domain-rule00000002"
ALPHA, BETA, ELSEWHERE = (ObjectId(f"67a00000000000000000000{i}") for i in range(1, 4))


def _collector(oid: ObjectId, cid: str, name: str, domain: str, **extra: Any) -> dict[str, Any]:
    return {"_id": oid, "collector_id": cid, "name": name, "state": "ENABLED", "domain_id": domain, **extra}


def _job(n: int, **refs: Any) -> dict[str, Any]:
    return {
        "_id": ObjectId(f"67b00000000000000000000{n}"),
        "job_id": f"job-rule0000000{n}",
        "status": "SUCCESS",
        "domain_id": D1,
        "projects": [],
        "created_at": datetime(2024, 5, n),
        **refs,
    }


DATA = {
    "collector": [
        _collector(ALPHA, "collector-alpha", "Alpha", D1, provider="aws"),
        _collector(BETA, "collector-beta", "Beta", D1),  # no provider
        _collector(ELSEWHERE, "collector-else", "Elsewhere", D2, provider="aws"),
    ],
    "job": [
        _job(1, collector_id="", collector=ALPHA),  # "" is unset: the old reference is followed
        _job(2, collector_id=None, collector=ALPHA),
        _job(3, collector_id="collector-gone", collector=BETA),  # the id wins: its collector is gone
        _job(4, collector_id="collector-beta"),
        _job(5, collector_id="collector-else"),  # another domain's collector counts as gone
        _job(6),  # names no collector
        _job(7, collector_id="collector-alpha"),
    ],
}
# What the rule says each job's collector is.
NAMES = {1: "Alpha", 2: "Alpha", 3: None, 4: "Beta", 5: None, 6: None, 7: "Alpha"}


def jobs(*numbers: int) -> set[str]:
    return {f"job-rule0000000{n}" for n in numbers}


# (condition, the jobs it selects): the collectors of the domain that match, then their
# jobs; a negative operator keeps the jobs whose collector is not among them (contract 3.2).
CONDITIONS = [
    ({"k": "collector_info.name", "v": "Alpha", "o": "eq"}, jobs(1, 2, 7)),
    ({"k": "collector_info.name", "v": "Alpha", "o": "not"}, jobs(3, 4, 5, 6)),
    ({"k": "collector_info.name", "v": ["Alpha", "Beta"], "o": "in"}, jobs(1, 2, 4, 7)),
    ({"k": "collector_info.name", "v": ["Beta"], "o": "not_in"}, jobs(1, 2, 3, 5, 6, 7)),
    ({"k": "collector_info.provider", "v": None, "o": "eq"}, jobs(4)),
    ({"k": "collector_info.provider", "v": False, "o": "exists"}, jobs(4)),
    ({"k": "collector_info.provider", "v": True, "o": "exists"}, jobs(1, 2, 7)),
    ({"k": "collector_info.provider", "v": "aws", "o": "not"}, jobs(3, 4, 5, 6)),
    ({"k": "collector_info.name", "v": "alp", "o": "contain"}, jobs(1, 2, 7)),
    ({"k": "collector_info.name", "v": "alp", "o": "not_contain"}, jobs(3, 4, 5, 6)),
]
JOBS_GQL = """query($q: JobQueryInput) { jobs(domainId: "%s", query: $q) { totalCount results { jobId collectorInfo { name } } } }"""
STAT_GQL = """query($q: StatisticsQueryInput!) { jobStat(domainId: "%s", query: $q) }"""


@pytest.fixture
def rule_client(make_client: Any) -> Any:
    return make_client(DATA)[0]


def rest_list(client: Any, query: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/inventory/v1/jobs/search", json={"domain_id": D1, "query": query})
    assert response.status_code == 200, response.text
    return response.json()


def rest_stat(client: Any, query: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/inventory/v1/jobs/stat", json={"domain_id": D1, "query": query})
    assert response.status_code == 200, response.text
    return response.json()


def test_output_follows_the_rule(rule_client: Any) -> None:
    rest = rest_list(rule_client, {})["results"]
    assert {r["job_id"]: r.get("collector_info", {}).get("name") for r in rest} == {
        f"job-rule0000000{n}": name for n, name in NAMES.items()
    }
    graphql = gql(rule_client, JOBS_GQL % D1)["data"]["jobs"]["results"]
    assert {r["jobId"]: (r["collectorInfo"] or {}).get("name") for r in graphql} == {
        f"job-rule0000000{n}": name for n, name in NAMES.items()
    }


@pytest.mark.parametrize(("condition", "expected"), CONDITIONS, ids=str)
def test_list_and_stat_select_the_same_jobs(rule_client: Any, condition: dict[str, Any], expected: set[str]) -> None:
    for key, graphql_key in (("filter", "filter"), ("filter_or", "filterOr")):
        listed = rest_list(rule_client, {key: [condition]})
        assert {r["job_id"] for r in listed["results"]} == expected
        assert listed["total_count"] == len(expected)
        by_graphql = gql(rule_client, JOBS_GQL % D1, {"q": {graphql_key: [condition]}})["data"]["jobs"]
        assert {r["jobId"] for r in by_graphql["results"]} == expected
        assert by_graphql["totalCount"] == len(expected)
        assert set(rest_stat(rule_client, {key: [condition], "distinct": "job_id"})["results"]) == expected
        stat_graphql = {graphql_key: [condition], "distinct": "job_id"}
        assert set(gql(rule_client, STAT_GQL % D1, {"q": stat_graphql})["data"]["jobStat"]["results"]) == expected


def test_stat_group_keys_follow_the_rule(rule_client: Any) -> None:
    query = {
        "aggregate": [
            {
                "group": {
                    "keys": [{"key": "collector_info.name", "name": "collector"}],
                    "fields": [{"name": "jobs", "operator": "push", "key": "job_id"}],
                }
            }
        ]
    }
    rows = rest_stat(rule_client, query)["results"]
    grouped = {row.get("collector"): set(row["jobs"]) for row in rows}
    expected: dict[Any, set[str]] = {}
    for n, name in NAMES.items():
        expected.setdefault(name, set()).update(jobs(n))
    assert grouped == expected


def test_sort_by_collector_field_follows_the_rule(rule_client: Any) -> None:
    for desc in (False, True):
        rows = rest_list(rule_client, {"sort": {"key": "collector_info.name", "desc": desc}})["results"]
        order = [r["job_id"] for r in rows]
        # MongoDB sorts null below every string; ties are broken by document id, ascending.
        if not desc:
            assert order == [*sorted(jobs(3, 5, 6)), *sorted(jobs(1, 2, 7)), *jobs(4)]
        else:
            assert order == [*jobs(4), *sorted(jobs(1, 2, 7)), *sorted(jobs(3, 5, 6))]


def test_the_store_maps_the_compilers_collection_names() -> None:
    """The compiler joins the logical `collector` collection; the store maps it to the
    configured physical name, so a renamed collection still joins."""
    from starlette.testclient import TestClient

    from gateway.app import create_app
    from gateway.query.collectors import COLLECTOR
    from gateway.settings import Settings
    from gateway.store.base import COLLECTOR as STORE_COLLECTOR
    from gateway.store.memory import MemoryJobStore

    assert COLLECTOR == STORE_COLLECTOR
    store = MemoryJobStore({"job": "jobs_v2", "collector": "collectors_v2"})
    for name, docs in DATA.items():
        store.insert(name, [dict(d) for d in docs])  # type: ignore[arg-type]
    with TestClient(create_app(Settings(), store)) as client:
        query = {"aggregate": [{"group": {"keys": [{"key": "collector_info.name", "name": "c"}]}}]}
        rows = rest_stat(client, query)["results"]
        assert {row.get("c") for row in rows} == {"Alpha", "Beta", None}
        sorted_rows = rest_list(client, {"sort": {"key": "collector_info.name", "desc": True}})["results"]
        assert sorted_rows[0]["collector_info"]["name"] == "Beta"
