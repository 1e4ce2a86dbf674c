"""The list request (section 3 of the contract) -> a plan of MongoDB operations.

Pure: no I/O. The plan says what to match, how to sort and page, which stored fields
to fetch and which wire fields to write; the service runs it against the store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from gateway.display import json_text
from gateway.errors import InvalidQuery, LimitExceeded
from gateway.query.collectors import REF_FIELDS, join_stages
from gateway.query.conditions import CompiledFilter, Condition, compile_condition, compile_filter
from gateway.query.fields import JOB_DOCUMENT, field_at, stored_key, stored_path
from gateway.query.keyset import Window
from gateway.query.limits import Limits
from gateway.query.messages import JOB_STATUS, JOBS_QUERY, Read, read_message
from gateway.query.operators import CompileContext
from gateway.query.pages import read_page
from gateway.query.paths import COLLECTOR_INFO, collector_subpath
from gateway.query.sorts import read_sort
from gateway.query.trees import compile_tree

NO_STATUS = JOB_STATUS.values[0]  # JOB_STATE_NONE: no status filter

# Wire fields of a JobInfo, in the order the published API writes them.
JOB_FIELDS = tuple(f.published_name for f in JOB_DOCUMENT if f.published)
MINIMAL_FIELDS = frozenset({"job_id", "status", "created_at", "finished_at"})
SHORTCUTS = ("job_id", "status", "collector_id", "project_id")
DEFAULT_SORT = (("created_at", -1),)
Document = dict[str, Any]


@dataclass(frozen=True)
class ResponseFields:
    """Which JobInfo fields a response writes: top-level wire names, and the
    ``collector_info`` sub-paths (None: the whole collector)."""

    fields: frozenset[str]
    collector_paths: frozenset[str] | None = None

    def collector_view(self, collector: Document) -> Document:
        """The collector document cut down to ``collector_paths`` (dotted paths)."""
        return collector if self.collector_paths is None else _prune(collector, self.collector_paths)

    def projection(self) -> dict[str, int]:
        """Stored fields to fetch for these wire fields."""
        proj: dict[str, int] = {}
        for name in self.fields:
            if name == COLLECTOR_INFO:
                proj.update(dict.fromkeys(REF_FIELDS, 1))
            else:
                proj[stored_path(name)] = 1
        # Nothing wanted (e.g. only `__typename` selected): fetch the id alone.
        return {**proj, "_id": 0} if proj else {"_id": 1}


@dataclass(frozen=True)
class ListPlan:
    """A compiled list request. ``skip`` and ``limit`` are row counts (``page.start`` is
    1-based, so ``skip = start - 1``); ``sort`` ends with the ``_id`` tie-break."""

    domain_id: str | None
    filter: CompiledFilter
    sort: tuple[tuple[str, int], ...]
    skip: int
    limit: int
    fields: ResponseFields
    only_paths: tuple[str, ...]  # nested `only` paths below a top-level field (projected as is)
    count_only: bool
    # A keyset window (gateway.query.keyset): the rows it keeps (matched after the
    # collector join, so it may read `collector_info.*`), and the sort keys fetched too.
    window_filter: Document | None = None
    fetch_sort_keys: bool = False

    def windowed(self, window: Window) -> ListPlan:
        """This plan reading a keyset ``window`` instead of a page: its order, no skip,
        one row more than its size (to know whether there are more), its range."""
        return replace(
            self,
            sort=window.sort,
            skip=0,
            limit=window.size + 1,
            window_filter=window.range_filter,
            fetch_sort_keys=True,
        )

    def match(self, job_filter: Document) -> Document:
        """The filter of the page's rows: ``job_filter`` and the window's range."""
        return job_filter if self.window_filter is None else {"$and": [job_filter, self.window_filter]}

    def selecting(self, fields: frozenset[str]) -> ListPlan:
        """This plan writing the wire ``fields`` (a GraphQL selection), whole: ``only``
        and ``minimal`` no longer narrow it."""
        return replace(self, fields=ResponseFields(frozenset(JOB_FIELDS) & fields), only_paths=())

    @property
    def sorts_by_collector(self) -> bool:
        """Sorted by a `collector_info.*` field: the page needs the collector joined."""
        return any(collector_subpath(key) is not None for key, _ in self.sort)

    def projection(self, fields: ResponseFields | None = None) -> dict[str, int]:
        """Stored fields to fetch for ``fields`` (default: the query's own)."""
        fields = fields or self.fields
        proj = fields.projection()
        for path in self.only_paths:
            head = path.partition(".")[0]
            if head in fields.fields and head != COLLECTOR_INFO:
                proj.pop(stored_path(head), None)
                proj[stored_path(path)] = 1
        if self.fetch_sort_keys:
            proj.pop("_id", None)
            for key, _ in self.sort:
                # A key inside a field fetched whole is fetched with it (MongoDB refuses the overlap).
                if not any(key == p or key.startswith(p + ".") for p in proj):
                    proj[key] = 1
        return proj

    def page_pipeline(self, job_filter: Document, fields: ResponseFields | None = None) -> list[Document]:
        """The page as one aggregation pipeline that joins each job's collector, for a
        sort by a ``collector_info.*`` field (what ``find`` cannot do)."""
        return [
            {"$match": job_filter},
            *join_stages(),
            *([{"$match": self.window_filter}] if self.window_filter is not None else []),
            {"$sort": dict(self.sort)},
            {"$skip": self.skip},
            {"$limit": self.limit},
            {"$project": self.projection(fields)},
        ]


def _prune(value: Document, paths: frozenset[str]) -> Document:
    """Keep only the dotted ``paths`` of a nested object."""
    kept: Document = {}
    for path in paths:
        head, _, rest = path.partition(".")
        if head not in value:
            continue
        if not rest:
            kept[head] = value[head]
        elif isinstance(value[head], dict):
            inner = _prune(value[head], frozenset([rest]))
            if inner:
                kept[head] = {**kept.get(head, {}), **inner}
    return kept


def compile_sort(sort: Mapping[str, Any] | None, read: Read | None = None) -> tuple[tuple[str, int], ...]:
    """A list's order: the sort's keys (``sorts.read_sort``), else ``created_at``
    descending; ties broken by the document id, ascending, so pages never overlap.
    Errors name the keys as ``read`` says the client spelled them."""
    keys_at = (read or Read()).as_sent("query.sort.keys")
    keys = read_sort(sort, "query.sort", stored_key, keys_at=keys_at) or list(DEFAULT_SORT)
    keys.append(("_id", 1))
    return tuple(keys)


def _only_path(raw: str, where: str) -> str:
    """An ``only`` entry as the wire path of a JobInfo field (or of a path inside one)."""
    path = raw if raw == COLLECTOR_INFO else stored_key(raw, where)
    head, dot, rest = path.partition(".")
    top = field_at(head)
    if top is None or not top.published:
        raise InvalidQuery(f"{where}: {json_text(raw)} is not a field of a job; fields: {', '.join(JOB_FIELDS)}.")
    return top.published_name + dot + rest


def compile_fields(only: Sequence[str] | None, minimal: bool) -> tuple[ResponseFields, tuple[str, ...]]:
    """What a list writes: the ``only`` fields (all when unset), cut to the minimal ones
    with ``minimal``; and the nested ``only`` paths below a top-level field."""
    fields = frozenset(JOB_FIELDS)
    collector_paths: set[str] | None = None
    nested: list[str] = []
    if only:
        picked: set[str] = set()
        whole: set[str] = set()
        for i, raw in enumerate(only):
            path = _only_path(raw, f"query.only[{i}]")
            head = path.partition(".")[0]
            picked.add(head)
            if head == COLLECTOR_INFO and path != head:
                collector_paths = (collector_paths or set()) | {path.partition(".")[2]}
            elif path == head:
                whole.add(head)
            else:
                nested.append(path)
        if COLLECTOR_INFO in whole:
            collector_paths = None
        # A whole field wins over paths inside it (MongoDB rejects the overlap anyway).
        nested = sorted({p for p in nested if p.partition(".")[0] not in whole})
        fields = frozenset(picked)
    if minimal:
        fields &= MINIMAL_FIELDS
    paths = frozenset(collector_paths) if collector_paths is not None else None
    return ResponseFields(fields, paths), tuple(nested)


def shortcut_conditions(request: Mapping[str, Any]) -> list[Condition]:
    """``job_id``, ``status``, ... of a canonical ``JobsQuery`` (their lists bounded by
    the reader): an ``eq`` each, or an ``in`` for a list (a given empty list: none of
    these). ``JOB_STATE_NONE`` means no status filter, alone (an unset enum) or in a list."""
    conditions = []
    for name in SHORTCUTS:
        if name not in request:
            continue
        value = request[name]
        if name == "status" and isinstance(value, list) and NO_STATUS in value:
            continue
        conditions.append(Condition(name, value, "in" if isinstance(value, list) else "eq"))
    return conditions


def keyword_conditions(keyword: str | None, limits: Limits) -> list[Condition]:
    """A ``contain_in`` on ``job_id`` of the keyword's words (contract 3.1)."""
    words = keyword.split() if keyword else []
    if len(words) > limits.max_keyword_words:
        raise LimitExceeded(
            f"query.keyword has {len(words)} words; the limit max_keyword_words is {limits.max_keyword_words}."
        )
    return [Condition("job_id", words, "contain_in")] if words else []


def compile_query_filter(query: Mapping[str, Any], ctx: CompileContext, limits: Limits) -> CompiledFilter:
    """The filter, filter_or and keyword of a canonical Query or StatisticsQuery (which
    the two languages share)."""
    return compile_filter(
        query.get("filter"),
        query.get("filter_or"),
        keyword_conditions(query.get("keyword"), limits),
        ctx,
        limits,
    )


def compile_list(request: object, ctx: CompileContext, limits: Limits, read: Read, *, where: object = None) -> ListPlan:
    """Compile a list request (a ``JobsQuery`` in any proto3 JSON spelling, contract 3);
    ``where``, a condition tree (``gateway.query.trees``: GraphQL's typed filter, which
    no published request carries), is ANDed with its filter.

    Raises ``InvalidQuery`` (or a subclass) naming the offending part; unknown fields
    are noted in ``read`` (or refused when it is strict)."""
    request = read_message(request, JOBS_QUERY, "", read, limits)
    query = request.get("query", {})
    compiled = compile_query_filter(query, ctx, limits)
    compiled.all_of.extend(compile_condition(c, ctx) for c in shortcut_conditions(request))
    if where is not None:
        compiled.all_of.append(compile_tree(where, ctx, limits))
    page = read_page(query.get("page"), limits.max_page_size)
    fields, nested = compile_fields(query.get("only"), query.get("minimal", False))
    return ListPlan(
        domain_id=request.get("domain_id"),
        filter=compiled,
        sort=compile_sort(query.get("sort"), read),
        # limit 0: up to the page cap, and start is ignored (contract 3.1).
        skip=page.skip if page.limit else 0,
        limit=page.limit or limits.max_page_size,
        fields=fields,
        only_paths=nested,
        count_only=query.get("count_only", False),
    )
