"""The schema: Query root, and the extensions that bound and protect execution."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from typing import Annotated, Any

import strawberry
from cachetools import LRUCache
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.execution import PreExecutionError

from gateway.graphql.connection import JobConnection, resolve_job_connection
from gateway.graphql.dashboard import CalendarPeriod, JobCount, JobCountKey, JobInstant, resolve_job_counts
from gateway.graphql.errors import GatewayErrors
from gateway.graphql.extensions import REQUESTED_OPERATION, OperationChoice, OperationName, ValidatedDocuments
from gateway.graphql.inputs import JobQueryInput
from gateway.graphql.limits import limit_rules
from gateway.graphql.nodes import resolve_node, resolve_nodes
from gateway.graphql.order import JobOrderBy
from gateway.graphql.planning import PlanCache, planned_execution
from gateway.graphql.resolvers import Info, resolve_job, resolve_job_stat, resolve_jobs
from gateway.graphql.scalars import JSON, SCALARS
from gateway.graphql.stat_inputs import StatisticsQueryInput
from gateway.graphql.subscriptions import Subscription
from gateway.graphql.types import CollectorInfo, Job, JobsInfo, JobStatusFilter, Node
from gateway.graphql.variable_limits import VariableLimits
from gateway.graphql.where import JobWhere
from gateway.settings import Settings

DomainArgument = Annotated[
    str | None,
    strawberry.argument(
        description="The domain to read; required without a token, and must be the token's own with one."
    ),
]


WhereArgument = Annotated[
    JobWhere | None, strawberry.argument(description="Typed conditions, ANDed with any other filter given.")
]
OrderByArgument = Annotated[
    list[JobOrderBy] | None,
    strawberry.argument(description="The order, key by key; default newest first. Ties by document id."),
]


@strawberry.type(description="Reads over collection jobs, each scoped to one domain (contract section 7).")
class Query:
    @strawberry.field(
        description="List jobs of one domain in the published Query language: filter, sort, page, search."
    )
    async def jobs(  # noqa: PLR0917 - GraphQL arguments, resolved by name
        self,
        info: Info,
        query: Annotated[
            JobQueryInput | None, strawberry.argument(description="The published Query language (section 3.1).")
        ] = None,
        job_id: Annotated[list[str] | None, strawberry.argument(description="Only these job ids.")] = None,
        status: Annotated[
            list[JobStatusFilter] | None, strawberry.argument(description="Only jobs in one of these states.")
        ] = None,
        collector_id: Annotated[
            list[str] | None, strawberry.argument(description="Only jobs of these collectors.")
        ] = None,
        project_id: Annotated[list[str] | None, strawberry.argument(description="Only jobs of these projects.")] = None,
        domain_id: DomainArgument = None,
        where: WhereArgument = None,
        order_by: OrderByArgument = None,
    ) -> JobsInfo:
        return await resolve_jobs(
            info,
            query=query,
            job_id=job_id,
            status=status,
            collector_id=collector_id,
            project_id=project_id,
            domain_id=domain_id,
            where=where,
            order_by=order_by,
        )

    @strawberry.field(
        description="Jobs of one domain as a Relay cursor connection: typed filter and order, keyset pages "
        "(stable while jobs are inserted; page 500 costs what page 1 costs)."
    )
    async def job_connection(  # noqa: PLR0917 - GraphQL arguments, resolved by name
        self,
        info: Info,
        first: Annotated[
            int | None, strawberry.argument(description="The first N jobs (after `after`); at most the page cap.")
        ] = None,
        after: Annotated[
            str | None, strawberry.argument(description="Start after this cursor (of this order and domain).")
        ] = None,
        last: Annotated[
            int | None, strawberry.argument(description="The last N jobs (before `before`); at most the page cap.")
        ] = None,
        before: Annotated[
            str | None, strawberry.argument(description="End before this cursor (of this order and domain).")
        ] = None,
        where: WhereArgument = None,
        order_by: OrderByArgument = None,
        domain_id: DomainArgument = None,
    ) -> JobConnection:
        return await resolve_job_connection(
            info,
            first=first,
            after=after,
            last=last,
            before=before,
            where=where,
            order_by=order_by,
            domain_id=domain_id,
        )

    @strawberry.field(description="One job by id, or null.")
    async def job(
        self,
        info: Info,
        job_id: Annotated[strawberry.ID, strawberry.argument(description="The job's `jobId`.")],
        domain_id: DomainArgument = None,
    ) -> Job | None:
        return await resolve_job(info, job_id=str(job_id), domain_id=domain_id)

    @strawberry.field(
        description="The object a global id names (Relay), read in the id's domain as the caller may read it; "
        "null when it no longer exists."
    )
    async def node(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="A global `id`.")]
    ) -> Node | None:
        return await resolve_node(info, str(id))

    @strawberry.field(
        description="The objects global ids name, in order (see `node`): at most as many ids as a list operator's "
        "values (`JOB_GATEWAY_MAX_LIST_VALUES`, 1000 by default), read in one query per type; an id that fails is "
        "an error at its own index, the others are kept."
    )
    async def nodes(
        self, info: Info, ids: Annotated[list[strawberry.ID], strawberry.argument(description="Global `id`s.")]
    ) -> list[Node | None]:
        return await resolve_nodes(info, [str(i) for i in ids])  # type: ignore[return-value]

    @strawberry.field(
        description="The common dashboard: counts of jobs grouped by any of status, provider, collector and a "
        "calendar period in a time zone, ordered by the groups. (`jobStat` answers any other statistics.)"
    )
    async def job_counts(  # noqa: PLR0917 - GraphQL arguments, resolved by name
        self,
        info: Info,
        group_by: Annotated[
            list[JobCountKey], strawberry.argument(description="The keys to group by, in order; none: one total.")
        ],
        period: Annotated[
            CalendarPeriod, strawberry.argument(description="The calendar period of PERIOD.")
        ] = CalendarPeriod.DAY,
        period_of: Annotated[
            JobInstant, strawberry.argument(description="Which instant of a job PERIOD reads.")
        ] = JobInstant.CREATED_AT,
        time_zone: Annotated[
            str, strawberry.argument(description="The IANA time zone of the periods' calendar, e.g. `Asia/Seoul`.")
        ] = "UTC",
        where: WhereArgument = None,
        domain_id: DomainArgument = None,
    ) -> list[JobCount]:
        return await resolve_job_counts(
            info,
            group_by=group_by,
            period=period,
            period_of=period_of,
            time_zone=time_zone,
            where=where,
            domain_id=domain_id,
        )

    @strawberry.field(description="Statistics over jobs: `{results: [row...], total_count?}` as the REST stat route.")
    async def job_stat(
        self,
        info: Info,
        query: Annotated[
            StatisticsQueryInput, strawberry.argument(description="The published StatisticsQuery language (4.1).")
        ],
        domain_id: DomainArgument = None,
    ) -> JSON:
        return await resolve_job_stat(info, query=query, domain_id=domain_id)


class EventScopedExecution(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, with each subscription event's memo of collected
    subfields its own.

    graphql-core 3.3 builds an event's executor as a shallow copy of the subscription's
    (``Executor.build_per_event_executor``), so every event shares one memo of collected
    subfields, keyed by the identity of field lists each event builds afresh and keeping
    them alive: it grew by every event for the life of the subscription (about 2 KiB an
    event: 1,000 subscribers took the server from 114 to 255 MiB in 15 s of
    bench/subscriptions.py; freed only when the subscription ended). Each event now
    starts with an empty memo, as each query does. The attribute is graphql-core's own
    (no public way to reach it); tests/test_live.py checks that the objects alive stay
    flat over many events, so a graphql-core that renames it fails there."""

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        return executor


