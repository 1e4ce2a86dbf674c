"""The schema: Query root, and the extensions that bound and protect execution."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

from gateway.graphql.errors import GatewayErrors
from gateway.graphql.execution import execution_context_class, leaf_plans
from gateway.graphql.extensions import OperationName
from gateway.graphql.inputs import JobQueryInput
from gateway.graphql.limits import limit_rules
from gateway.graphql.resolvers import Info, resolve_job, resolve_job_stat, resolve_jobs
from gateway.graphql.scalars import JSON, SCALARS
from gateway.graphql.stat_inputs import StatisticsQueryInput
from gateway.graphql.types import Job, JobsInfo, JobStatusFilter
from gateway.settings import Settings


@strawberry.type
class Query:
    @strawberry.field(description="List jobs of one domain: filter, sort, page, search.")
    async def jobs(  # noqa: PLR0917 - GraphQL arguments, resolved by name
        self,
        info: Info,
        query: JobQueryInput | None = None,
        job_id: list[str] | None = None,
        status: list[JobStatusFilter] | None = None,
        collector_id: list[str] | None = None,
        project_id: list[str] | None = None,
        domain_id: str | None = None,
    ) -> JobsInfo:
        return await resolve_jobs(
            info,
            query=query,
            job_id=job_id,
            status=status,
            collector_id=collector_id,
            project_id=project_id,
            domain_id=domain_id,
        )

    @strawberry.field(description="One job by id, or null.")
    async def job(self, info: Info, job_id: strawberry.ID, domain_id: str | None = None) -> Job | None:
        return await resolve_job(info, str(job_id), domain_id)

    @strawberry.field(description="Statistics over jobs: `{results: [row...], total_count?}` as the REST stat route.")
    async def job_stat(self, info: Info, query: StatisticsQueryInput, domain_id: str | None = None) -> JSON:
        return await resolve_job_stat(info, query, domain_id)


class GatewaySchema(strawberry.Schema):
    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        # The GatewayErrors extension logs what deserves it (unexpected errors, with their cause
        # and stack); a client's bad input is not worth a stack trace in the log.
        return None


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    """The executable schema; the limits come from ``settings`` (defaults if None)."""
    settings = settings or Settings()
    # The limit rules are built once: the validation cache is keyed by the rule
    # classes, so rules rebuilt per request would make every request a cache miss.
    rules = limit_rules(max_depth=settings.max_query_depth, max_aliases=settings.max_aliases)
    # Factories, not instances: each request gets its own extension objects. The
    # parser and validation caches are shared by Strawberry across instances.
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        OperationName,
        GatewayErrors,
    ]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    schema = GatewaySchema(query=Query, extensions=extensions, config=StrawberryConfig(scalar_map=SCALARS))
    schema.execution_context_class = execution_context_class(leaf_plans(schema._schema))
    return schema


def export_sdl() -> str:
    """The SDL contract, as checked in at schema/schema.graphql."""
    return build_schema().as_str() + "\n"
