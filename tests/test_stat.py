"""Statistics (section 4): every stage, group operator and option, checked on the rows
it produces over the known dataset, through the service on each engine."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.errors import InvalidParameterType, InvalidQuery, LimitExceeded, RequiredParameter
from gateway.service import JobService
from tests.dataset import D1, D2, J1, J2, J7, JABCD, JC6, JGONE, JOLD, OID_OLD
from tests.engines import COUNT_OF_NOTHING, PATH_THROUGH_ARRAY
from tests.stages import COUNT, group

pytestmark = pytest.mark.anyio


async def stat(service: JobService, query: dict[str, Any], domain: str = D1) -> Any:
    return await service.stat({"query": query, "domain_id": domain})


async def test_group_count_by_key_with_sort(service: JobService) -> None:
    answer = await stat(
        service, {"aggregate": [group([{"key": "status", "name": "status"}], [COUNT]), {"sort": {"key": "status"}}]}
    )
    assert answer == {
        "results": [
            {"status": "CANCELED", "count": 1},
            {"status": "CREATED", "count": 1},
            {"status": "ERROR", "count": 1},
            {"status": "IN_PROGRESS", "count": 1},
            {"status": "SUCCESS", "count": 2},
            {"status": "TIMEOUT", "count": 1},
        ]
    }


@pytest.mark.parametrize(
    ("date_format", "expected"),
    [
        ("year", [{"y": 2024, "count": 7}]),
        ("month", [{"y": 4, "count": 1}, {"y": 5, "count": 6}]),
        (
            "day",
            [
                {"y": 1, "count": 1},
                {"y": 10, "count": 1},
                {"y": 14, "count": 1},
                {"y": 15, "count": 3},
                {"y": 30, "count": 1},
            ],
        ),
        (
            "%Y-%m-%d",
            [
                {"y": "2024-04-30", "count": 1},
                {"y": "2024-05-01", "count": 1},
                {"y": "2024-05-10", "count": 1},
                {"y": "2024-05-14", "count": 1},
                {"y": "2024-05-15", "count": 3},
            ],
        ),
        (
            "%Y-%m-%dT%H:%M:%S.%LZ",
            [
                {"y": "2024-04-30T23:59:59.000Z", "count": 1},
                {"y": "2024-05-01T00:00:00.000Z", "count": 1},
                {"y": "2024-05-10T00:00:00.000Z", "count": 1},
                {"y": "2024-05-14T08:00:00.000Z", "count": 1},
                {"y": "2024-05-15T10:00:00.000Z", "count": 2},
                {"y": "2024-05-15T11:59:00.000Z", "count": 1},
            ],
        ),
    ],
)
async def test_group_key_date_formats(service: JobService, date_format: str, expected: list[dict]) -> None:
    query = {
        "aggregate": [
            group([{"key": "created_at", "name": "y", "date_format": date_format}], [COUNT]),
            {"sort": {"key": "y"}},
        ]
    }
    assert (await stat(service, query))["results"] == expected


async def test_milliseconds_and_null_dates(service: JobService) -> None:
    query = {
        "aggregate": [
            group([{"key": "finished_at", "name": "at", "date_format": "%H:%M:%S.%L"}], [COUNT]),
            {"sort": {"key": "at"}},
        ]
    }
    rows = (await stat(service, query))["results"]
    assert [r.get("at") for r in rows] == [None, "08:30:00.000", "10:05:00.123"]
    assert [r["count"] for r in rows] == [5, 1, 1]


async def test_group_field_operators(service: JobService) -> None:
    fields = [
        {"name": "jobs", "operator": "count"},
        {"name": "tasks", "operator": "sum", "key": "total_tasks"},
        {"name": "avg_tasks", "operator": "average", "key": "total_tasks"},
        {"name": "most", "operator": "max", "key": "total_tasks"},
        {"name": "least", "operator": "min", "key": "total_tasks"},
        {"name": "newest", "operator": "max", "key": "created_at"},
        {"name": "first_job", "operator": "first", "key": "job_id"},
        {"name": "last_job", "operator": "last", "key": "job_id"},
        {"name": "statuses", "operator": "add_to_set", "key": "status"},
        {"name": "filters", "operator": "merge_objects", "key": "filter"},
        {"name": "ids", "operator": "push", "key": "job_id"},
        {
            "name": "pairs",
            "operator": "push",
            "fields": [{"key": "job_id", "name": "id"}, {"key": "total_tasks", "name": "n"}],
        },
    ]
    query = {"aggregate": [{"sort": {"key": "job_id"}}, group(fields=fields)]}
    (row,) = (await stat(service, query))["results"]
    ordered = sorted([J1, J2, J7, JABCD, JC6, JGONE, JOLD])
    assert row["jobs"] == 7 and row["tasks"] == 27
    assert row["avg_tasks"] == pytest.approx(27 / 7)
    assert (row["most"], row["least"]) == (10, 0)
    assert row["newest"] == "2024-05-15T11:59:00.000Z"
    assert (row["first_job"], row["last_job"]) == (ordered[0], ordered[-1])
    assert sorted(row["statuses"]) == ["CANCELED", "CREATED", "ERROR", "IN_PROGRESS", "SUCCESS", "TIMEOUT"]
    assert row["filters"] == {"region": "us-east-1", "$ne": None}
    assert row["ids"] == ordered
    assert row["pairs"][0] == {"id": ordered[0], "n": 10}


async def test_conditions_on_count_sum_average(service: JobService) -> None:
    failed = [{"key": "status", "value": "ERROR", "operator": "eq"}]
    busy = [
        {"key": "total_tasks", "value": 3, "operator": "gte"},
        {"key": "status", "value": "SUCCESS", "operator": "not"},
    ]
    fields = [
        {"name": "failed", "operator": "count", "conditions": failed},
        {"name": "busy", "operator": "count", "conditions": busy},
        {"name": "failed_tasks", "operator": "sum", "key": "total_tasks", "conditions": failed},
        {
            "name": "avg_big",
            "operator": "average",
            "key": "total_tasks",
            "conditions": [{"key": "total_tasks", "value": 1, "operator": "gt"}],
        },
        {"name": "small", "operator": "count", "conditions": [{"key": "total_tasks", "value": 1, "operator": "lte"}]},
        {"name": "tiny", "operator": "count", "conditions": [{"key": "total_tasks", "value": 1, "operator": "lt"}]},
        {
            "name": "none",
            "operator": "count",
            "conditions": [{"key": "domain_id", "value": "$domain_id", "operator": "eq"}],
        },
    ]
    (row,) = (await stat(service, {"aggregate": [group(fields=fields)]}))["results"]
    assert row == {
        "failed": 1,
        "busy": 2,
        "failed_tasks": 5,
        "avg_big": pytest.approx((10 + 5 + 3 + 7) / 4),
        "small": 3,
        "tiny": 1,
        "none": 0,
    }


async def test_condition_objects_are_literals(service: JobService) -> None:
    def counted(name: str, operator: str, value: Any) -> dict[str, Any]:
        condition = {"key": "filters", "value": value, "operator": operator}
        return {"name": name, "operator": "count", "conditions": [condition]}

    fields = [
        counted("same", "eq", {"$ne": None}),
        counted("other", "not", {"$ne": None}),
        counted("exists", "eq", {"$exists": True}),
    ]
    (row,) = (await stat(service, {"aggregate": [group(fields=fields)]}))["results"]
    assert row == {"same": 1, "other": 6, "exists": 0}


async def test_unwind_then_group(service: JobService) -> None:
    query = {
        "aggregate": [
            {"unwind": {"path": "errors"}},
            group(
                [{"key": "errors.error_code", "name": "code"}],
                [COUNT, {"name": "jobs", "operator": "add_to_set", "key": "job_id"}],
            ),
            {"sort": {"key": "code", "desc": True}},
        ]
    }
    assert (await stat(service, query))["results"] == [
        {"code": "ERROR_TIMEOUT", "count": 1, "jobs": [JOLD]},
        {"code": "ERROR_QUOTA", "count": 1, "jobs": [J2]},
        {"code": "ERROR_AUTH", "count": 1, "jobs": [J2]},
    ]


async def test_count_stage(service: JobService) -> None:
    assert await stat(service, {"aggregate": [{"count": {"name": "total"}}]}) == {"results": [{"total": 7}]}


@COUNT_OF_NOTHING.mark
async def test_count_of_nothing_is_no_row(service: JobService) -> None:
    nothing = {"filter": [{"k": "status", "v": "nope", "o": "eq"}], "aggregate": [{"count": {"name": "total"}}]}
    assert await stat(service, nothing) == {"results": []}  # no row when there are none, as MongoDB


async def test_sort_forms_limit_and_skip(service: JobService) -> None:
    base = [group([{"key": "job_id", "name": "id"}], [{"name": "n", "operator": "sum", "key": "total_tasks"}])]
    by_n = await stat(
        service,
        {
            "aggregate": [
                *base,
                {"sort": {"keys": [{"key": "n", "desc": True}, {"key": "id"}]}},
                {"skip": 1},
                {"limit": 3},
            ]
        },
    )
    assert [r["id"] for r in by_n["results"]] == [J7, J2, JABCD]
    by_id = await stat(service, {"aggregate": [*base, {"sort": {"key": "id", "desc": True}}, {"limit": 2}]})
    assert [r["id"] for r in by_id["results"]] == sorted([J1, J2, J7, JABCD, JC6, JGONE, JOLD], reverse=True)[:2]


async def test_project_operators(service: JobService) -> None:
    query = {
        "filter": [{"k": "job_id", "v": J2, "o": "eq"}],
        "aggregate": [
            group(
                [{"key": "job_id", "name": "id"}],
                [
                    {"name": "total", "operator": "sum", "key": "total_tasks"},
                    {"name": "left", "operator": "sum", "key": "remained_tasks"},
                    {
                        "name": "kv",
                        "operator": "push",
                        "fields": [{"key": "status", "name": "k"}, {"key": "total_tasks", "name": "v"}],
                    },
                    {"name": "obj", "operator": "merge_objects", "key": "filters"},
                ],
            ),
            {
                "project": {
                    "fields": [
                        {"key": "total", "name": "renamed"},
                        {"key": "left", "name": "plus", "operator": "add", "fields": ["total", "left", 1]},
                        {"name": "done", "operator": "subtract", "fields": ["total", "left"]},
                        {
                            "name": "pct",
                            "operator": "multiply",
                            "fields": [
                                {
                                    "operator": "divide",
                                    "fields": [{"operator": "subtract", "fields": ["total", "left"]}, "total"],
                                },
                                100,
                            ],
                        },
                        {"name": "by_zero", "operator": "divide", "fields": ["total", 0]},
                        {"name": "as_object", "operator": "array_to_object", "key": "kv"},
                        {"name": "as_array", "operator": "object_to_array", "key": "obj"},
                    ]
                }
            },
        ],
    }
    (row,) = (await stat(service, query))["results"]
    assert row == {
        "id": J2,
        "renamed": 5,
        "plus": 8,
        "done": 3,
        "pct": pytest.approx(60.0),
        "by_zero": None,
        "as_object": {"ERROR": 5},
        "as_array": [],
    }
    query["aggregate"][1]["project"]["exclude_keys"] = True
    (row,) = (await stat(service, query))["results"]
    assert "id" not in row and row["renamed"] == 5


@PATH_THROUGH_ARRAY.mark
async def test_paths_through_arrays_of_subdocuments(service: JobService) -> None:
    pushed = [
        {"name": "codes", "operator": "push", "key": "errors.error_code"},
        {
            "name": "kv",
            "operator": "push",
            "fields": [{"key": "status", "name": "k"}, {"key": "total_tasks", "name": "v"}],
        },
    ]
    shown = [
        {"key": "codes", "name": "codes"},
        {"key": "codes", "name": "groups", "operator": "size"},
        {"name": "sum_of", "operator": "sum", "key": "kv.v"},
    ]
    query = {
        "filter": [{"k": "job_id", "v": J2, "o": "eq"}],
        "aggregate": [group([{"key": "job_id", "name": "id"}], pushed), {"project": {"fields": shown}}],
    }
    assert (await stat(service, query))["results"] == [
        {"id": J2, "codes": [["ERROR_AUTH", "ERROR_QUOTA"]], "groups": 1, "sum_of": 5}
    ]


async def test_failure_rate_per_provider_joins_collectors(service: JobService) -> None:
    # A list value under `eq` in conditions compares as a literal list (an aggregation
    # $eq, which never looks into arrays): no status equals it, it is not an `in`.
    as_list = [{"key": "status", "value": ["ERROR", "TIMEOUT"], "operator": "eq"}]
    query = {
        "aggregate": [
            group(
                [{"key": "collector_info.provider", "name": "provider"}],
                [
                    {"name": "total", "operator": "count"},
                    {
                        "name": "failed",
                        "operator": "count",
                        "conditions": [{"key": "status", "value": "ERROR", "operator": "eq"}],
                    },
                    {"name": "as_list", "operator": "count", "conditions": as_list},
                ],
            ),
            {
                "project": {
                    "fields": [
                        {"key": "total", "name": "total"},
                        {"key": "as_list", "name": "as_list"},
                        {"name": "rate", "operator": "divide", "fields": ["failed", "total"]},
                    ]
                }
            },
            {"sort": {"key": "total", "desc": True}},
        ]
    }
    rows = (await stat(service, query))["results"]
    by_provider = {r.get("provider"): (r["total"], r["rate"], r["as_list"]) for r in rows}
    assert by_provider == {"aws": (4, 0, 0), "google_cloud": (1, 1, 0), "openstack": (1, 0, 0), None: (1, 0, 0)}


async def test_collector_filters_in_stat(service: JobService) -> None:
    count = [{"count": {"name": "n"}}]
    for cond, expected in [
        ({"k": "collector_info.provider", "v": "aws", "o": "eq"}, 4),
        ({"k": "collector_info.provider", "v": "aws", "o": "not"}, 3),
        ({"k": "collector_info.provider", "v": ["aws", "openstack"], "o": "not_in"}, 2),
        ({"k": "collector_info.name", "v": "legacy", "o": "contain"}, 1),
    ]:
        assert (await stat(service, {"filter": [cond], "aggregate": count}))["results"] == [{"n": expected}], cond
    # D2's AWS collector is not D1's, and D1's is not D2's. (A keyless group counts here:
    # it has no row for no jobs, and $count's row for nothing is another test's matter.)
    other_tenant = {"k": "collector_info.name", "v": "AWS other tenant", "o": "eq"}
    assert (await stat(service, {"filter": [other_tenant], "aggregate": [group(fields=[COUNT])]}))["results"] == []
    assert (
        await stat(
            service,
            {"filter": [{"k": "collector_info.provider", "v": "aws", "o": "eq"}], "aggregate": count},
            domain=D2,
        )
    )["results"] == [{"n": 1}]


async def test_filters_keyword_and_domain_apply_first(service: JobService) -> None:
    count = [{"count": {"name": "n"}}]
    assert (await stat(service, {"filter": [{"k": "status", "v": "SUCCESS", "o": "eq"}], "aggregate": count}))[
        "results"
    ] == [{"n": 2}]
    assert (
        await stat(
            service,
            {
                "filter_or": [{"k": "status", "v": "ERROR", "o": "eq"}, {"k": "status", "v": "TIMEOUT", "o": "eq"}],
                "aggregate": count,
            },
        )
    )["results"] == [{"n": 2}]
    assert (await stat(service, {"keyword": "gone abcd", "aggregate": count}))["results"] == [{"n": 2}]
    assert (await stat(service, {"aggregate": count}, domain=D2))["results"] == [{"n": 1}]
    # Filter values that are lists or `$`-keyed objects match as in a list (test_operators).
    for cond, expected in [
        ({"k": "projects", "v": [["project-b"], "project-x"], "o": "in"}, 1),
        ({"k": "projects", "v": [["project-b"]], "o": "not_in"}, 6),
        ({"k": "filters", "v": [{"$ne": None}], "o": "in"}, 1),
        ({"k": "filters", "v": [{"$ne": None}], "o": "not_in"}, 6),
    ]:
        assert (await stat(service, {"filter": [cond], "aggregate": count}))["results"] == [{"n": expected}], cond


async def test_page_gives_total_count_and_slice(service: JobService) -> None:
    base = [group([{"key": "status", "name": "status"}], [COUNT]), {"sort": {"key": "status"}}]
    answer = await stat(service, {"aggregate": base, "page": {"start": 2, "limit": 2}})
    assert answer == {"results": [{"status": "CREATED", "count": 1}, {"status": "ERROR", "count": 1}], "total_count": 6}
    assert "total_count" not in await stat(service, {"aggregate": base, "page": {"limit": 0}})
    empty = await stat(
        service, {"filter": [{"k": "status", "v": "x", "o": "eq"}], "aggregate": base, "page": {"limit": 5}}
    )
    assert empty == {"results": [], "total_count": 0}


async def test_distinct(service: JobService) -> None:
    assert await stat(service, {"distinct": "status"}) == {
        "results": ["CANCELED", "CREATED", "ERROR", "IN_PROGRESS", "SUCCESS", "TIMEOUT"]
    }
    assert await stat(service, {"distinct": "projects"}) == {"results": ["project-a", "project-b"]}
    assert await stat(service, {"distinct": "collector_info.provider"}) == {
        "results": ["aws", "google_cloud", "openstack"]
    }
    assert await stat(service, {"distinct": "status", "page": {"start": 3, "limit": 2}}) == {
        "results": ["ERROR", "IN_PROGRESS"],
        "total_count": 6,
    }
    assert await stat(service, {"distinct": "status"}, domain=D2) == {"results": ["SUCCESS"]}


@PATH_THROUGH_ARRAY.mark
async def test_distinct_through_an_array_of_subdocuments(service: JobService) -> None:
    assert await stat(service, {"distinct": "errors.error_code"}) == {
        "results": ["ERROR_AUTH", "ERROR_QUOTA", "ERROR_TIMEOUT"]
    }


async def test_output_dates_and_object_ids_are_strings(service: JobService) -> None:
    rows = (
        await stat(
            service,
            {
                "filter": [{"k": "job_id", "v": JOLD, "o": "eq"}],
                "aggregate": [
                    group([{"key": "collector", "name": "ref"}, {"key": "created_at", "name": "at"}], [COUNT])
                ],
            },
        )
    )["results"]
    assert rows == [{"ref": str(OID_OLD), "at": "2024-04-30T23:59:59.000Z", "count": 1}]


STAT_ERRORS = [
    ({"aggregate": [{"bucket": {}}]}, RequiredParameter, 'aggregate[0] names no stage (unknown: ["bucket"])'),
    (
        {"aggregate": [{"count": {"name": "n"}, "limit": 1}]},
        InvalidParameterType,
        'one of "count" and "limit", not both',
    ),
    ({"aggregate": [{}]}, RequiredParameter, "aggregate[0] names no stage"),
    ({"aggregate": [{"group": {}}]}, InvalidQuery, "aggregate[0].group needs keys or fields"),
    (
        {"aggregate": [group(fields=[{"name": "t", "operator": "sum"}])]},
        InvalidQuery,
        'group.fields[0]: operator "sum" needs a key',
    ),
    (
        {"aggregate": [group(fields=[{"name": "t", "operator": "median", "key": "x"}])]},
        InvalidQuery,
        'operator "median" is not supported',
    ),
    (
        {
            "aggregate": [
                group(
                    fields=[
                        {
                            "name": "t",
                            "operator": "count",
                            "conditions": [{"key": "status", "value": "x", "operator": "in"}],
                        }
                    ]
                )
            ]
        },
        InvalidQuery,
        'conditions[0]: operator "in" is not supported here',
    ),
    (
        {
            "aggregate": [
                group(
                    fields=[
                        {
                            "name": "t",
                            "operator": "max",
                            "key": "total_tasks",
                            "conditions": [{"key": "total_tasks", "value": 1, "operator": "eq"}],
                        }
                    ]
                )
            ]
        },
        InvalidQuery,
        "count, sum and average only",
    ),
    (
        {"aggregate": [group([{"key": "status", "name": "n"}], [{"name": "n", "operator": "count"}])]},
        InvalidQuery,
        "used twice",
    ),
    ({"aggregate": [group([{"key": "status", "name": "a.b"}])]}, InvalidQuery, "field name"),
    ({"aggregate": [group([{"key": "$where", "name": "a"}])]}, InvalidQuery, "field path"),
    ({"aggregate": [group([{"key": "created_at", "name": "d", "date_format": "%Q"}])]}, InvalidQuery, "%Q"),
    ({"aggregate": [{"project": {"fields": []}}]}, InvalidQuery, "aggregate[0].project needs fields"),
    (
        {"aggregate": [{"project": {"fields": [{"name": "x", "operator": "pow", "key": "a"}]}}]},
        InvalidQuery,
        'operator "pow" is not supported',
    ),
    ({"aggregate": [{"project": {"fields": [{"name": "x", "operator": "add"}]}}]}, InvalidQuery, "add needs fields"),
    ({"aggregate": [{"unwind": {}}]}, RequiredParameter, "aggregate[0].unwind has no path"),
    ({"aggregate": [{"count": {}}]}, RequiredParameter, "aggregate[0].count.name is required"),
    ({"aggregate": [{"sort": {}}]}, InvalidQuery, "aggregate[0].sort needs a key"),
    ({"aggregate": [{"limit": 0}]}, InvalidParameterType, "aggregate[0].limit must be a positive integer"),
    (
        {"aggregate": [{"limit": "ten"}]},
        InvalidParameterType,
        'aggregate[0].limit must be an integer, got a string "ten"',
    ),
    ({"aggregate": [{"limit": 2**31}]}, InvalidParameterType, "aggregate[0].limit must be an integer from"),
    ({"aggregate": [{"limit": 2.5}]}, InvalidParameterType, "aggregate[0].limit"),
    ({"aggregate": [{"skip": -1}]}, InvalidParameterType, "aggregate[0].skip"),
    ({"aggregate": []}, RequiredParameter, "needs one of aggregate or distinct"),
    ({}, RequiredParameter, "needs one of aggregate or distinct"),
    (
        {"aggregate": [{"count": {"name": "n"}}], "distinct": "status"},
        InvalidQuery,
        "one of aggregate or distinct, not both",
    ),
    ({"distinct": "a..b"}, InvalidQuery, "field path"),
    ({"distinct": "status", "page": {"limit": 1001}}, LimitExceeded, "max_page_size"),
    ({"aggregate": [{"skip": 0}]}, InvalidQuery, "rows would be whole stored jobs"),
    ({"aggregate": [{"unwind": {"path": "errors"}}, {"sort": {"key": "created_at"}}]}, InvalidQuery, "whole stored"),
    ({"aggregate": [{"count": {"name": "n"}}] * 31}, LimitExceeded, "max_stages"),
]


@pytest.mark.parametrize(("query", "error", "mentions"), STAT_ERRORS)
async def test_bad_statistics_queries(
    service: JobService, query: dict[str, Any], error: type[Exception], mentions: str
) -> None:
    with pytest.raises(error) as caught:
        await stat(service, query)
    assert mentions in str(caught.value)


async def test_statistics_run_in_one_pipeline() -> None:
    """The statistics are one aggregation; a `collector_info.*` condition costs one
    collector query first, as in a list (the same jobs are selected)."""
    from tests.conftest import CountingStore, fixed_clock, memory_with
    from tests.dataset import dataset

    store = CountingStore(memory_with(dataset()))
    service = JobService(store, clock=fixed_clock)  # type: ignore[arg-type]
    await stat(
        service,
        {
            "filter": [{"k": "collector_info.provider", "v": "aws", "o": "eq"}],
            "aggregate": [group([{"key": "status", "name": "s"}], [COUNT])],
            "page": {"limit": 2},
        },
    )
    await stat(service, {"distinct": "collector_info.name", "page": {"limit": 2}})
    assert store.calls == [("find", "collector"), ("aggregate", "job"), ("aggregate", "job")]
