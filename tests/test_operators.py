"""Every operator of section 3.2, on matching and non-matching documents, run by the
service against the store (the embedded engine; a real MongoDB when configured)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.errors import InvalidParameterType, InvalidQuery, LimitExceeded, RequiredParameter, UnsupportedOperator
from gateway.service import JobService
from tests.dataset import D1, D1_JOB_IDS, D2, J1, J2, J7, dataset
from tests.engines import LONG_REGEX
from tests.operator_cases import CASES, COLLECTOR_CASES

pytestmark = pytest.mark.anyio


async def matching(service: JobService, key: str, operator: str, value: Any, domain: str = D1) -> set[str]:
    page = await service.list_jobs({"query": {"filter": [{"k": key, "v": value, "o": operator}]}, "domain_id": domain})
    assert page.total_count == len(page.jobs)
    return {job["job_id"] for job in page.jobs}


@pytest.mark.parametrize(("key", "operator", "value", "expected"), CASES)
async def test_operator(service: JobService, key: str, operator: str, value: Any, expected: set[str]) -> None:
    assert await matching(service, key, operator, value) == expected


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
