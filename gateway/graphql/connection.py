"""``jobConnection``: jobs as a Relay cursor connection (the GraphQL Cursor Connections
Specification), paged by keyset in the service (``JobService.list_window``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry

from gateway.graphql.order import JobOrderBy, order_to_sort
from gateway.graphql.planned import selected_fields
from gateway.graphql.resolvers import Info, list_request, page_jobs
from gateway.graphql.selection import children, job_wire_fields
from gateway.graphql.types import Job
from gateway.graphql.where import where_tree


@strawberry.type(description="Where a connection's page lies (Relay).")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether rows follow the last edge.")
    has_previous_page: bool = strawberry.field(description="Whether rows precede the first edge.")
    start_cursor: str | None = strawberry.field(description="The first edge's cursor; null when there is no edge.")
    end_cursor: str | None = strawberry.field(description="The last edge's cursor; null when there is no edge.")


@strawberry.type(description="One job of a connection and its place.")
class JobEdge:
    cursor: str = strawberry.field(description="Opaque: pass it as `after` or `before` to continue from here.")
    node: Job | None = strawberry.field(
        description="The job; null only when its stored document breaks the schema (an error names it)."
    )


@strawberry.type(description="Jobs as a Relay cursor connection.")
class JobConnection:
    edges: list[JobEdge] = strawberry.field(description="The page's jobs, in order.")
    page_info: PageInfo = strawberry.field(description="Whether there is more on either side.")
    total_count: int = strawberry.field(description="Every job the filter selects, ignoring the page.")


async def resolve_job_connection(
    info: Info,
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    where: Any = None,
    order_by: Sequence[JobOrderBy] | None = None,
    domain_id: str | None = None,
) -> JobConnection:
    """``Query.jobConnection``: a Relay cursor connection (Relay's Cursor Connections
    Specification) over the same list as ``jobs``: ``first``/``after`` pages forward,
    ``last``/``before`` backward, in ``orderBy``'s order with the document id as the
    last key (keyset paging, ``gateway.query.keyset``). Only what is selected is
    fetched: rows for ``edges``, a count for ``totalCount``, a look past the page for
    ``pageInfo``. Raises ``InvalidParameterType`` for a cursor this connection did
    not issue (edited, of another order or domain), ``InvalidQuery`` for ``first`` with
    ``last``, a negative count or one over the page cap (``LimitExceeded``), and what
    the service raises."""
    query: dict[str, Any] = {}
    sort = order_to_sort(order_by)
    if sort is not None:
        query["sort"] = sort
    request = list_request(domain_id, query)
    selections = selected_fields(info)
    selected = {f.name for f in children(selections, info.field_name)}
    edges = children(children(selections, info.field_name), "edges")
    wanted = job_wire_fields(children(edges, "node"))
    async with info.context.reading_page():
        window = await info.context.service.list_window(
            request,
            info.context.principal,
            first=first,
            after=after,
            last=last,
            before=before,
            fields=wanted,
            with_count="totalCount" in selected,
            with_rows="edges" in selected,
            with_page_info="pageInfo" in selected,
            where=None if where is None else where_tree(where),
        )
    jobs = await page_jobs(info, window)
    cursors = window.cursors
    return JobConnection(
        edges=[JobEdge(cursor=c, node=j) for c, j in zip(cursors, jobs, strict=True)],
        page_info=PageInfo(
            has_next_page=window.has_next_page,
            has_previous_page=window.has_previous_page,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        ),
        total_count=window.total_count or 0,
    )
