"""Typed `where` and `orderBy`: each typed filter selects exactly the jobs its twin in
the published language selects (one compiler, one semantics), on each engine."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import gql
from tests.dataset import D1

# (typed `where`, the published twin: {"filter": [...]} and/or {"filterOr": [...]})
TWINS: list[tuple[str, dict[str, Any]]] = [
    # strings
    ('{jobId: {eq: "job-000000000002"}}', {"filter": [{"k": "job_id", "v": "job-000000000002", "o": "eq"}]}),
    ('{jobId: {ne: "job-000000000002"}}', {"filter": [{"k": "job_id", "v": "job-000000000002", "o": "not"}]}),
    (
        '{jobId: {in: ["job-000000000002", "job-0000000old04"]}}',
        {"filter": [{"k": "job_id", "v": ["job-000000000002", "job-0000000old04"], "o": "in"}]},
    ),
    ("{jobId: {in: []}}", {"filter": [{"k": "job_id", "v": [], "o": "in"}]}),
    ('{jobId: {notIn: ["job-000000000002"]}}', {"filter": [{"k": "job_id", "v": ["job-000000000002"], "o": "not_in"}]}),
    ('{jobId: {contains: "OLD"}}', {"filter": [{"k": "job_id", "v": "OLD", "o": "contain"}]}),
    ('{jobId: {notContains: "old"}}', {"filter": [{"k": "job_id", "v": "old", "o": "not_contain"}]}),
    (
        '{jobId: {containsAny: ["gone", "abcd"]}}',
        {"filter": [{"k": "job_id", "v": ["gone", "abcd"], "o": "contain_in"}]},
    ),
    ('{jobId: {regex: "0+[12]$"}}', {"filter": [{"k": "job_id", "v": "0+[12]$", "o": "regex"}]}),
    ("{projectId: {isNull: true}}", {"filter": [{"k": "project_id", "v": None, "o": "eq"}]}),
    ("{projectId: {isNull: false}}", {"filter": [{"k": "project_id", "v": None, "o": "not"}]}),
    ('{projects: {eq: "project-b"}}', {"filter": [{"k": "projects", "v": "project-b", "o": "eq"}]}),
    ('{projects: {ne: "project-a"}}', {"filter": [{"k": "projects", "v": "project-a", "o": "not"}]}),
    # numbers
    ("{totalTasks: {gte: 5}}", {"filter": [{"k": "total_tasks", "v": 5, "o": "gte"}]}),
    (
        "{totalTasks: {gt: 1, lt: 10}}",
        {"filter": [{"k": "total_tasks", "v": 1, "o": "gt"}, {"k": "total_tasks", "v": 10, "o": "lt"}]},
    ),
    ("{remainedTasks: {in: [2, 3]}}", {"filter": [{"k": "remained_tasks", "v": [2, 3], "o": "in"}]}),
    ("{remainedTasks: {ne: 0}}", {"filter": [{"k": "remained_tasks", "v": 0, "o": "not"}]}),
    ("{totalTasks: {lte: 0}}", {"filter": [{"k": "total_tasks", "v": 0, "o": "lte"}]}),
    # enums
    ("{status: {eq: ERROR}}", {"filter": [{"k": "status", "v": "ERROR", "o": "eq"}]}),
    ("{status: {in: [SUCCESS, CANCELED]}}", {"filter": [{"k": "status", "v": ["SUCCESS", "CANCELED"], "o": "in"}]}),
    ("{status: {notIn: [SUCCESS]}}", {"filter": [{"k": "status", "v": ["SUCCESS"], "o": "not_in"}]}),
    ("{status: {ne: CREATED}}", {"filter": [{"k": "status", "v": "CREATED", "o": "not"}]}),
    # instants
    (
        '{createdAt: {gte: "2024-05-14T08:00:00Z"}}',
        {"filter": [{"k": "created_at", "v": "2024-05-14T08:00:00Z", "o": "datetime_gte"}]},
    ),
    (
        '{createdAt: {gt: "2024-05-14T08:00:00.000+00:00"}}',
        {"filter": [{"k": "created_at", "v": "2024-05-14T08:00:00Z", "o": "datetime_gt"}]},
    ),
    (
        '{createdAt: {lt: "2024-05-10T00:00:00Z"}}',
        {"filter": [{"k": "created_at", "v": "2024-05-10", "o": "datetime_lt"}]},
    ),
    (
        '{createdAt: {lte: "2024-05-10T00:00:00Z"}}',
        {"filter": [{"k": "created_at", "v": "2024-05-10", "o": "datetime_lte"}]},
    ),
    ('{createdAt: {since: "now/d-7d"}}', {"filter": [{"k": "created_at", "v": "now/d-7d", "o": "timediff_gte"}]}),
    ('{createdAt: {before: "now/d"}}', {"filter": [{"k": "created_at", "v": "now/d", "o": "timediff_lt"}]}),
    ("{finishedAt: {isNull: true}}", {"filter": [{"k": "finished_at", "v": None, "o": "eq"}]}),
    # free-form objects
    (
        '{filter: [{path: "region", eq: "us-east-1"}]}',
        {"filter": [{"k": "filter.region", "v": "us-east-1", "o": "eq"}]},
    ),
    ('{filter: [{path: "region", exists: false}]}', {"filter": [{"k": "filter.region", "v": False, "o": "exists"}]}),
    # arrays of sub-documents
    (
        '{errors: {some: {errorCode: {eq: "ERROR_AUTH"}}}}',
        {"filter": [{"k": "errors", "v": {"error_code": "ERROR_AUTH"}, "o": "match"}]},
    ),
    (
        '{errors: {some: {errorCode: {eq: "ERROR_AUTH"}, message: {eq: "Quota exceeded"}}}}',
        {"filter": [{"k": "errors", "v": {"error_code": "ERROR_AUTH", "message": "Quota exceeded"}, "o": "match"}]},
    ),
    (
        '{errors: {some: {errorCode: {contains: "quota"}}}}',
        {"filter": [{"k": "errors.error_code", "v": "quota", "o": "contain"}]},
    ),
    (
        '{errors: {none: {errorCode: {eq: "ERROR_TIMEOUT"}}}}',
        {"filter": [{"k": "errors.error_code", "v": "ERROR_TIMEOUT", "o": "not"}]},
    ),
    (
        '{errors: {some: {additional: [{path: "task", eq: "t1"}]}}}',
        {"filter": [{"k": "errors.additional.task", "v": "t1", "o": "eq"}]},
    ),
    ("{errors: {isEmpty: true}}", {"filter": [{"k": "errors.0", "v": False, "o": "exists"}]}),
    ("{errors: {isEmpty: false}}", {"filter": [{"k": "errors.0", "v": True, "o": "exists"}]}),
    # the collector's fields
    ('{collector: {provider: {eq: "aws"}}}', {"filter": [{"k": "collector_info.provider", "v": "aws", "o": "eq"}]}),
    ('{collector: {provider: {ne: "aws"}}}', {"filter": [{"k": "collector_info.provider", "v": "aws", "o": "not"}]}),
    (
        '{collector: {name: {contains: "legacy"}}}',
        {"filter": [{"k": "collector_info.name", "v": "legacy", "o": "contain"}]},
    ),
    ("{collector: {state: {eq: DISABLED}}}", {"filter": [{"k": "collector_info.state", "v": "DISABLED", "o": "eq"}]}),
    ("{collector: {isPublic: {eq: false}}}", {"filter": [{"k": "collector_info.is_public", "v": False, "o": "eq"}]}),
    (
        '{collector: {pluginInfo: {pluginId: {eq: "plugin-aws"}}}}',
        {"filter": [{"k": "collector_info.plugin_info.plugin_id", "v": "plugin-aws", "o": "eq"}]},
    ),
    ("{collector: {priority: {gte: 10}}}", {"filter": [{"k": "collector_info.priority", "v": 10, "o": "gte"}]}),
    # and, or, not
    (
        '{status: {eq: SUCCESS}, collector: {provider: {eq: "aws"}}}',
        {
            "filter": [
                {"k": "status", "v": "SUCCESS", "o": "eq"},
                {"k": "collector_info.provider", "v": "aws", "o": "eq"},
            ]
        },
    ),
    (
        "{and: [{status: {eq: SUCCESS}}, {totalTasks: {gt: 5}}]}",
        {"filter": [{"k": "status", "v": "SUCCESS", "o": "eq"}, {"k": "total_tasks", "v": 5, "o": "gt"}]},
    ),
    (
        '{or: [{status: {eq: ERROR}}, {collector: {provider: {eq: "openstack"}}}]}',
        {
            "filterOr": [
                {"k": "status", "v": "ERROR", "o": "eq"},
                {"k": "collector_info.provider", "v": "openstack", "o": "eq"},
            ]
        },
    ),
    ("{or: []}", {"filter": [{"k": "job_id", "v": [], "o": "in"}]}),
    ("{and: []}", {}),
    ("{not: {status: {eq: SUCCESS}}}", {"filter": [{"k": "status", "v": "SUCCESS", "o": "not"}]}),
    (
        '{not: {collector: {provider: {eq: "aws"}}}}',
        {"filter": [{"k": "collector_info.provider", "v": "aws", "o": "not"}]},
    ),
    (
        "{not: {or: [{status: {eq: SUCCESS}}, {status: {eq: ERROR}}]}}",
        {"filter": [{"k": "status", "v": ["SUCCESS", "ERROR"], "o": "not_in"}]},
    ),
]


def _ids(client: Any, arguments: str, variables: dict[str, Any] | None = None, header: str = "") -> set[str]:
    body = gql(client, f'query{header} {{ jobs(domainId: "{D1}", {arguments}) {{ results {{ jobId }} }} }}', variables)
    assert "errors" not in body, body
    return {r["jobId"] for r in body["data"]["jobs"]["results"]}


@pytest.mark.parametrize(("typed", "twin"), TWINS, ids=[t for t, _ in TWINS])
def test_a_typed_filter_selects_what_its_published_twin_selects(client: Any, typed: str, twin: dict[str, Any]) -> None:
    typed_ids = _ids(client, f"where: {typed}")
    twin_ids = _ids(client, "query: $q", {"q": twin}, "($q: JobQueryInput)")
    assert typed_ids == twin_ids


def test_the_twins_tell_jobs_apart(client: Any) -> None:
    """Cannot pass by selecting nothing or everything: most twins select some jobs and not others."""
    everything = _ids(client, "where: {}")
    assert len(everything) == 7
    sizes = [len(_ids(client, f"where: {typed}")) for typed, _ in TWINS]
    assert sum(1 for n in sizes if 0 < n < 7) >= len(TWINS) * 2 // 3


def test_where_and_the_published_filter_together(client: Any) -> None:
    both = _ids(client, 'where: {status: {eq: SUCCESS}}, query: {filter: [{k: "total_tasks", v: 7, o: "eq"}]}')
    assert both == {"job-000000000007"}


@pytest.mark.parametrize(
    ("typed", "reason", "needle"),
    [
        ('{jobId: {regex: "["}}', "ERROR_INVALID_PARAMETER", "regular expression"),
        ('{createdAt: {since: "yesterday"}}', "ERROR_INVALID_PARAMETER", "time expression"),
        ('{filter: [{path: "$where", eq: 1}]}', "ERROR_INVALID_PARAMETER", "filter.$where"),
        ("{errors: {some: {}}}", "ERROR_INVALID_PARAMETER", "at least one condition"),
    ],
)
def test_bad_typed_filters_are_the_compilers_errors(client: Any, typed: str, reason: str, needle: str) -> None:
    body = gql(client, f'{{ jobs(domainId: "{D1}", where: {typed}) {{ totalCount }} }}')
    error = body["errors"][0]
    assert error["extensions"]["reason"] == reason and needle in error["message"], error


@pytest.mark.parametrize(
    ("typed", "named"),
    [
        ("{status: {eq: null}}", "where.status.eq is null"),
        ("{status: {}}", "where.status gives no operator"),
        ("{jobId: {eq: null}, status: null}", "where.jobId.eq is null"),
        ("{status: null}", "where.status is null"),
        ("{totalTasks: {gt: null}}", "where.totalTasks.gt is null"),
        ("{createdAt: {}}", "where.createdAt gives no operator"),
        ('{filter: [{path: "region"}]}', "where.filter[0] gives no operator"),
        ('{filter: [{path: "region", eq: null}]}', "where.filter[0].eq is null"),
        ("{collector: {}}", "where.collector gives no condition"),
        ("{collector: {provider: {}}}", "where.collector.provider gives no operator"),
        ("{collector: {provider: {isNull: null}}}", "where.collector.provider.isNull is null"),
        ("{errors: {}}", "where.errors gives no operator"),
        ("{errors: {some: {errorCode: {}}}}", "where.errors.some.errorCode gives no operator"),
        ("{and: [{status: {}}]}", "where.and[0].status gives no operator"),
        ("{or: [{status: {eq: SUCCESS}}, {jobId: {}}]}", "where.or[1].jobId gives no operator"),
        ("{not: {status: {ne: null}}}", "where.not.status.ne is null"),
        ("{not: null}", "where.not is null"),
    ],
)
def test_an_empty_or_null_comparison_is_refused_naming_the_field(client: Any, typed: str, named: str) -> None:
    """Read as "no condition", {} or a null operator would select every job silently
    (docs/graphql-api.md): each is a BAD_USER_INPUT naming the field, on every field
    that takes a where (list, connection, dashboard)."""
    for field, selection in (("jobs", "totalCount"), ("jobConnection", "totalCount"), ("jobCounts", "count")):
        groups = ", groupBy: []" if field == "jobCounts" else ""
        body = gql(client, f'{{ {field}(domainId: "{D1}", where: {typed}{groups}) {{ {selection} }} }}')
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT" and named in error["message"], error


def test_a_null_operator_in_variables_is_refused_too(client: Any) -> None:
    body = gql(
        client,
        "query($s: JobStatus) { jobs(domainId: $d, where: {status: {eq: $s}}) { totalCount } }".replace(
            "query(", "query($d: String, "
        ),
        {"d": D1, "s": None},
    )
    assert "where.status.eq is null" in body["errors"][0]["message"]
    unset = gql(
        client,
        'query($s: JobStatus) { jobs(domainId: "' + D1 + '", where: {status: {eq: $s}}) { totalCount } }',
        {},
    )
    # A variable not given leaves the operator out: the comparison gives none.
    assert "where.status gives no operator" in unset["errors"][0]["message"]


def test_an_empty_where_holds_for_every_job(client: Any) -> None:
    assert _ids(client, "where: {}") == _ids(client, "where: {and: []}") == _ids(client, "where: {not: {or: []}}")
    assert len(_ids(client, "where: {}")) == 7


def test_the_condition_limit_counts_the_whole_tree(make_client: Any) -> None:
    client, _ = make_client(max_conditions=3)
    where = "{or: [" + ", ".join(f'{{jobId: {{eq: "j{i}"}}}}' for i in range(4)) + "]}"
    body = gql(client, f'{{ jobs(domainId: "{D1}", where: {where}) {{ totalCount }} }}')
    assert body["errors"][0]["extensions"]["reason"] == "ERROR_LIMIT_EXCEEDED"


def test_nesting_is_bounded(client: Any) -> None:
    where = '{jobId: {eq: "x"}}'
    for _ in range(20):
        where = f"{{not: {where}}}"
    body = gql(
        client,
        f'query($w: JobWhere) {{ jobs(domainId: "{D1}", where: $w) {{ totalCount }} }}',
        {"w": json.loads(_to_json(where))},
    )
    assert body["errors"][0]["extensions"]["reason"] == "ERROR_LIMIT_EXCEEDED"


def _to_json(literal: str) -> str:
    import re

    return re.sub(r"(\w+):", r'"\1":', literal)


ORDERS = [
    ("[{field: CREATED_AT, direction: DESC}]", {"keys": [{"key": "created_at", "desc": True}]}),
    (
        "[{field: STATUS}, {field: JOB_ID, direction: DESC}]",
        {"keys": [{"key": "status", "desc": False}, {"key": "job_id", "desc": True}]},
    ),
    ("[{field: COLLECTOR_NAME}]", {"keys": [{"key": "collector_info.name", "desc": False}]}),
    (
        "[{field: COLLECTOR_PROVIDER, direction: DESC}, {field: TOTAL_TASKS}]",
        {"keys": [{"key": "collector_info.provider", "desc": True}, {"key": "total_tasks", "desc": False}]},
    ),
    ("[{field: FINISHED_AT}]", {"keys": [{"key": "finished_at", "desc": False}]}),
]


@pytest.mark.parametrize(("typed", "twin"), ORDERS, ids=[t for t, _ in ORDERS])
def test_order_by_orders_as_its_published_twin(client: Any, typed: str, twin: dict[str, Any]) -> None:
    def order(arguments: str, variables: dict[str, Any] | None = None, header: str = "") -> list[str]:
        body = gql(
            client, f'query{header} {{ jobs(domainId: "{D1}", {arguments}) {{ results {{ jobId }} }} }}', variables
        )
        return [r["jobId"] for r in body["data"]["jobs"]["results"]]

    assert order(f"orderBy: {typed}") == order("query: $q", {"q": {"sort": twin}}, "($q: JobQueryInput)")


def test_order_by_and_a_published_sort_conflict(client: Any) -> None:
    body = gql(
        client,
        f'{{ jobs(domainId: "{D1}", orderBy: [{{field: JOB_ID}}], query: {{sort: {{key: "job_id"}}}}) {{ totalCount }} }}',
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_the_order_enum_is_the_field_tables_sortable_fields(client: Any) -> None:
    body = gql(client, '{ __type(name: "JobOrderField") { enumValues { name } } }')
    names = {v["name"] for v in body["data"]["__type"]["enumValues"]}
    assert {"CREATED_AT", "STATUS", "JOB_ID", "COLLECTOR_NAME", "COLLECTOR_PROVIDER"} <= names
    assert not {"FILTER", "ERRORS", "COLLECTOR_TAGS", "COLLECTOR_PLUGIN_INFO"} & names
