"""The list request (section 3 of the contract) -> a plan of MongoDB operations.

Pure: no I/O. The plan says what to match, how to sort and page, which stored fields
to fetch and which wire fields to write; the service runs it against the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from gateway.errors import InvalidParameterType, InvalidQuery, LimitExceeded
from gateway.query.collectors import REF_FIELDS, join_stages
from gateway.query.conditions import CompiledFilter, Condition, compile_condition, compile_filter
from gateway.query.display import json_text
from gateway.query.fields import JOB_DOCUMENT, JOB_STATUSES, field_at, stored_key, stored_path
from gateway.query.operators import CompileContext
from gateway.query.paths import COLLECTOR_INFO, collector_subpath

NO_STATUS = "JOB_STATE_NONE"

# Wire fields of a JobInfo, in the order the published API writes them.
JOB_FIELDS = tuple(f.published_name for f in JOB_DOCUMENT if f.published)
MINIMAL_FIELDS = frozenset({"job_id", "status", "created_at", "finished_at"})
SHORTCUTS = ("job_id", "status", "collector_id", "project_id")
QUERY_FIELDS = frozenset({"filter", "filter_or", "sort", "page", "only", "minimal", "count_only", "keyword"})
DEFAULT_SORT = (("created_at", -1),)
Document = dict[str, Any]


@dataclass(frozen=True)
class Limits:
    max_page_size: int = 1000
    max_conditions: int = 50
    max_regex_length: int = 1024
    max_stages: int = 30


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

    filter: CompiledFilter
    sort: tuple[tuple[str, int], ...]
    skip: int
    limit: int
    fields: ResponseFields
    only_paths: tuple[str, ...]  # nested `only` paths below a top-level field (projected as is)
    count_only: bool

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
        return proj

    def page_pipeline(self, job_filter: Document, fields: ResponseFields | None = None) -> list[Document]:
        """The page as one aggregation pipeline that joins each job's collector, for a
        sort by a ``collector_info.*`` field (what ``find`` cannot do)."""
        return [
            {"$match": job_filter},
            *join_stages(),
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


def _as_bool(value: object, name: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidParameterType(f"query.{name} must be true or false, got {value!r}.")
    return value


def _as_int(value: object, name: str) -> int | None:
    if value is None:
        return None
    # protobuf's JSON form also accepts integers written as strings.
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameterType(f"{name} must be an integer, got {value!r}.")
    return value


def compile_sort(raw: object) -> tuple[tuple[str, int], ...]:
    if not raw:
        keys: list[tuple[str, int]] = list(DEFAULT_SORT)
    else:
        if isinstance(raw, Mapping) and "keys" in raw:
            items = raw["keys"]
            if not isinstance(items, list):
                raise InvalidParameterType(f"query.sort.keys must be a list, got {items!r}.")
        elif isinstance(raw, Mapping):
            items = [raw]
        elif isinstance(raw, list):
            items = raw
        else:
            raise InvalidParameterType(f"query.sort must be an object or a list, got {raw!r}.")
        keys = []
        for i, item in enumerate(items):
            if not isinstance(item, Mapping) or not item.get("key"):
                raise InvalidQuery(f"query.sort[{i}] must be an object with a 'key', got {item!r}.")
            unknown = set(item) - {"key", "desc"}
            if unknown:
                raise InvalidParameterType(f"query.sort[{i}] has unknown field(s) {sorted(unknown)}.")
            key = stored_key(item["key"], f"query.sort[{i}].key")
            desc = _as_bool(item.get("desc"), f"sort[{i}].desc")
            keys.append((key, -1 if desc else 1))
    # Ties broken by the document id, ascending, so pages never overlap or skip.
    if all(k != "_id" for k, _ in keys):
        keys.append(("_id", 1))
    return tuple(keys)


def compile_page(raw: object, limits: Limits) -> tuple[int, int]:
    """(skip, limit) from a 1-based page; limit 0 means "up to the page cap"."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise InvalidParameterType(f"query.page must be an object with 'start' and 'limit', got {raw!r}.")
    unknown = set(raw) - {"start", "limit"}
    if unknown:
        raise InvalidParameterType(f"query.page has unknown field(s) {sorted(unknown)}.")
    start = _as_int(raw.get("start"), "query.page.start") or 1
    limit = _as_int(raw.get("limit"), "query.page.limit") or 0
    if limit < 0:
        raise InvalidQuery(f"query.page.limit must not be negative, got {limit}.")
    if limit > limits.max_page_size:
        raise LimitExceeded(f"query.page.limit {limit} is over the page size cap max_page_size={limits.max_page_size}.")
    if limit == 0:
        return 0, limits.max_page_size
    return max(start, 1) - 1, limit


