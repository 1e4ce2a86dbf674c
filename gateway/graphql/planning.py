"""Planned execution: the common operations (``jobs``, ``job``, ``jobConnection``,
``jobCounts``, ``jobStat`` and their plain fields) executed along a plan instead of by graphql-core's per-field
executor.

For a plannable operation (``gateway.graphql.plan``), this extension's ``on_execute``
coerces the variables and each planned root field's arguments with graphql-core (its
public ``get_variable_values`` and ``get_argument_values``), runs the same resolvers
the schema's root fields run (concurrently, as graphql-core runs a query's root
fields; they read their selection from the plan and hand their objects over,
``gateway.graphql.planned``), completes the objects along the plan
(``gateway.graphql.completion``), and leaves the result in the execution context, so
Strawberry does not execute the operation again. Parsing, validation, limits, error
mapping and every other extension run as for any operation; variables that do not
coerce, and anything the plan does not cover, are executed by graphql-core as they
are. A differential test (tests/test_planned_execution.py) runs generated operations
both ways and requires the same responses.

Plans are cached with the document (by its text, the operation name and the values of
the variables ``@skip``/``@include`` read), as Strawberry caches parsing and validation.

This relies on Strawberry's documented extension contract: an ``on_execute`` hook that
sets ``execution_context.result`` before execution makes Strawberry skip it (the
caching extensions' way). graphql-core is pinned to the 3.3 series, whose
``get_variable_values`` answers a ``VariableValues``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from functools import cache
from typing import Any

from cachetools import LRUCache
from graphql import DocumentNode, ExecutionResult, GraphQLError, OperationDefinitionNode, located_error
from graphql.execution import VariableValues, get_argument_values, get_variable_values
from strawberry.extensions import SchemaExtension

from gateway.graphql.completion import complete_root
from gateway.graphql.connection import resolve_job_connection
from gateway.graphql.dashboard import resolve_job_counts
from gateway.graphql.plan import (
    NotPlannable,
    OperationPlan,
    booleans,
    directive_variables,
    plan_operation,
    select_operation,
)
from gateway.graphql.planned import CURRENT, PlannedRun
from gateway.graphql.resolvers import resolve_job, resolve_job_stat, resolve_jobs

# The planned root fields' resolvers, called with the arguments' Python names.
RESOLVERS: dict[str, Callable[..., Coroutine[Any, Any, Any]]] = {
    "jobs": resolve_jobs,
    "job": resolve_job,
    "jobConnection": resolve_job_connection,
    "jobCounts": resolve_job_counts,
    "jobStat": resolve_job_stat,
}

_Shape = tuple[OperationDefinitionNode, list[str]] | None


@cache
def _snake(name: str) -> str:
    """An argument's Python name (``domainId`` -> ``domain_id``)."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


@dataclass(frozen=True)
class _Path:
    key: str


@dataclass(frozen=True)
class PlannedInfo:
    """What the root resolvers read of their ``info`` on the planned path."""

    context: Any
    field_name: str
    path: _Path


class PlanCache:
    """Plans by document, operation and directive variable values (None: not plannable)."""

    def __init__(self, maxsize: int = 256) -> None:
        self.schema: Any = None  # the graphql-core schema, set once the schema is built
        self._shapes: LRUCache[tuple[str, str | None], _Shape] = LRUCache(maxsize=maxsize)
        self._plans: LRUCache[tuple[str, str | None, tuple[bool, ...]], OperationPlan | None] = LRUCache(
            maxsize=maxsize
        )

    def plan(
        self, query: str, document: DocumentNode, operation_name: str | None, variables: Any
    ) -> OperationPlan | None:
        """The plan of this operation, or None when graphql-core must run it."""
        shape_key = (query, operation_name)
        if shape_key not in self._shapes:
            try:
                operation = select_operation(document, operation_name)
                fragments = [d for d in document.definitions if not isinstance(d, OperationDefinitionNode)]
                self._shapes[shape_key] = (operation, directive_variables(operation, fragments))  # type: ignore[arg-type]
            except NotPlannable:
                self._shapes[shape_key] = None
        shape = self._shapes[shape_key]
        if shape is None:
            return None
        operation, names = shape
        try:
            flags = booleans(operation, names, variables or {})
        except NotPlannable:
            return None
        plan_key = (query, operation_name, tuple(flags[n] for n in names))
        if plan_key not in self._plans:
            try:
                self._plans[plan_key] = plan_operation(self.schema, document, operation, flags)
            except NotPlannable:
                self._plans[plan_key] = None
        return self._plans[plan_key]


def planned_execution(cache: PlanCache) -> type[SchemaExtension]:
    """The extension class (one instance per operation) sharing ``cache``."""

    class PlannedExecution(SchemaExtension):
        async def on_execute(self) -> AsyncIterator[None]:
            ctx = self.execution_context
            document, query = ctx.graphql_document, ctx.query
            plan = None
            if document is not None and query is not None and cache.schema is not None:
                plan = cache.plan(query, document, ctx.operation_name, ctx.variables)
            if plan is not None:
                coerced = get_variable_values(
                    cache.schema, plan.operation.variable_definitions or (), ctx.variables or {}
                )
                if isinstance(coerced, VariableValues):  # else graphql-core reports the errors
                    ctx.result = await execute_plan(plan, coerced, ctx.context)
            yield

    return PlannedExecution


async def execute_plan(plan: OperationPlan, variables: VariableValues, context: Any) -> ExecutionResult:
    """Run ``plan``: its root resolvers (concurrently), then the completion of the
    objects they answer, in the response's key order. A resolver that raises is a
    located error at its field, whose null propagates as graphql-core propagates it."""
    token = CURRENT.set(PlannedRun(plan))
    keys = list(plan.roots)
    try:
        if len(keys) == 1:  # the common case: no tasks to schedule
            outcomes = [await _outcome(_resolve(plan, keys[0], variables, context))]
        else:
            outcomes = await asyncio.gather(
                *(_resolve(plan, key, variables, context) for key in keys), return_exceptions=True
            )
    finally:
        CURRENT.reset(token)
    errors: list[GraphQLError] = []
    data: dict[str, Any] = {}
    results = dict(zip(keys, outcomes, strict=True))
    for key in plan.keys:
        if key not in plan.roots:
            data[key] = plan.query_type
            continue
        root, outcome = plan.roots[key], results[key]
        if isinstance(outcome, BaseException):
            if not isinstance(outcome, Exception):
                raise outcome
            errors.append(located_error(outcome, list(root.nodes), [key]))
            holds, value = key in plan.nullable_roots, None
        else:
            holds, value = complete_root(root, outcome, errors)
        if not holds:
            return ExecutionResult(data=None, errors=errors)
        data[key] = value
    return ExecutionResult(data=data, errors=errors or None)


async def _outcome(resolving: Coroutine[Any, Any, Any]) -> Any:
    """The value, or the exception, a resolver ends with (as ``gather`` collects them)."""
    try:
        return await resolving
    except Exception as exc:
        return exc


async def _resolve(plan: OperationPlan, key: str, variables: VariableValues, context: Any) -> Any:
    root = plan.roots[key]
    arguments = get_argument_values(plan.definitions[key], root.nodes[0], variables)
    info = PlannedInfo(context=context, field_name=root.name, path=_Path(key))
    return await RESOLVERS[root.name](info, **{_snake(name): value for name, value in arguments.items()})
