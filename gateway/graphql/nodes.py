"""``node(id:)`` and ``nodes(ids:)`` (Relay Global Object Identification): the objects
global ids name, each read in its id's domain as the caller may read it there.

However many ids (at most ``max_list_values``), their reads cost what a page's do: one
store call for the jobs of every id, and the collectors - of those jobs and of the
collector ids - through the request's collector DataLoader, in the one call it makes
for every field of the request (a project-scoped caller adds one aggregation, which
tells the collectors its jobs ran with)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from gateway.errors import GatewayError, LimitExceeded
from gateway.graphql.ids import GlobalId
from gateway.graphql.resolvers import Info, page_jobs
from gateway.graphql.selection import children, job_wire_fields
from gateway.graphql.types import CollectorInfo, Job, Node
from gateway.query.collectors import CollectorRef
from gateway.service import JobPage

NODE_TYPES = frozenset({"Job", "CollectorInfo"})
Found = dict[tuple[str, str, str], Node | GatewayError]  # (type name, domain, key) -> object or error


async def resolve_node(info: Info, node_id: str) -> Node | None:
    """The object a global id names, or null when it is gone (``FORBIDDEN`` for another
    domain's object under a token)."""
    (result,) = await resolve_nodes(info, [node_id])
    if isinstance(result, Exception):
        raise result
    return result


async def resolve_nodes(info: Info, node_ids: Sequence[str]) -> list[Node | Exception | None]:
    """``resolve_node`` of each id, in order; an id that fails is an error at its own
    index (graphql-core reports an exception item at its path), the others are kept.
    More ids than ``max_list_values`` is ``LimitExceeded`` for the whole field."""
    limit = info.context.service.limits.max_list_values
    if len(node_ids) > limit:
        raise LimitExceeded(f"nodes(ids:) has {len(node_ids)} ids; the limit max_list_values is {limit}.")
    decoded: list[GlobalId | GatewayError] = []
    for raw in node_ids:
        try:
            decoded.append(GlobalId.decode(raw, NODE_TYPES))
        except GatewayError as exc:
            decoded.append(exc)
    wanted: dict[str, dict[str, list[str]]] = {"Job": defaultdict(list), "CollectorInfo": defaultdict(list)}
    for node_id in decoded:
        if isinstance(node_id, GlobalId):
            wanted[node_id.type_name][node_id.domain_id].append(node_id.key)
    found = await _read(info, wanted["Job"], wanted["CollectorInfo"])
    return [
        node_id if isinstance(node_id, GatewayError) else found.get((node_id.type_name, node_id.domain_id, node_id.key))
        for node_id in decoded
    ]


async def _read(info: Info, jobs: dict[str, list[str]], collectors: dict[str, list[str]]) -> Found:
    service, principal = info.context.service, info.context.principal
    pages: dict[str, JobPage | GatewayError] = {}
    if jobs:
        fields = job_wire_fields(children(info.selected_fields, info.field_name))
        async with info.context.reading_page():
            pages = await service.get_jobs(jobs, principal, fields=fields)
    found: Found = {}
    for domain_id, page in pages.items():
        if isinstance(page, GatewayError):
            found.update({("Job", domain_id, key): page for key in jobs[domain_id]})
    readings = [_jobs(info, domain_id, page) for domain_id, page in pages.items() if isinstance(page, JobPage)]
    readings += [_collectors(info, domain_id, keys) for domain_id, keys in collectors.items()]
    for read in await asyncio.gather(*readings):
        found.update(read)
    return found


async def _jobs(info: Info, domain_id: str, page: JobPage) -> Found:
    jobs: list[Job] = await page_jobs(info, page)
    return {("Job", domain_id, str(job.doc["job_id"])): job for job in jobs if isinstance(job.doc.get("job_id"), str)}


async def _collectors(info: Info, domain_id: str, keys: list[str]) -> Found:
    service = info.context.service
    try:
        scope = service.authorize(info.context.principal, domain_id)
    except GatewayError as exc:
        return {("CollectorInfo", domain_id, key): exc for key in keys}
    await info.context.pages_read()
    refs = tuple(CollectorRef(collector_id=key) for key in dict.fromkeys(keys))
    docs: list[Any] = await info.context.collectors.load((scope.domain_id, refs))
    visible = await service.visible_collectors(scope, [doc for doc in docs if doc is not None])
    return {("CollectorInfo", domain_id, doc["collector_id"]): CollectorInfo(doc=doc) for doc in visible}
