"""Thin resolvers: GraphQL arguments -> the wire request -> the service -> types."""

from __future__ import annotations

from typing import Any

import strawberry

from gateway.graphql.context import GraphQLContext
from gateway.graphql.inputs import JobQueryInput, query_to_wire
from gateway.graphql.selection import children, job_wire_fields
from gateway.graphql.stat_inputs import StatisticsQueryInput, stat_query_to_wire
from gateway.graphql.types import CollectorInfo, Job, JobsInfo, JobStatusFilter
from gateway.query.collectors import CollectorRef, collector_ref
from gateway.service import JobPage

Info = strawberry.Info[GraphQLContext, None]


async def resolve_jobs(
    info: Info,
    *,
    query: JobQueryInput | None,
    job_id: list[str] | None,
    status: list[JobStatusFilter] | None,
    collector_id: list[str] | None,
    project_id: list[str] | None,
    domain_id: str | None,
) -> JobsInfo:
    request: dict[str, Any] = {
        "domain_id": domain_id,
        "query": query_to_wire(query),
        "job_id": job_id,
        "status": [s.value for s in status] if status is not None else None,
        "collector_id": collector_id,
        "project_id": project_id,
    }
    selections = info.selected_fields
    selected = {f.name for f in children(selections, info.field_name)}
    wanted = job_wire_fields(children(children(selections, info.field_name), "results"))
    page = await info.context.service.list_jobs(
        request,
        info.context.principal,
        fields=wanted,
        with_count="totalCount" in selected,
        with_rows="results" in selected,
    )
    collectors = await _collectors(info, page) if "collector_info" in page.fields.fields else {}
    return JobsInfo(
        results=[Job.from_doc(doc, _collector(collectors, doc)) for doc in page.jobs],
        total_count=page.total_count or 0,
    )


async def resolve_job(info: Info, job_id: str, domain_id: str | None) -> Job | None:
    wanted = job_wire_fields(children(info.selected_fields, info.field_name))
    page = await info.context.service.get_job(job_id, domain_id, info.context.principal, fields=wanted)
    if not page.jobs:
        return None
    collectors = await _collectors(info, page) if "collector_info" in page.fields.fields else {}
    return Job.from_doc(page.jobs[0], _collector(collectors, page.jobs[0]))


def _collector(collectors: dict[CollectorRef, CollectorInfo], job: dict[str, Any]) -> CollectorInfo | None:
    ref = collector_ref(job)
    return None if ref is None else collectors.get(ref)


async def _collectors(info: Info, page: JobPage) -> dict[CollectorRef, CollectorInfo]:
    """The page's collectors through the request's DataLoader: one batch for the whole
    page (and for every `jobs`/`job` field of the request that loads in the same tick),
    each collector built once however many jobs share it."""
    refs = list({ref for ref in map(collector_ref, page.jobs) if ref is not None})
    domain = page.scope.domain_id
    docs = await info.context.collectors.load_many([(domain, ref) for ref in refs])
    return {
        ref: CollectorInfo.from_doc(page.fields.collector_view(doc))
        for ref, doc in zip(refs, docs, strict=True)
        if doc is not None
    }


async def resolve_job_stat(info: Info, query: StatisticsQueryInput, domain_id: str | None) -> Any:
    return await info.context.service.stat(stat_query_to_wire(query), domain_id, info.context.principal)