def _only_path(raw: object, where: str) -> str:
    """An ``only`` entry as the wire path of a JobInfo field (or of a path inside one)."""
    path = raw if raw == COLLECTOR_INFO else stored_key(raw, where)
    assert isinstance(path, str)
    head, dot, rest = path.partition(".")
    top = field_at(head)
    if top is None or not top.published:
        raise InvalidQuery(f"{where}: {json_text(raw)} is not a field of a job; fields: {', '.join(JOB_FIELDS)}.")
    return top.published_name + dot + rest


def compile_fields(only: object, minimal: bool) -> tuple[ResponseFields, tuple[str, ...]]:
    fields = frozenset(JOB_FIELDS)
    collector_paths: set[str] | None = None
    nested: list[str] = []
    if only is not None and only != []:
        if not isinstance(only, list):
            raise InvalidParameterType(f"query.only must be a list of field names, got {only!r}.")
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
    """`job_id`, `status`, ... given beside the query: an `eq` (a list: an `in`) each."""
    conditions = []
    for name in SHORTCUTS:
        value = request.get(name)
        if name == "status":
            value = _statuses(value)
        if value is None or value in ("", []):
            continue
        if isinstance(value, list):
            if not all(isinstance(v, str) for v in value):
                raise InvalidParameterType(f"{name} must be a string or a list of strings, got {value!r}.")
            conditions.append(Condition(name, value, "in"))
        elif isinstance(value, str):
            conditions.append(Condition(name, value, "eq"))
        else:
            raise InvalidParameterType(f"{name} must be a string or a list of strings, got {value!r}.")
    return conditions


def _statuses(value: object) -> object:
    values = value if isinstance(value, list) else [value]
    for v in values:
        if v not in (None, "", NO_STATUS) and v not in JOB_STATUSES:
            raise InvalidQuery(f"status {v!r} is not one of {NO_STATUS}, {', '.join(JOB_STATUSES)}.")
    kept = [v for v in values if v not in (None, "", NO_STATUS)]
    if isinstance(value, list):
        return kept
    return kept[0] if kept else None


def keyword_conditions(keyword: object) -> list[Condition]:
    if keyword is None:
        return []
    if not isinstance(keyword, str):
        raise InvalidParameterType(f"query.keyword must be a string, got {keyword!r}.")
    words = keyword.split()
    return [Condition("job_id", words, "contain_in")] if words else []


def compile_query_filter(
    query: object, fields: frozenset[str], ctx: CompileContext, limits: Limits
) -> tuple[Mapping[str, Any], CompiledFilter]:
    """Check a Query or StatisticsQuery object's fields; compile its filter, filter_or
    and keyword (which the two languages share)."""
    if not isinstance(query, Mapping):
        raise InvalidParameterType(f"query must be an object, got {query!r}.")
    unknown = set(query) - fields
    if unknown:
        raise InvalidParameterType(
            f"query has unknown field(s) {sorted(unknown)}; fields: {', '.join(sorted(fields))}."
        )
    compiled = compile_filter(
        query.get("filter"),
        query.get("filter_or"),
        [compile_condition(c, ctx) for c in keyword_conditions(query.get("keyword"))],
        ctx,
        max_conditions=limits.max_conditions,
    )
    return query, compiled


def compile_list(request: Mapping[str, Any], ctx: CompileContext, limits: Limits) -> ListPlan:
    raw = request.get("query")
    query, compiled = compile_query_filter({} if raw is None else raw, QUERY_FIELDS, ctx, limits)
    compiled.all_of.extend(compile_condition(c, ctx) for c in shortcut_conditions(request))
    skip, limit = compile_page(query.get("page"), limits)
    fields, nested = compile_fields(query.get("only"), _as_bool(query.get("minimal"), "minimal"))
    return ListPlan(
        filter=compiled,
        sort=compile_sort(query.get("sort")),
        skip=skip,
        limit=limit,
        fields=fields,
        only_paths=nested,
        count_only=_as_bool(query.get("count_only"), "count_only"),
    )
