"""A StatisticsQuery (section 4) -> one MongoDB aggregation pipeline. Pure.

Order: `$match` (domain scope, filter, filter_or, keyword - the same job filter a list
builds, `collector_info.*` conditions included), the collector join when a
`collector_info.*` path is read before grouping, the client's stages, then the page
(`$facet` of the total and the slice) when `page.limit` > 0, else a row cap.

The rows are what the stages shape: a pipeline whose rows would still be whole stored
jobs (no `group`, `count` or `project`, e.g. `[{"skip": 0}]`) is refused, since
jobs are what the list answers, in their published form (docs/language.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.display import json_text
from gateway.errors import Forbidden, InvalidQuery, LimitExceeded, RequiredParameter
from gateway.query.collectors import join_stages
from gateway.query.conditions import CompiledFilter
from gateway.query.limits import Limits
from gateway.query.listing import compile_query_filter
from gateway.query.messages import JOB_STAT_QUERY, Read, read_message
from gateway.query.operators import CompileContext, Fragment
from gateway.query.pages import read_page
from gateway.query.stages import STAGES, PipelineState, Stage
from gateway.query.trees import compile_tree

TOTAL, ROWS = "total_count", "results"


@dataclass(frozen=True)
class StatPlan:
    """A compiled StatisticsQuery: its job filter (resolved by the service, as a list's
    is) and the stages that run after it."""

    domain_id: str | None
    filter: CompiledFilter
    stages: list[Stage]  # the client's stages (or distinct's), then the page or the row cap
    joins_collector: bool  # a `collector_info.*` path is read by the stages
    paged: bool  # the pipeline ends in a $facet of {total_count, results}
    distinct: bool  # rows are {"value": v}: answer the values alone
    max_rows: int  # more rows than this (unpaged) is an answer over max_stat_rows
    unshown: tuple[str, ...] = ()  # what the stages read that the list does not show (PipelineState.unshown)

    def check_readable(self, *, project_scoped: bool) -> None:
        """Raise ``Forbidden`` when a project-scoped caller's stages read what the list
        would not show it (``fields.shown_by_list``: ``projects``, ``collector_id``, the
        ``collector`` reference, whole sub-documents such as ``errors``): such a caller
        sees through statistics only what it sees through the list (contract section 7).
        Its filters may name any key, as the list's may."""
        if project_scoped and self.unshown:
            raise Forbidden(
                f"{self.unshown[0]}: a project-scoped caller reads through statistics only what the list shows "
                "(no projects, collector_id or collector reference; sub-documents by their fields, such as "
                '"errors.error_code").'
            )

    def pipeline(self, job_filter: Fragment) -> list[Stage]:
        """The whole pipeline over the jobs ``job_filter`` selects."""
        return [{"$match": job_filter}, *(join_stages() if self.joins_collector else []), *self.stages]

    def check_rows(self, rows: Sequence[Any]) -> None:
        """Raise ``LimitExceeded`` when an unpaged answer has more rows than allowed."""
        if not self.paged and len(rows) > self.max_rows:
            raise LimitExceeded(
                f"the statistics answer has more than {self.max_rows} rows, the limit max_stat_rows; "
                "narrow the filter, group more coarsely or page it with query.page.limit."
            )


def _stages(aggregate: Sequence[Mapping[str, Any]], state: PipelineState, read: Read) -> list[Stage]:
    pipeline: list[Stage] = []
    for i, stage in enumerate(aggregate):
        where = f"query.aggregate[{i}]"
        if not stage:
            ignored = [path.rpartition(".")[2] for path in read.unknown if path.startswith(f"{where}.")]
            note = f" (unknown: {json_text(ignored)})" if ignored else ""
            raise RequiredParameter(f"{where} names no stage{note}; stages: {', '.join(STAGES)}.")
        ((name, spec),) = stage.items()
        pipeline += STAGES[name](spec, f"{where}.{name}", state)
    if not state.grouped:
        raise InvalidQuery(
            "query.aggregate: its rows would be whole stored jobs; shape them with group, count or project "
            "(jobs themselves are what the list answers)."
        )
    return pipeline


def _distinct(path: str, state: PipelineState) -> list[Stage]:
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


def compile_stat(request: object, ctx: CompileContext, limits: Limits, read: Read, *, where: object = None) -> StatPlan:
    """Compile a stat request (a ``JobStatQuery`` in any proto3 JSON spelling, contract
    4.1); ``where``, a condition tree (``gateway.query.trees``, GraphQL's typed filter),
    is ANDed with its filter.

    Raises ``InvalidQuery`` (or a subclass) naming the offending part; unknown fields
    are noted in ``read`` (or refused when it is strict)."""
    request = read_message(request, JOB_STAT_QUERY, "", read, limits)
    if "query" not in request:
        raise RequiredParameter("query is required.")
    query = request["query"]
    compiled = compile_query_filter(query, ctx, limits)
    if where is not None:
        compiled.all_of.append(compile_tree(where, ctx, limits))
    if "aggregate" in query and "distinct" in query:
        raise InvalidQuery("query takes one of aggregate or distinct, not both.")
    state = PipelineState(limits=limits)
    if "distinct" in query:
        stages = _distinct(query["distinct"], state)
    elif "aggregate" in query:
        stages = _stages(query["aggregate"], state, read)
    else:
        raise RequiredParameter("query needs one of aggregate or distinct.")
    page = read_page(query.get("page"), limits.max_page_size)
    if page.limit:
        stages.append({"$facet": {TOTAL: [{"$count": "n"}], ROWS: [{"$skip": page.skip}, {"$limit": page.limit}]}})
    else:
        stages.append({"$limit": limits.max_stat_rows + 1})
    return StatPlan(
        domain_id=request.get("domain_id"),
        filter=compiled,
        stages=stages,
        joins_collector=state.needs_collector,
        paged=page.limit > 0,
        distinct="distinct" in query,
        max_rows=limits.max_stat_rows,
        unshown=tuple(state.unshown),
    )
