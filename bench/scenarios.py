"""The benchmark scenarios: each one logical request, as GraphQL and as REST."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from load import Request

GRAPHQL = "/graphql"
SEARCH = "/inventory/v1/jobs/search"
STAT = "/inventory/v1/jobs/stat"

# Every field the REST JobInfo writes, so both sides carry the same data.
JOB_FIELDS = """jobId status filter totalTasks remainedTasks projectId domainId createdAt updatedAt finishedAt
  errors { errorCode message additional }
  collectorInfo { collectorId name state provider capability isPublic projectId pluginInfo { pluginId version } }"""


@dataclass(frozen=True)
class Scenario:
    name: str
    graphql: Request
    rest: Request
    # The service call the scenario makes, for the store-call counts and the floor.
    service_call: tuple[str, dict[str, Any]]


def _gql(query: str, variables: dict[str, Any]) -> Request:
    return Request("POST", GRAPHQL, {"query": query, "variables": variables})


def list_page(domain: str, limit: int) -> Scenario:
    query = f"query List($d: String!, $n: Int!) {{ jobs(domainId: $d, query: {{page: {{limit: $n}}}}) {{ totalCount results {{ {JOB_FIELDS} }} }} }}"
    body = {"domain_id": domain, "query": {"page": {"limit": limit}}}
    return Scenario(
        f"list, page of {limit}", _gql(query, {"d": domain, "n": limit}), Request("POST", SEARCH, body), ("list", body)
    )


# Jobs per day and status over 60 days: the stat scenario (also bench/embedded.py's).
PER_DAY: dict[str, Any] = {
    "filter": [{"k": "created_at", "v": "now/d-60d", "o": "timediff_gte"}],
    "aggregate": [
        {
            "group": {
                "keys": [
                    {"key": "created_at", "name": "day", "date_format": "%Y-%m-%d"},
                    {"key": "status", "name": "status"},
                ],
                "fields": [{"name": "count", "operator": "count"}],
            }
        },
        {"sort": {"keys": [{"key": "day"}, {"key": "status"}]}},
    ],
}


def scenarios(domain: str, job_id: str) -> list[Scenario]:
    per_day = PER_DAY
    # GraphQL's typed input names the date format in camelCase; the rest is the same.
    gql_per_day = json.loads(json.dumps(per_day).replace('"date_format"', '"dateFormat"'))
    stat_query = "query Stat($d: String!, $q: StatisticsQueryInput!) { jobStat(domainId: $d, query: $q) }"
    count_body = {"domain_id": domain, "query": {"count_only": True}}
    one_body = {"domain_id": domain, "job_id": job_id}
    return [
        list_page(domain, 20),
        list_page(domain, 1000),
        Scenario(
            "list, count_only",
            _gql(
                "query Count($d: String!) { jobs(domainId: $d, query: {countOnly: true}) { totalCount } }",
                {"d": domain},
            ),
            Request("POST", SEARCH, count_body),
            ("list", count_body),
        ),
        Scenario(
            "job(jobId)",
            _gql(
                f"query One($d: String!, $id: ID!) {{ job(domainId: $d, jobId: $id) {{ {JOB_FIELDS} }} }}",
                {"d": domain, "id": job_id},
            ),
            Request("POST", SEARCH, one_body),
            ("list", one_body),
        ),
        Scenario(
            "stat, status per day, 60 days",
            _gql(stat_query, {"d": domain, "q": gql_per_day}),
            Request("POST", STAT, {"domain_id": domain, "query": per_day}),
            ("stat", {"domain_id": domain, "query": per_day}),
        ),
        Scenario(
            "stat, distinct collector ids",
            _gql(stat_query, {"d": domain, "q": {"distinct": "collector_id"}}),
            Request("POST", STAT, {"domain_id": domain, "query": {"distinct": "collector_id"}}),
            ("stat", {"domain_id": domain, "query": {"distinct": "collector_id"}}),
        ),
    ]
