"""Every operator of section 3.2, on matching and non-matching documents, run by the
service against the store (the embedded engine; a real MongoDB when configured)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.errors import InvalidParameterType, InvalidQuery, LimitExceeded, RequiredParameter, UnsupportedOperator
from gateway.service import JobService
from tests.dataset import D1, D1_JOB_IDS, D2, dataset
from tests.engines import LONG_REGEX

pytestmark = pytest.mark.anyio

J1, J2, JABCD, JOLD, JGONE, JC6, J7 = (
    "job-000000000001",
    "job-000000000002",
    "job-00000000abcd",
    "job-0000000old04",
    "job-00000000gone",
    "job-0000000000c6",
    "job-000000000007",
)
AWS_JOBS = {J1, JABCD, JC6, J7}


async def matching(service: JobService, key: str, operator: str, value: Any, domain: str = D1) -> set[str]:
    page = await service.list_jobs({"query": {"filter": [{"k": key, "v": value, "o": operator}]}, "domain_id": domain})
    assert page.total_count == len(page.jobs)
    return {job["job_id"] for job in page.jobs}


CASES = [
    # eq: scalars, null (missing or null), exact objects, array elements
    ("status", "eq", "SUCCESS", {J1, J7}),
    ("status", "eq", "success", set()),
    ("project_id", "eq", None, D1_JOB_IDS - {J1}),
    ("filter", "eq", {"region": "us-east-1"}, {J1}),
    ("filters", "eq", {"region": "eu-west-1"}, set()),
    ("filter.region", "eq", "us-east-1", {J1}),
    ("filters", "eq", {"$ne": None}, {JC6}),
    ("projects", "eq", "project-b", {J2, JOLD}),
    ("errors.error_code", "eq", "ERROR_TIMEOUT", {JOLD}),
    # not
    ("status", "not", "SUCCESS", D1_JOB_IDS - {J1, J7}),
    ("filters", "not", {"$ne": None}, D1_JOB_IDS - {JC6}),
    # comparisons
    ("total_tasks", "lt", 3, {JOLD, JGONE, JC6}),
    ("total_tasks", "lte", 3, {JOLD, JGONE, JC6, JABCD}),
    ("total_tasks", "gt", 5, {J1, J7}),
    ("total_tasks", "gte", 5, {J1, J2, J7}),
    ("total_tasks", "gt", 100, set()),
    ("project_id", "lte", None, D1_JOB_IDS - {J1}),  # null sorts lowest: null and missing
    ("project_id", "lt", None, set()),
    # exists
    ("collector", "exists", True, {JOLD}),
    ("collector", "exists", False, D1_JOB_IDS - {JOLD}),
    # contain / not_contain: literal text, case-insensitive
    ("job_id", "contain", "ABCD", {JABCD}),
    ("job_id", "contain", ".", set()),
    ("job_id", "contain", "0+", set()),
    ("job_id", "not_contain", "000000000", {JABCD, JOLD, JGONE}),
    # in / not_in
    ("status", "in", ["ERROR", "TIMEOUT"], {J2, JOLD}),
    ("status", "in", [], set()),
    ("status", "not_in", ["SUCCESS", "CREATED"], D1_JOB_IDS - {J1, J7, JC6}),
    ("projects", "in", ["project-a"], {J1, J2}),
    ("projects", "in", [["project-b"], ["project-a"]], {J1, JOLD}),  # a list value: the whole array
    ("projects", "not_in", [["project-a", "project-b"]], D1_JOB_IDS - {J2}),
    # objects with `$`-keys are literal values, never operators (MongoDB refuses them in `$in`)
    ("filters", "in", [{"$ne": None}], {JC6}),
    ("filters", "in", ["x", {"$ne": None}, {"region": "us-east-1"}], {J1, JC6}),
    ("filters", "in", [{"$gt": ""}, {"$exists": True}], set()),
    ("filters", "in", [{"region": "us-east-1", "$ne": None}], set()),
    ("filters", "in", [[{"$ne": None}]], set()),
    ("filters", "not_in", [{"$ne": None}], D1_JOB_IDS - {JC6}),
    ("filters", "not_in", [{"$ne": None}, {"region": "us-east-1"}], D1_JOB_IDS - {J1, JC6}),
    ("filters", "not_in", [{"$exists": True}], D1_JOB_IDS),
    ("errors", "in", [{"$exists": True}], set()),
    ("project_id", "in", [None, {"$ne": None}], D1_JOB_IDS - {J1}),
    ("filters", "eq", {"$exists": True}, set()),
    ("filters", "not", {"$exists": True}, D1_JOB_IDS),
    # contain_in / not_contain_in
    ("job_id", "contain_in", ["OLD", "gone"], {JOLD, JGONE}),
    ("job_id", "contain_in", ["^job"], set()),
    ("job_id", "not_contain_in", ["old", "gone"], D1_JOB_IDS - {JOLD, JGONE}),
    # match: an element of the array matches every field of the object
    ("errors", "match", {"error_code": "ERROR_AUTH"}, {J2}),
    ("errors", "match", {"error_code": "ERROR_AUTH", "message": "Quota exceeded"}, set()),
    ("errors", "match", {"error_code": "ERROR_QUOTA", "message": "Quota exceeded"}, {J2}),
    ("errors", "match", {"error_code": {"$exists": True}}, set()),
    # regex / regex_in: case-insensitive regular expressions
    ("job_id", "regex", "^job-0+[a-d]", {JABCD, JC6}),
    ("job_id", "regex", "^JOB-0+OLD", {JOLD}),
    ("job_id", "regex", "^zzz", set()),
    ("job_id", "regex_in", ["gone$", "OLD"], {JGONE, JOLD}),
    ("job_id", "regex_in", ["^x", "^y"], set()),
    # datetime_*: an ISO 8601 instant (UTC when no offset)
    ("created_at", "datetime_gt", "2024-05-15T10:00:00Z", {JC6}),
    ("created_at", "datetime_gte", "2024-05-15T10:00:00Z", {J1, J7, JC6}),
    ("created_at", "datetime_gte", "2024-05-15T12:00:00+02:00", {J1, J7, JC6}),
    ("created_at", "datetime_gte", "2024-05-15T10:00:00", {J1, J7, JC6}),
    ("created_at", "datetime_lt", "2024-05-01T00:00:00.000Z", {JOLD}),
    ("created_at", "datetime_lte", "2024-05-01", {JOLD, JGONE}),
    ("created_at", "datetime_lt", "2000-01-01", set()),
    # timediff_*: relative to the (fixed) clock, 2024-05-15T12:00Z, a Wednesday
    ("created_at", "timediff_gte", "now/d", {J1, J7, JC6}),
    ("created_at", "timediff_gt", "now-2h", {JC6}),
    ("created_at", "timediff_gt", "now - 2h", {JC6}),
    ("created_at", "timediff_lt", "now/w", {JABCD, JOLD, JGONE}),
    ("created_at", "timediff_gte", "now/m", D1_JOB_IDS - {JOLD}),
    ("created_at", "timediff_gte", "now/d-1d", {J1, J2, J7, JC6}),
    ("created_at", "timediff_lte", "now/d-14d", {JOLD, JGONE}),
    ("created_at", "timediff_lt", "now+1h", D1_JOB_IDS),
    ("created_at", "timediff_gt", "now+1w", set()),
    ("created_at", "timediff_gte", "now-90s", {JC6}),
]


@pytest.mark.parametrize(("key", "operator", "value", "expected"), CASES)
async def test_operator(service: JobService, key: str, operator: str, value: Any, expected: set[str]) -> None:
    assert await matching(service, key, operator, value) == expected


COLLECTOR_CASES = [
    ("collector_info.provider", "eq", "aws", AWS_JOBS),
    ("collector_info.provider", "eq", "openstack", {JOLD}),  # through the old `collector` reference
    ("collector_info.provider", "eq", "azure", set()),
    ("collector_info.provider", "not", "aws", {J2, JOLD, JGONE}),  # a gone collector is "not aws"
    ("collector_info.provider", "not_in", ["aws", "openstack"], {J2, JGONE}),
    ("collector_info.provider", "in", ["google_cloud", "openstack"], {J2, JOLD}),
    ("collector_info.state", "eq", "DISABLED", {J2}),
    ("collector_info.name", "contain", "aws", AWS_JOBS),
    ("collector_info.name", "not_contain", "aws", {J2, JOLD, JGONE}),
    ("collector_info.plugin_info.plugin_id", "eq", "plugin-openstack", {JOLD}),
    ("collector_info.is_public", "eq", False, {J2}),
    ("collector_info.tags", "in", [{"$ne": None}, {"team": "platform"}], D1_JOB_IDS - {JGONE}),
    ("collector_info.tags", "in", [{"$exists": True}], set()),
    ("collector_info.tags", "not_in", [{"$exists": True}], D1_JOB_IDS),
]


@pytest.mark.parametrize(("key", "operator", "value", "expected"), COLLECTOR_CASES)
async def test_collector_info_condition(
    service: JobService, key: str, operator: str, value: Any, expected: set[str]
) -> None:
    assert await matching(service, key, operator, value) == expected


async def test_collector_info_stays_in_the_callers_domain(service: JobService) -> None:
    # D2's only collector is an AWS one; D1's AWS collector must not pull D1 jobs into D2.
    assert await matching(service, "collector_info.provider", "eq", "aws", domain=D2) == {"job-0000000000d8"}
    assert await matching(service, "collector_info.name", "eq", "AWS other tenant") == set()


def test_object_values_match_array_elements_literally(make_client: Any) -> None:
    data = dataset()
    labels = {J1: [{"$ne": None}, "x"], J2: [{"a": 1}], J7: [[{"$ne": None}]]}
    for job in data["job"]:
        if job["job_id"] in labels:
            job["filters"] = {**job["filters"], "labels": labels[job["job_id"]]}
    client, _ = make_client(data)

    def ids(operator: str, value: Any) -> set[str]:
        body = {"domain_id": D1, "query": {"filter": [{"k": "filter.labels", "v": value, "o": operator}]}}
        response = client.post("/inventory/v1/jobs/search", json=body)
        assert response.status_code == 200, response.text
        return {job["job_id"] for job in response.json()["results"]}

    assert ids("eq", {"$ne": None}) == ids("in", [{"$ne": None}]) == {J1}
    assert ids("in", [[{"$ne": None}]]) == {J7}
    # A list value equals the whole array or one of its elements, as `$eq` does.
    assert ids("in", [[{"$ne": None}, "x"]]) == {J1}
    assert ids("in", [["x"], [{"$ne": None}]]) == {J7}
    assert ids("not_in", [[{"$ne": None}, "x"], [{"a": 1}]]) == D1_JOB_IDS - {J1, J2}
    assert ids("in", ["x", {"a": 1}]) == {J1, J2}
    assert ids("not", {"$ne": None}) == ids("not_in", [{"$ne": None}]) == D1_JOB_IDS - {J1}
    assert ids("not_in", [{"$ne": None}, {"a": 1}]) == D1_JOB_IDS - {J1, J2}


ERROR_CASES = [
    ({"k": "status", "v": "x", "o": "like"}, UnsupportedOperator, "like"),
    ({"v": "x", "o": "eq"}, RequiredParameter, "key"),
    ({"k": "status", "v": "x"}, RequiredParameter, "operator"),
    ({"key": "status", "value": ["a"], "operator": "eq"}, InvalidParameterType, "single value"),
    ({"key": "status", "value": ["a"], "operator": "not"}, InvalidParameterType, "single value"),
    ({"key": "total_tasks", "value": [1], "operator": "gt"}, InvalidParameterType, "scalar"),
    ({"key": "total_tasks", "value": {"$gt": 1}, "operator": "lt"}, InvalidParameterType, "scalar"),
    ({"key": "status", "value": "SUCCESS", "operator": "in"}, InvalidParameterType, "list"),
    ({"key": "status", "value": "SUCCESS", "operator": "not_in"}, InvalidParameterType, "list"),
    ({"key": "job_id", "value": "a", "operator": "contain_in"}, InvalidParameterType, "list"),
    ({"key": "job_id", "value": "a", "operator": "not_contain_in"}, InvalidParameterType, "list"),
    ({"key": "job_id", "value": "a", "operator": "regex_in"}, InvalidParameterType, "list"),
    ({"key": "job_id", "value": [1], "operator": "contain_in"}, InvalidParameterType, "strings"),
    ({"key": "job_id", "value": ["a"], "operator": "contain"}, InvalidParameterType, "single value"),
    ({"key": "job_id", "value": 12, "operator": "contain"}, InvalidParameterType, "string"),
    ({"key": "collector", "value": "yes", "operator": "exists"}, InvalidParameterType, "true or false"),
    ({"key": "errors", "value": "ERROR_AUTH", "operator": "match"}, InvalidParameterType, "object"),
    ({"key": "errors", "value": {"$where": "1"}, "operator": "match"}, InvalidQuery, "$where"),
    ({"key": "created_at", "value": "yesterday", "operator": "datetime_gt"}, InvalidQuery, "ISO 8601"),
    ({"key": "created_at", "value": 1715774400, "operator": "datetime_gt"}, InvalidQuery, "ISO 8601"),
    ({"key": "created_at", "value": "now-1y", "operator": "timediff_gt"}, InvalidQuery, "time expression"),
    ({"key": "created_at", "value": "today", "operator": "timediff_gt"}, InvalidQuery, "time expression"),
    ({"key": "job_id", "value": "([", "operator": "regex"}, InvalidQuery, "invalid regular expression"),
    ({"key": "job_id", "value": ["ok", "(["], "operator": "regex_in"}, InvalidQuery, "invalid regular expression"),
    # Refused as MongoDB's PCRE2 refuses them (https://www.pcre.org/current/doc/html/pcre2pattern.html).
    ({"key": "job_id", "value": "\\u0041", "operator": "regex"}, InvalidQuery, "does not support"),
    ({"key": "job_id", "value": "job\\i", "operator": "regex"}, InvalidQuery, "unrecognized character follows"),
    ({"key": "job_id", "value": ["x", "a{3,2}"], "operator": "regex_in"}, InvalidQuery, "out of order"),
    ({"key": "job_id", "value": "[[:digits:]]", "operator": "regex"}, InvalidQuery, "unknown POSIX class"),
    ({"key": "job_id", "value": "a**", "operator": "regex"}, InvalidQuery, "does not follow a repeatable item"),
    ({"key": "$where", "value": "1", "operator": "eq"}, InvalidQuery, "field path"),
    ({"key": "status.$ne", "value": "1", "operator": "eq"}, InvalidQuery, "field path"),
    ({"key": "errors..error_code", "value": "1", "operator": "eq"}, InvalidQuery, "field path"),
    ({"key": "collector_info", "value": "1", "operator": "eq"}, InvalidQuery, "collector field"),
    ({"key": "collector_info.provider", "value": ["aws"], "operator": "not"}, InvalidParameterType, "single"),
    ({"key": "status", "k": "status", "operator": "eq"}, InvalidParameterType, 'one of "key" and "k", not both'),
    ("status = SUCCESS", InvalidParameterType, "must be an object"),
]


@pytest.mark.parametrize(("condition", "error", "mentions"), ERROR_CASES)
async def test_bad_condition(service: JobService, condition: Any, error: type[Exception], mentions: str) -> None:
    with pytest.raises(error) as caught:
        await service.list_jobs(
            {"query": {"filter": [{"k": "status", "v": "SUCCESS", "o": "eq"}, condition]}, "domain_id": D1}
        )
    assert mentions in str(caught.value)
    # The message starts by naming the condition: by its position when the condition
    # itself is malformed, else by its key as the client wrote it.
    key = condition.get("key", condition.get("k")) if isinstance(condition, dict) else None
    assert str(caught.value).startswith(("query.filter[1]", f'condition on "{key}": ')), str(caught.value)


@LONG_REGEX.mark
async def test_regex_of_the_longest_length_runs(service: JobService) -> None:
    limit = service.limits.max_regex_length
    ok = await service.list_jobs(
        {"query": {"filter": [{"k": "job_id", "v": "a" * limit, "o": "regex"}]}, "domain_id": D1}
    )
    assert ok.jobs == []


async def test_regex_length_limit(service: JobService) -> None:
    limit = service.limits.max_regex_length
    with pytest.raises(LimitExceeded, match="max_regex_length"):
        await service.list_jobs(
            {"query": {"filter": [{"k": "job_id", "v": "a" * (limit + 1), "o": "regex"}]}, "domain_id": D1}
        )
