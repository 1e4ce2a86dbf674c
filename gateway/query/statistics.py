"""A StatisticsQuery (section 4) -> one MongoDB aggregation pipeline. Pure.

Order: `$match` (domain scope, filter, filter_or, keyword - the same job filter a list
builds, `collector_info.*` conditions included), the collector join when a
`collector_info.*` path is read before grouping, the client's stages, then the page
(`$facet` of the total and the slice) when `page.limit` > 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gateway.errors import InvalidParameterType, InvalidQuery, LimitExceeded
from gateway.query.collectors import join_stages
from gateway.query.conditions import CompiledFilter
from gateway.query.listing import Limits, compile_query_filter
from gateway.query.operators import CompileContext, Fragment
from gateway.query.stages import STAGES, PipelineState, Stage, as_count

STAT_FIELDS = frozenset({"filter", "filter_or", "keyword", "aggregate", "distinct", "page"})
TOTAL, ROWS = "total_count", "results"


@dataclass(frozen=True)
class StatPlan:
    """A compiled StatisticsQuery: its job filter (resolved by the service, as a list's
    is) and the stages that run after it."""

    filter: CompiledFilter
    stages: list[Stage]  # the client's stages (or distinct's), then the page
    joins_collector: bool  # a `collector_info.*` path is read by the stages
    paged: bool  # the pipeline ends in a $facet of {total_count, results}
    distinct: bool  # rows are {"value": v}: answer the values alone

    def pipeline(self, job_filter: Fragment) -> list[Stage]:
        """The whole pipeline over the jobs ``job_filter`` selects."""
        return [{"$match": job_filter}, *(join_stages() if self.joins_collector else []), *self.stages]


def _page(raw: object, limits: Limits) -> tuple[int, int]:
    if raw is None:
        return 0, 0
    if not isinstance(raw, Mapping):
        raise InvalidParameterType(f"query.page must be an object with 'start' and 'limit', got {raw!r}.")
    start = raw.get("start") or 1
    limit = raw.get("limit") or 0
    if isinstance(start, bool) or not isinstance(start, int):
        raise InvalidParameterType(f"query.page.start must be an integer, got {start!r}.")
    limit = as_count(limit, "query.page.limit")
    if limit > limits.max_page_size:
        raise LimitExceeded(f"query.page.limit {limit} is over the page size cap max_page_size={limits.max_page_size}.")
    return max(start, 1) - 1, limit


def _stages(aggregate: object, state: PipelineState, limits: Limits) -> list[Stage]:
    if not isinstance(aggregate, list) or not aggregate:
        raise InvalidParameterType(f"query.aggregate must be a non-empty list of stages, got {aggregate!r}.")
    if len(aggregate) > limits.max_stages:
        raise LimitExceeded(
            f"query.aggregate has {len(aggregate)} stages; the limit max_stages is {limits.max_stages}."
        )
    pipeline: list[Stage] = []
    for i, stage in enumerate(aggregate):
        where = f"query.aggregate[{i}]"
        if not isinstance(stage, Mapping) or len(stage) != 1:
            raise InvalidQuery(f"{where} must be an object with exactly one of {', '.join(STAGES)}, got {stage!r}.")
        ((name, spec),) = stage.items()
        if name not in STAGES:
            raise InvalidQuery(f"{where}: unknown stage {name!r}; stages: {', '.join(STAGES)}.")
        pipeline += STAGES[name](spec, f"{where}.{name}", state)
    return pipeline


def _distinct(path: object, state: PipelineState) -> list[Stage]:
    field = state.path(path, "query.distinct")
    # As MongoDB's distinct: array values count element by element; missing and null are left out.
    return [
        {"$project": {"_id": 0, "value": "$" + field}},
        {"$unwind": "$value"},
        {"$match": {"value": {"$ne": None}}},
        {"$group": {"_id": "$value"}},
        {"$sort": {"_id": 1}},
        {"$project": {"_id": 0, "value": "$_id"}},
    ]


def compile_stat(query: object, ctx: CompileContext, limits: Limits) -> StatPlan:
    """Compile a StatisticsQuery (contract 4.1).

    Raises ``InvalidQuery`` (or a subclass) naming the offending part."""
    query, compiled = compile_query_filter(query, STAT_FIELDS, ctx, limits)
    has_aggregate, has_distinct = query.get("aggregate") is not None, query.get("distinct") is not None
    if has_aggregate == has_distinct:
        raise InvalidQuery("query needs exactly one of 'aggregate' or 'distinct'.")
    state = PipelineState()
    stages = _distinct(query["distinct"], state) if has_distinct else _stages(query["aggregate"], state, limits)
    skip, limit = _page(query.get("page"), limits)
    if limit > 0:
        stages.append({"$facet": {TOTAL: [{"$count": "n"}], ROWS: [{"$skip": skip}, {"$limit": limit}]}})
    return StatPlan(
        filter=compiled,
        stages=stages,
        joins_collector=state.needs_collector,
        paged=limit > 0,
        distinct=has_distinct,
    )
