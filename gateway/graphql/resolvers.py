"""Thin resolvers: GraphQL arguments -> the wire request -> the service -> types."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import strawberry

from gateway.errors import InvalidQuery
from gateway.graphql.arguments import enum_value
from gateway.graphql.context import GraphQLContext
from gateway.graphql.ids import GlobalId
from gateway.graphql.inputs import JobQueryInput, query_to_wire
from gateway.graphql.order import JobOrderBy, order_to_sort
from gateway.graphql.planned import selected_fields
from gateway.graphql.selection import children, job_wire_fields
from gateway.graphql.stat_inputs import StatisticsQueryInput, stat_request
from gateway.graphql.types import CollectorInfo, Job, JobsInfo, JobStatusFilter, Node
from gateway.graphql.where import where_tree
from gateway.query.collectors import CollectorRef, collector_ref
from gateway.service import JobPage

Info = strawberry.Info[GraphQLContext, None]
NODE_TYPES = frozenset({"Job", "CollectorInfo"})


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
    wanted = job_wire_fields(children(selected_fields(info), info.field_name))
    async with info.context.reading_page():
        page = await info.context.service.get_job(job_id, domain_id, info.context.principal, fields=wanted)
    jobs = await page_jobs(info, page)
    return jobs[0] if jobs else None


async def resolve_node(info: Info, node_id: str) -> Node | None:
    """The object a global id names, read in the id's domain as the caller may read it
    (``FORBIDDEN`` for another domain's object under a token); null when it is gone."""
    found = await _nodes(info, [node_id])
    result = found[0]
    if isinstance(result, Exception):
        raise result
    return result


async def resolve_nodes(info: Info, node_ids: Sequence[str]) -> list[Node | None]:
    """``resolve_node`` of each id, in order; an id that fails is an error at its index
    (graphql-core reports an exception item at its own path), the others are kept."""
    return await _nodes(info, node_ids)  # type: ignore[return-value]


async def _nodes(info: Info, node_ids: Sequence[str]) -> list[Node | Exception | None]:
    async def one(raw: str) -> Node | Exception | None:
        try:
            node_id = GlobalId.decode(raw, NODE_TYPES)
            if node_id.type_name == "Job":
                wanted = job_wire_fields(children(info.selected_fields, info.field_name))
                page = await info.context.service.get_job(
                    node_id.key, node_id.domain_id, info.context.principal, fields=wanted
                )
                jobs = await page_jobs(info, page)
                return jobs[0] if jobs else None
            doc = await info.context.service.get_collector(node_id.key, node_id.domain_id, info.context.principal)
            return None if doc is None else CollectorInfo(doc=doc)
        except Exception as exc:  # reported at this id's own path
            return exc

    return list(await asyncio.gather(*(one(raw) for raw in node_ids)))


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
    return await info.context.service.stat(stat_request(query, domain_id), info.context.principal)
