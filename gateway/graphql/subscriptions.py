"""Subscriptions (live job progress): ``jobChanged`` - each insert or update of a job
the subscription selects - and ``jobsLive`` - a list pushed again whenever it changes.
Both are scoped and filtered as the lists are (``JobService.watch``: the same request,
the same compiler), matched against changes in the database by the process's hub
(``gateway.live.hub``). Each event's reads have a database budget of their own (a
subscription outlives any one request's). A subscription under a token ends when the token expires,
with ``UNAUTHENTICATED``."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Sequence
from enum import Enum
from typing import Annotated, Any

import strawberry

from gateway.errors import InvalidQuery, Unauthenticated
from gateway.graphql.order import JobOrderBy, order_to_sort
from gateway.graphql.planned import selected_fields
from gateway.graphql.resolvers import Info, jobs_with, list_request
from gateway.graphql.selection import children, job_wire_fields
from gateway.graphql.types import Job, JobsInfo
from gateway.graphql.where import JobWhere, where_tree
from gateway.query.listing import JOB_FIELDS
from gateway.store.request_budget import request_budget

EXPIRED = "the token has expired; subscribe again with a new one."


@strawberry.enum(description="What happened to a job.")
class JobChangeKind(Enum):
    INSERTED = strawberry.enum_value("insert", description="The job was created.")
    UPDATED = strawberry.enum_value("update", description="The job changed (progress, status, errors...).")


@strawberry.type(description="A change of a job the subscription selects.")
class JobChange:
    kind: JobChangeKind = strawberry.field(description="What happened.")
    job: Job = strawberry.field(description="The job as it is after the change.")


def _expires_in(info: Info) -> float | None:
    principal = info.context.principal
    expires_at = principal.expires_at if principal is not None else None
    return None if expires_at is None else max(expires_at - time.time(), 0.0)


SUBSCRIPTION_TRANSPORTS = (
    "a subscription is not run over GET or POST /graphql with a JSON answer: open it over "
    "/graphql/stream (GraphQL over SSE: POST with Accept: text/event-stream) or a WebSocket "
    "on /graphql (graphql-transport-ws)."
)


def _hub(info: Info) -> Any:
    hub = getattr(info.context, "hub", None)
    if hub is None:
        raise InvalidQuery(SUBSCRIPTION_TRANSPORTS)
    return hub


async def job_changes(
    info: Info, *, where: Any = None, job_id: Sequence[str] | None = None, domain_id: str | None = None
) -> AsyncGenerator[JobChange, None]:
    """``Subscription.jobChanged``: a ``JobChange`` for each insert or update (MongoDB
    change stream events) of a job the arguments select in the caller's scope, read with
    the selected fields under a budget of its own. Raises ``InvalidQuery`` over plain
    HTTP (no hub), ``Unauthenticated`` when the caller's token expires, and what
    ``JobService.watch`` raises for the request."""
    hub = _hub(info)
    request = list_request(domain_id, {}, job_id=None if job_id is None else list(job_id))
    watch = info.context.service.watch(
        request, info.context.principal, where=None if where is None else where_tree(where)
    )
    job_selection = children(children(selected_fields(info), info.field_name), "job")
    fields = job_wire_fields(job_selection) | {"job_id"}
    await hub.start()
    with hub.subscribe(watch) as subscription:
        while True:
            try:
                delivery = await subscription.next(timeout=_expires_in(info))
            except TimeoutError:
                raise Unauthenticated(EXPIRED) from None
            change = delivery.change
            assert change.document is not None
            collectors = {}
            if "collector_info" in fields:
                with request_budget():  # each event's reads: a budget of their own
                    collectors = await delivery.batch.collectors()  # read once for the batch's subscribers
            (job,) = jobs_with([change.document], collectors)
            kind = JobChangeKind.INSERTED if change.operation == "insert" else JobChangeKind.UPDATED
            yield JobChange(kind=kind, job=job)


async def live_jobs(
    info: Info,
    *,
    where: Any = None,
    order_by: Sequence[JobOrderBy] | None = None,
    first: int = 20,
    domain_id: str | None = None,
) -> AsyncGenerator[JobsInfo, None]:
    """``Subscription.jobsLive``: the first ``first`` jobs in ``orderBy``'s order (as
    ``jobs`` answers them), at once and again after each change that alters the list;
    subscribers of the same list share one query per change (``hub.live``). Raises as
    ``job_changes``."""
    hub, service, principal = _hub(info), info.context.service, info.context.principal
    query: dict[str, Any] = {"page": {"limit": first}}
    if order_by is not None:
        query["sort"] = order_to_sort(order_by)
    request = list_request(domain_id, query)
    tree = None if where is None else where_tree(where)
    watch = service.watch(request, principal, where=tree)
    selection = children(selected_fields(info), info.field_name)
    counted = "totalCount" in {f.name for f in selection}
    fields = frozenset(JOB_FIELDS) & (job_wire_fields(children(selection, "results")) | {"job_id"})

    async def run() -> tuple[Any, list[Any]]:
        """The rows (with their collectors, read once for every subscriber of the list)
        and the job ids they show."""
        collectors: dict[Any, Any] = {}
        with request_budget():
            page = await service.list_jobs(request, principal, fields=fields, with_count=counted, where=tree)
            if "collector_info" in fields:
                collectors = await service.collectors_of(page.scope.domain_id, page.jobs)
        return (page.jobs, page.total_count, collectors), [doc.get("job_id") for doc in page.jobs]

    def shown(rows: Any) -> JobsInfo:
        docs, total, collectors = rows
        return JobsInfo(results=list(jobs_with(docs, collectors)), total_count=total or 0)

    await hub.start()
    async with hub.live(watch, repr((watch.key, fields, counted)), run) as live:
        seen = live.version
        yield shown(live.rows)
        while True:
            try:
                seen = await live.wait(seen, timeout=_expires_in(info))
            except TimeoutError:
                raise Unauthenticated(EXPIRED) from None
            yield shown(live.rows)


WhereArgument = Annotated[JobWhere | None, strawberry.argument(description="Typed conditions, as in jobConnection.")]
DomainArgument = Annotated[
    str | None,
    strawberry.argument(
        description="The domain to read; required without a token, and must be the token's own with one."
    ),
]


@strawberry.type(description="Live job changes, over WebSocket (graphql-transport-ws) or /graphql/stream (SSE).")
class Subscription:
    @strawberry.subscription(
        description="Each insert or update of a job the arguments select, within a second: the job as selected, "
        "and what happened. Scoped as the lists are."
    )
    async def job_changed(
        self,
        info: Info,
        where: WhereArgument = None,
        job_id: Annotated[list[str] | None, strawberry.argument(description="Only these job ids.")] = None,
        domain_id: DomainArgument = None,
    ) -> AsyncGenerator[JobChange, None]:
        async for change in job_changes(info, where=where, job_id=job_id, domain_id=domain_id):
            yield change

    @strawberry.subscription(
        description="A list of jobs (as `jobs` answers it), pushed again whenever it changes - at most every "
        "half second."
    )
    async def jobs_live(
        self,
        info: Info,
        where: WhereArgument = None,
        order_by: Annotated[
            list[JobOrderBy] | None,
            strawberry.argument(description="The order, key by key; default newest first. Ties by document id."),
        ] = None,
        first: Annotated[int, strawberry.argument(description="How many jobs the list shows.")] = 20,
        domain_id: DomainArgument = None,
    ) -> AsyncGenerator[JobsInfo, None]:
        async for page in live_jobs(info, where=where, order_by=order_by, first=first, domain_id=domain_id):
            yield page
