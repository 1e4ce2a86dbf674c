"""Thin resolvers: GraphQL arguments -> the wire request -> the service -> types."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import strawberry

from gateway.errors import InvalidQuery
from gateway.graphql.arguments import enum_value
from gateway.graphql.context import GraphQLContext
from gateway.graphql.inputs import JobQueryInput, query_to_wire
from gateway.graphql.order import JobOrderBy, order_to_sort
from gateway.graphql.planned import selected_fields
from gateway.graphql.selection import children, job_wire_fields
from gateway.graphql.stat_inputs import StatisticsQueryInput, stat_request
from gateway.graphql.types import CollectorInfo, Job, JobsInfo, JobStatusFilter
from gateway.graphql.where import where_tree
from gateway.query.collectors import CollectorRef, collector_ref
from gateway.service import JobPage

Info = strawberry.Info[GraphQLContext, None]


def list_request(
    domain_id: str | None,
    query: dict[str, Any],
    *,
    job_id: list[str] | None = None,
    status: list[JobStatusFilter] | None = None,
    collector_id: list[str] | None = None,
    project_id: list[str] | None = None,
) -> dict[str, Any]:
    """The published list request (contract section 3) of GraphQL arguments."""
    return {
        "domain_id": domain_id,
        "query": query,
        "job_id": job_id,
        "status": [enum_value(s) for s in status] if status is not None else None,
        "collector_id": collector_id,
        "project_id": project_id,
    }


async def resolve_jobs(
    info: Info,
    *,
    query: JobQueryInput | None = None,
    job_id: list[str] | None = None,
    status: list[JobStatusFilter] | None = None,
    collector_id: list[str] | None = None,
    project_id: list[str] | None = None,
    domain_id: str | None = None,
    where: Any = None,
    order_by: Sequence[JobOrderBy] | None = None,
) -> JobsInfo:
    """``Query.jobs`` (spec section 6): the arguments as the published list request
    (section 3; ``orderBy`` as its sort, ``where`` as a condition tree) through
    ``JobService.list_jobs``, fetching only the selected fields, counting only when
    ``totalCount`` is selected, reading rows only when ``results`` is. Raises
    ``InvalidQuery`` when both ``orderBy`` and ``query.sort`` are given, and what the
    service raises (``InvalidQuery``, ``Forbidden``, ``StoreUnavailable``...)."""
    request = list_request(
        domain_id,
        query_to_wire(query),
        job_id=job_id,
        status=status,
        collector_id=collector_id,
        project_id=project_id,
    )
    if order_by is not None:
        if request["query"].get("sort") is not None:
            raise InvalidQuery("give orderBy or query.sort, not both.")
        request["query"]["sort"] = order_to_sort(order_by)
    selections = selected_fields(info)
    selected = {f.name for f in children(selections, info.field_name)}
    wanted = job_wire_fields(children(children(selections, info.field_name), "results"))
    async with info.context.reading_page():
        page = await info.context.service.list_jobs(
            request,
            info.context.principal,
            fields=wanted,
            with_count="totalCount" in selected,
            with_rows="results" in selected,
            where=None if where is None else where_tree(where),
        )
    return JobsInfo(results=list(await page_jobs(info, page)), total_count=page.total_count or 0)


async def page_jobs(info: Info, page: JobPage) -> list[Job]:
    """The page's jobs as ``Job`` objects, their collectors loaded in one batch."""
    if "collector_info" not in page.fields.fields:
        return [Job(doc=doc) for doc in page.jobs]
    await info.context.pages_read()
    collectors = await _collectors(info, page)
    return [Job(doc=doc, collector=_collector(collectors, doc)) for doc in page.jobs]


async def resolve_job(info: Info, *, job_id: str, domain_id: str | None = None) -> Job | None:
    """``Query.job`` (spec section 6): the job with ``job_id`` in the caller's scope,
    or None; only the selected fields fetched. Raises as ``resolve_jobs``."""
    wanted = job_wire_fields(children(selected_fields(info), info.field_name))
    async with info.context.reading_page():
        page = await info.context.service.get_job(job_id, domain_id, info.context.principal, fields=wanted)
    jobs = await page_jobs(info, page)
    return jobs[0] if jobs else None


def jobs_with(docs: Sequence[dict[str, Any]], collectors: Mapping[CollectorRef, dict[str, Any]]) -> list[Job]:
    """``Job`` objects of ``docs``, with their collectors from ``collectors`` (already
    read, as ``page_jobs`` reads them: in the jobs' domain; absent where gone)."""
    infos = {ref: CollectorInfo(doc=doc) for ref, doc in collectors.items()}
    return [Job(doc=doc, collector=_collector(infos, doc)) for doc in docs]


def _collector(collectors: dict[CollectorRef, CollectorInfo], job: dict[str, Any]) -> CollectorInfo | None:
    ref = collector_ref(job)
    return None if ref is None else collectors.get(ref)


async def _collectors(info: Info, page: JobPage) -> dict[CollectorRef, CollectorInfo]:
    """The page's collectors through the request's DataLoader: one batch for the whole
    page (and for every `jobs`/`job` field of the request that loads in the same tick),
    each collector built once however many jobs share it."""
    refs = list({ref for ref in map(collector_ref, page.jobs) if ref is not None})
    domain = page.scope.domain_id
    docs = await info.context.collectors.load((domain, tuple(refs)))
    return {ref: CollectorInfo(doc=doc) for ref, doc in zip(refs, docs, strict=True) if doc is not None}


async def resolve_job_stat(info: Info, *, query: StatisticsQueryInput, domain_id: str | None = None) -> Any:
    """``Query.jobStat`` (spec sections 4 and 6): the section 4 result, ``{"results":
    [row...]}`` plus ``total_count`` when ``page.limit`` > 0, from
    ``JobService.stat``. Raises what the service raises."""
    return await info.context.service.stat(stat_request(query, domain_id), info.context.principal)