class GatewaySchema(strawberry.Schema):
    """Strawberry's schema without its error logging (``process_errors``)."""

    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        """Log nothing: the ``GatewayErrors`` extension logs what deserves it
        (unexpected errors, with their cause and stack); a client's bad input is not
        worth a stack trace in the log."""
        return None

    async def execute(self, query: str | None, *args: Any, **kwargs: Any) -> Any:
        """Strawberry's ``execute``, telling ``OperationChoice`` the operationName given."""
        token = REQUESTED_OPERATION.set(kwargs.get("operation_name"))
        try:
            return await super().execute(query, *args, **kwargs)
        finally:
            REQUESTED_OPERATION.reset(token)

    async def stream(self, query: str | None, *args: Any, **kwargs: Any) -> Any:
        """Strawberry's ``stream`` (``subscribe`` calls it), telling ``OperationChoice``
        the operationName given. The stream parses when it is first read, in the
        caller's context: the value stays set there (each call sets its own).

        A request error raised before the first result (a document that does not
        parse, or whose operation cannot be chosen: ``GatewayErrors`` raises them in the
        gateway's shape) comes as that first result, a ``PreExecutionError``, as
        validation errors do: graphql-transport-ws answers it with an ``error`` message
        for that operation (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md#error),
        SSE with its one ``next`` event, and the connection's other operations go on."""
        REQUESTED_OPERATION.set(kwargs.get("operation_name"))
        return _refused_before_execution(await super().stream(query, *args, **kwargs))


async def _refused_before_execution(results: Any) -> AsyncIterator[Any]:
    """``results``, with a ``GraphQLError`` raised before the first one yielded as a
    ``PreExecutionError`` instead (see ``GatewaySchema.stream``)."""
    async with aclosing(results):
        try:
            first = await anext(results)
        except StopAsyncIteration:
            return
        except GraphQLError as error:
            yield PreExecutionError(data=None, errors=[error])
            return
        yield first
        async for result in results:
            yield result


def build_schema(settings: Settings | None = None, *, planned: bool = True) -> strawberry.Schema:
    """The executable schema; the limits come from ``settings`` (defaults if None).
    ``planned`` False leaves every operation to graphql-core's executor (the reference
    the planned execution is tested against)."""
    settings = settings or Settings()
    # The limit rules are built once: the validation cache is keyed by the rule
    # classes, so rules rebuilt per request would make every request a cache miss.
    rules = limit_rules(max_depth=settings.max_query_depth, max_aliases=settings.max_aliases)
    # Factories, not instances: each request gets its own extension objects. The
    # parser and validation caches are shared by Strawberry across instances.
    plans = PlanCache(maxsize=256)
    validated: LRUCache[int, Any] = LRUCache(maxsize=256)
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: ParserCache(maxsize=256),
        OperationChoice,
        lambda: ValidatedDocuments(plans, validated),
        OperationName,
        GatewayErrors,
        # Before any coercion of the variables (the planned execution's included).
        lambda: VariableLimits(max_values=settings.max_variable_values),
        *([planned_execution(plans)] if planned else []),
    ]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    schema = GatewaySchema(
        query=Query,
        subscription=Subscription,
        types=[Job, CollectorInfo],
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALARS),
        execution_context_class=EventScopedExecution,
    )
    # The plans read the graphql-core schema Strawberry built (its types and serializers).
    plans.schema = schema._schema
    return schema


def export_sdl() -> str:
    """The SDL contract, as checked in at schema/schema.graphql."""
    return build_schema().as_str() + "\n"
