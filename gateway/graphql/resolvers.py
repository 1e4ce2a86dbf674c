"""Thin resolvers: GraphQL arguments -> the wire request -> the service -> types."""

from __future__ import annotations

from typing import Any

import strawberry

from gateway.graphql.context import GraphQLContext
from gateway.graphql.inputs import JobQueryInput, query_to_wire
from gateway.graphql.selection import children, job_wire_fields
from gateway.graphql.stat_inputs import StatisticsQueryInput, stat_query_to_wire
from gateway.graphql.types import Job, JobsInfo, JobStatusFilter
from gateway.service import scope_for

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
    scope = scope_for(domain_id)
    request: dict[str, Any] = {
        "query": query_to_wire(query),
        "job_id": job_id,
        "status": [s.value for s in status] if status is not None else None,
        "collector_id": collector_id,
        "project_id": project_id,
    }
    selections = info.selected_fields
    wanted = job_wire_fields(children(children(selections, info.field_name), "results"))
    with_count = any(f.name == "totalCount" for f in children(selections, info.field_name))
    page = await info.context.service.list_jobs(request, scope, fields=wanted, with_count=with_count)
    paths = page.output.collector_paths
    return JobsInfo(
        results=[Job.from_doc(doc, scope.domain_id, paths) for doc in page.jobs],
        total_count=page.total_count or 0,
    )


async def resolve_job(info: Info, job_id: str, domain_id: str | None) -> Job | None:
    scope = scope_for(domain_id)
    wanted = job_wire_fields(children(info.selected_fields, info.field_name))
    doc = await info.context.service.get_job(job_id, scope, fields=wanted)
    return None if doc is None else Job.from_doc(doc, scope.domain_id, None)


async def resolve_job_stat(info: Info, query: StatisticsQueryInput, domain_id: str | None) -> Any:
    return await info.context.service.stat(stat_query_to_wire(query), scope_for(domain_id))
