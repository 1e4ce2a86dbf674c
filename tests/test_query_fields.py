"""Every field of the list request (section 3): shortcuts, filter_or, keyword, sort,
page, only, minimal, count_only, through the service on each engine."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.authorization import authorize
from gateway.errors import InvalidParameterType, InvalidQuery, LimitExceeded, RequiredParameter
from gateway.query.collectors import CollectorRef
from gateway.service import JobService
from tests.dataset import D1, J1, J2, J7, JABCD, JC6, JGONE, JOLD

pytestmark = pytest.mark.anyio

NEWEST_FIRST = [JC6, J1, J7, J2, JABCD, JGONE, JOLD]


async def listed(service: JobService, request: dict[str, Any], **kwargs: Any) -> tuple[list[str], int | None]:
    page = await service.list_jobs({"domain_id": D1, **request}, **kwargs)
    return [job.get("job_id") for job in page.jobs], page.total_count


async def test_default_sort_is_created_at_descending_with_id_tie_break(service: JobService) -> None:
    assert await listed(service, {}) == (NEWEST_FIRST, 7)
    assert await listed(service, {"query": {}}) == (NEWEST_FIRST, 7)


async def test_sort_forms(service: JobService) -> None:
    oldest_first = [JOLD, JGONE, JABCD, J2, J1, J7, JC6]  # the tie stays J1, J7: id ascending
    assert (await listed(service, {"query": {"sort": {"key": "created_at", "desc": False}}}))[0] == oldest_first
    assert (await listed(service, {"query": {"sort": {"key": "created_at"}}}))[0] == oldest_first
    assert (await listed(service, {"query": {"sort": [{"key": "created_at", "desc": True}]}}))[0] == NEWEST_FIRST
    by_tasks = await listed(
        service, {"query": {"sort": {"keys": [{"key": "total_tasks", "desc": True}, {"key": "job_id", "desc": True}]}}}
    )
    assert by_tasks[0] == [J1, J7, J2, JABCD, JOLD, JGONE, JC6]
    # A wire name sorts by the stored field.
    assert (await listed(service, {"query": {"sort": {"key": "filter.region", "desc": True}}}))[0][0] == J1


async def test_sort_by_a_collector_field(service: JobService) -> None:
    # A gone collector sorts as null, first ascending; ties by id whatever the direction.
    by_name = [JGONE, J1, JABCD, JC6, J7, J2, JOLD]
    assert await listed(service, {"query": {"sort": {"key": "collector_info.name"}}}) == (by_name, 7)
    desc = await listed(
        service, {"query": {"sort": {"key": "collector_info.name", "desc": True}, "page": {"start": 2, "limit": 3}}}
    )
    assert desc == ([J2, J1, JABCD], 7)
    page = await service.list_jobs(
        {"domain_id": D1, "query": {"sort": {"key": "collector_info.provider"}, "only": ["job_id"]}}
    )
    assert page.jobs[0] == {"job_id": JGONE}


async def test_sort_errors(service: JobService) -> None:
    with pytest.raises(InvalidQuery, match="collector field"):
        await listed(service, {"query": {"sort": {"key": "collector_info"}}})
    with pytest.raises(InvalidParameterType, match="desc"):
        await listed(service, {"query": {"sort": {"key": "status", "desc": "yes"}}})
    with pytest.raises(InvalidQuery, match="field path"):
        await listed(service, {"query": {"sort": {"key": "$natural"}}})


async def test_pages_are_one_based_and_never_overlap(service: JobService) -> None:
    assert await listed(service, {"query": {"page": {"start": 1, "limit": 2}}}) == (NEWEST_FIRST[:2], 7)
    assert await listed(service, {"query": {"page": {"start": 3, "limit": 2}}}) == (NEWEST_FIRST[2:4], 7)
    seen: list[str] = []
    for start in range(1, 8, 2):
        seen += (await listed(service, {"query": {"page": {"start": start, "limit": 2}}}))[0]
    assert seen == NEWEST_FIRST
    # start missing or < 1 means 1
    for start in (None, 0, -5):
        assert (await listed(service, {"query": {"page": {"start": start, "limit": 3}}}))[0] == NEWEST_FIRST[:3]
    # limit 0 or missing: up to the cap, and start is ignored
    assert (await listed(service, {"query": {"page": {"start": 5}}}))[0] == NEWEST_FIRST
    assert (await listed(service, {"query": {"page": {"start": 5, "limit": 0}}}))[0] == NEWEST_FIRST
    # past the end: an empty page, the count still all matches
    assert await listed(service, {"query": {"page": {"start": 50, "limit": 10}}}) == ([], 7)
    # protobuf JSON writes integers as strings too
    assert (await listed(service, {"query": {"page": {"start": "2", "limit": "1"}}}))[0] == [J1]


async def test_page_cap_and_page_errors(service: JobService) -> None:
    cap = service.limits.max_page_size
    assert (await listed(service, {"query": {"page": {"limit": cap}}}))[1] == 7
    with pytest.raises(LimitExceeded, match=f"max_page_size={cap}"):
        await listed(service, {"query": {"page": {"limit": cap + 1}}})
    with pytest.raises(InvalidParameterType, match=r"query\.page\.limit must be an integer from 0"):
        await listed(service, {"query": {"page": {"limit": -1}}})
    with pytest.raises(InvalidParameterType, match="integer"):
        await listed(service, {"query": {"page": {"limit": 1.5}}})
    with pytest.raises(InvalidParameterType, match="page"):
        await listed(service, {"query": {"page": [1, 10]}})


async def test_page_cap_applies_without_limit() -> None:
    from gateway.query.listing import Limits
    from tests.conftest import fixed_clock, memory_with
    from tests.dataset import dataset

    capped = JobService(memory_with(dataset()), limits=Limits(max_page_size=3), clock=fixed_clock)
    assert await listed(capped, {}) == (NEWEST_FIRST[:3], 7)


async def test_filter_or_is_anded_with_filter(service: JobService) -> None:
    query = {
        "filter": [{"k": "created_at", "v": "2024-05-14T00:00:00Z", "o": "datetime_gte"}],
        "filter_or": [{"k": "status", "v": "ERROR", "o": "eq"}, {"k": "total_tasks", "v": 0, "o": "eq"}],
    }
    ids, count = await listed(service, {"query": query})
    assert set(ids) == {J2, JC6} and count == 2
    ids, _ = await listed(service, {"query": {"filter_or": query["filter_or"]}})
    assert set(ids) == {J2, JC6}


async def test_keyword_matches_any_word_in_job_id_literally(service: JobService) -> None:
    assert set((await listed(service, {"query": {"keyword": "ABCD  gone"}}))[0]) == {JABCD, JGONE}
    assert (await listed(service, {"query": {"keyword": "job-0+"}}))[0] == []
    assert (await listed(service, {"query": {"keyword": "   "}}))[0] == NEWEST_FIRST
    # The keyword joins filter_or: either an or-condition or the keyword holds.
    query = {"keyword": "old", "filter_or": [{"k": "status", "v": "CREATED", "o": "eq"}]}
    assert set((await listed(service, {"query": query}))[0]) == {JOLD, JC6}
    with pytest.raises(InvalidParameterType, match="keyword"):
        await listed(service, {"query": {"keyword": ["old"]}})


async def test_shortcuts(service: JobService) -> None:
    assert (await listed(service, {"job_id": J2}))[0] == [J2]
    assert set((await listed(service, {"job_id": [J2, JOLD]}))[0]) == {J2, JOLD}
    assert set((await listed(service, {"status": "SUCCESS"}))[0]) == {J1, J7}
    assert set((await listed(service, {"status": ["ERROR", "TIMEOUT"]}))[0]) == {J2, JOLD}
    assert (await listed(service, {"status": "JOB_STATE_NONE"}))[0] == NEWEST_FIRST
    assert (await listed(service, {"status": ""}))[0] == NEWEST_FIRST
    assert set((await listed(service, {"collector_id": "collector-gcp000000002"}))[0]) == {J2}
    assert (await listed(service, {"project_id": "project-a"}))[0] == [J1]
    # Shortcuts are ANDed with the query.
    both = {"status": "SUCCESS", "query": {"filter": [{"k": "total_tasks", "v": 7, "o": "eq"}]}}
    assert (await listed(service, both))[0] == [J7]
    with pytest.raises(InvalidParameterType, match="RUNNING"):
        await listed(service, {"status": "RUNNING"})
    with pytest.raises(InvalidParameterType, match="job_id"):
        await listed(service, {"job_id": 12})


async def test_domain_is_required_and_scopes_everything(service: JobService) -> None:
    for missing in (None, ""):
        with pytest.raises(RequiredParameter, match="domain_id"):
            authorize(None, missing, auth_required=False)
    with pytest.raises(InvalidParameterType):
        authorize(None, ["domain-a"], auth_required=False)
    ids, _ = await listed(service, {"query": {"filter": [{"k": "domain_id", "v": "domain-bbbbbbbbbbbb", "o": "eq"}]}})
    assert ids == []


async def test_only_minimal_and_count_only(service: JobService) -> None:
    page = await service.list_jobs({"query": {"only": ["job_id", "filter.region"]}, "domain_id": D1})
    assert page.fields.fields == {"job_id", "filter"}
    assert page.jobs[1] == {"job_id": J1, "filters": {"region": "us-east-1"}}
    page = await service.list_jobs({"query": {"minimal": True}, "domain_id": D1})
    assert page.fields.fields == {"job_id", "status", "created_at", "finished_at"}
    assert set(page.jobs[1]) == {"job_id", "status", "created_at", "finished_at"}
    # only and minimal together: what both allow
    page = await service.list_jobs({"query": {"minimal": True, "only": ["job_id", "errors"]}, "domain_id": D1})
    assert page.fields.fields == {"job_id"}
    page = await service.list_jobs({"query": {"count_only": True}, "domain_id": D1})
    assert page.jobs == [] and page.total_count == 7
    with pytest.raises(InvalidQuery, match="not a stored field"):
        await service.list_jobs({"query": {"only": ["secret"]}, "domain_id": D1})
    with pytest.raises(InvalidQuery, match='"projects" is not a field of a job'):
        await service.list_jobs({"query": {"only": ["projects"]}, "domain_id": D1})
    with pytest.raises(InvalidParameterType, match="count_only"):
        await service.list_jobs({"query": {"count_only": "yes"}, "domain_id": D1})
    with pytest.raises(InvalidParameterType, match=r"query\.only must be a list"):
        await service.list_jobs({"query": {"only": "job_id"}, "domain_id": D1})


async def test_get_job(service: JobService) -> None:
    (job,) = (await service.get_job(J2, D1)).jobs
    assert job["status"] == "ERROR"
    assert (await service.get_job("job-0000000000d8", D1)).jobs == []  # another domain's
    assert (await service.get_job("nope", D1)).jobs == []


async def test_load_collectors_follows_both_references(service: JobService) -> None:
    from tests.dataset import OID_OLD

    found = await service.load_collectors(
        D1,
        [
            CollectorRef(collector_id="collector-aws000000001"),
            CollectorRef(object_id=OID_OLD),
            CollectorRef(collector_id="collector-deleted00000"),
            CollectorRef(collector_id="collector-aws000000003"),
        ],
    )
    assert [c and c["name"] for c in found] == ["AWS prod", "Legacy OpenStack", None, None]
