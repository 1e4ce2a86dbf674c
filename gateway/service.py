"""JobService: the one place requests meet the store, below both adapters.

It scopes every read to one domain (``gateway.authorization``), compiles requests with
the pure query compiler (``gateway.query``), answers `collector_info.*` conditions with
the collectors of the caller's domain, and runs filters, sorts, pages and counts in
the database. Both adapters call it with the published request form (snake_case wire
names, contract sections 3 and 4).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

import anyio.to_thread

from gateway.auth import Principal
from gateway.authorization import ReadScope, authorize
from gateway.display import json_text
from gateway.encoding import encode_json, jsonable
from gateway.errors import GatewayError, InvalidQuery, LimitExceeded
from gateway.query.collectors import (
    CollectorIds,
    CollectorRef,
    collector_ref,
    collectors_filter,
    jobs_of_collectors,
    match_refs,
    ref_expression,
    ref_of,
)
from gateway.query.conditions import CollectorLookup, CompiledFilter
from gateway.query.keyset import Cursor, compile_window, unpageable, value_at
from gateway.query.limits import Limits
from gateway.query.listing import JOB_FIELDS, ListPlan, ResponseFields, compile_list
from gateway.query.messages import Read
from gateway.query.operators import CompileContext
from gateway.query.statistics import ROWS, TOTAL, compile_stat
from gateway.store.base import COLLECTOR, JOB, Document, JobStore

Clock = Callable[[], datetime]
log = logging.getLogger("gateway.request")
# Unknown request field names logged once each; past this many, no more are remembered.
MAX_NOTED_UNKNOWN = 1000
# Characters of an unknown field's name in the log.
MAX_SHOWN_NAME = 120


def _shown_name(name: str) -> str:
    """An unknown field's name for the log: as sent when short and printable, else
    JSON-quoted and cut to ``MAX_SHOWN_NAME`` characters."""
    return name if len(name) <= MAX_SHOWN_NAME and name.isprintable() else json_text(name, MAX_SHOWN_NAME)


# A request holding more values than this (objects, lists and their items, scalars) is
# compiled off the event loop: compiling costs microseconds per value.
INLINE_VALUES = 2000
PlanT = TypeVar("PlanT")


def _holds_more(count: int, *values: object) -> bool:
    """Whether ``values`` (JSON-like) hold more than ``count`` values in all; stops
    counting there, so it costs at most ``count`` steps."""
    pending = list(values)
    while pending:
        count -= 1
        if count < 0:
            return True
        item = pending.pop()
        if isinstance(item, Mapping):
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


def _place(doc: Document, sort: tuple[tuple[str, int], ...], domain_id: str) -> str:
    """The cursor of a fetched row. A row holding a sort key no cursor can continue from
    (``keyset.unpageable``: an array...) refuses the order, ``InvalidQuery`` naming the
    job and the key: a page of it could not be followed without repeating or losing rows."""
    for path, _ in sort:
        value = value_at(doc, path)
        problem = None if value is None else unpageable(value)
        if problem is not None:
            job = json_text(doc["job_id"]) if isinstance(doc.get("job_id"), str) else f"with _id {doc.get('_id')}"
            raise InvalidQuery(
                f"this order cannot be paged by cursor: job {job} holds {problem} in {json_text(path)}; "
                "order by other fields, or page with `jobs` (offsets)."
            )
    return Cursor.of(doc, sort, domain_id).encode()


def utc_now() -> datetime:
    """The service's default clock: now, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class JobPage:
    """Jobs as stored (projected to what ``fields`` writes), the count of every match
    (None when not asked for), and the scope they were read under (a page's collectors
    come from that domain)."""

    jobs: list[Document]
    total_count: int | None
    fields: ResponseFields
    scope: ReadScope


@dataclass(frozen=True)
class Watch:
    """What a subscriber of job changes may see and asked for: the scope it reads in,
    and the compiled filter of its request (``list_jobs``'s, page and order aside).
    ``key`` is the same for the same filter in the same scope, so that subscribers
    asking alike are matched once."""

    scope: ReadScope
    filter: CompiledFilter
    key: str


@dataclass(frozen=True)
class JobWindow(JobPage):
    """A Relay connection's rows, in the order's direction, with whether more lie
    beyond each end and the order (``sort``, ending in ``_id``) their cursors are
    places in."""

    has_next_page: bool = False
    has_previous_page: bool = False
    sort: tuple[tuple[str, int], ...] = ()
    cursors: tuple[str, ...] = ()  # each job's, in order


class JobService:
    """List, get and stat jobs for a caller.

    Every method raises ``InvalidQuery`` (and subclasses) for bad input,
    ``Unauthenticated``/``Forbidden`` from authorization, ``StoreUnavailable`` when the
    database cannot answer in time."""

    def __init__(
        self,
        store: JobStore,
        *,
        limits: Limits | None = None,
        clock: Clock = utc_now,
        auth_required: bool = False,
        strict_fields: bool = False,
    ) -> None:
        self._store = store
        self._auth_required = auth_required
        self._strict_fields = strict_fields
        self._noted_unknown: set[str] = set()
        self._unknown_full = False
        self._limits = limits or Limits()
        self._clock = clock

    @property
    def limits(self) -> Limits:
        """The request limits this service enforces."""
        return self._limits

    def authorize(self, principal: Principal | None, domain_id: object) -> ReadScope:
        """What ``principal`` may read when it names ``domain_id`` (see ``authorize``)."""
        return authorize(principal, domain_id, auth_required=self._auth_required)

    def _read(self) -> Read:
        return Read(strict=self._strict_fields)

    def _note_unknown(self, read: Read) -> None:
        """Log each unknown request field once per process (newer clients send fields
        the published messages do not have; the published gateway drops them too).
        Bounded whatever clients send: at most ``MAX_NOTED_UNKNOWN`` names are
        remembered and logged (then one line says so), each cut to
        ``MAX_SHOWN_NAME`` characters (JSON-quoted when cut or not printable), and a
        request adds at most ``messages.MAX_UNKNOWN_KEPT`` of them."""
        for path in read.unknown:
            if len(self._noted_unknown) >= MAX_NOTED_UNKNOWN:
                if not self._unknown_full:
                    self._unknown_full = True
                    log.warning(
                        "unknown request fields: %d names logged, no more will be (the limit of this process)",
                        MAX_NOTED_UNKNOWN,
                    )
                return
            name = _shown_name(re.sub(r"\[\d+\]", "[]", path[: MAX_SHOWN_NAME * 2]))
            if name in self._noted_unknown:
                continue
            self._noted_unknown.add(name)
            log.warning("unknown request field ignored: %s", name, extra={"field": name})

    def _context(self) -> CompileContext:
        return CompileContext(now=self._clock(), max_regex_length=self._limits.max_regex_length)

    async def _planned_list(
        self, request: Mapping[str, Any], principal: Principal | None, fields: frozenset[str] | None, where: object
    ) -> tuple[ListPlan, ReadScope]:
        """A list ``request`` (and ``where``) compiled (``_compile``), its unknown fields
        noted, its domain authorized for ``principal``, and projected to ``fields`` when
        given. Raises ``InvalidQuery`` (and subclasses), ``Unauthenticated``, ``Forbidden``."""
        plan = await self._compile(compile_list, request, where)
        scope = self.authorize(principal, plan.domain_id)
        return (plan if fields is None else plan.selecting(fields)), scope

    async def _compile(self, compile_: Callable[..., PlanT], request: Mapping[str, Any], where: object) -> PlanT:
        """``compile_`` (the list or the stat compiler) of ``request`` and ``where``, its
        unknown fields noted. A request of more than ``INLINE_VALUES`` values is
        compiled on a worker thread: the limits bound each list, but lists of lists
        multiply, and no request may hold the event loop for long."""
        read, ctx = self._read(), self._context()
        call = partial(compile_, request, ctx, self._limits, read, where=where)
        plan = await anyio.to_thread.run_sync(call) if _holds_more(INLINE_VALUES, request, where) else call()
        self._note_unknown(read)
        return plan

    async def list_jobs(
        self,
        request: Mapping[str, Any],
        principal: Principal | None = None,
        *,
        fields: frozenset[str] | None = None,
        with_count: bool = True,
        with_rows: bool = True,
        where: object = None,
    ) -> JobPage:
        """List jobs (contract section 3): ``request`` is the published list request
        (``query`` and the shortcuts). ``fields``, the wire fields a GraphQL selection
        reads, is the projection instead of ``only``/``minimal`` (which GraphQL still
        validates but no longer applies: they could null out a non-null field);
        ``with_count`` false skips the count, ``with_rows`` false the page, when nobody
        reads them. ``where`` is a condition tree (``gateway.query.trees``, GraphQL's
        typed filter) ANDed with the request's filter.
        At most three store calls besides one collector query per ``collector_info.*``
        condition: the page, the count, and (by the adapter) the page's collectors."""
        plan, scope = await self._planned_list(request, principal, fields, where)
        response_fields = plan.fields
        job_filter = await self._job_filter(plan.filter, scope)
        if plan.count_only or not with_rows:
            total = await self._store.count(JOB, job_filter) if with_count or plan.count_only else None
            return JobPage(jobs=[], total_count=total, fields=response_fields, scope=scope)
        if not with_count:
            jobs = await self._find_page(plan, response_fields, job_filter)
            return JobPage(jobs=jobs, total_count=None, fields=response_fields, scope=scope)
        jobs, total = await asyncio.gather(
            self._find_page(plan, response_fields, job_filter), self._store.count(JOB, job_filter)
        )
        return JobPage(jobs=jobs, total_count=total, fields=response_fields, scope=scope)

    async def list_window(
        self,
        request: Mapping[str, Any],
        principal: Principal | None = None,
        *,
        first: object = None,
        after: str | None = None,
        last: object = None,
        before: str | None = None,
        fields: frozenset[str] | None = None,
        with_count: bool = False,
        with_rows: bool = True,
        with_page_info: bool = True,
        where: object = None,
    ) -> JobWindow:
        """A Relay connection's window of a list (``request`` and ``where`` as for
        ``list_jobs``): ``first``/``after``, ``last``/``before`` as Relay defines them,
        read by keyset (``gateway.query.keyset``: no skip, stable under inserts).
        ``fields`` is the projection as for ``list_jobs``; the count runs only
        ``with_count``, the rows only ``with_rows`` or ``with_page_info``, and whether
        rows lie outside the cursor on the other side (``hasPreviousPage`` paging
        forward, ``hasNextPage`` backward) is asked of the store only
        ``with_page_info`` and a cursor there. Raises ``InvalidQuery`` (and
        subclasses) as ``list_jobs``, and for a cursor not of this order and domain."""
        plan, scope = await self._planned_list(request, principal, fields, where)
        window = compile_window(
            plan.sort,
            scope.domain_id,
            first=first,
            after=after,
            last=last,
            before=before,
            max_page_size=self._limits.max_page_size,
        )
        paged = plan.windowed(window)
        job_filter = await self._job_filter(plan.filter, scope)

        async def rows() -> list[Document]:
            if not (with_rows or with_page_info):
                return []
            return await self._find_page(paged, paged.fields, job_filter)

        async def count() -> int | None:
            return await self._store.count(JOB, job_filter) if with_count else None

        async def other_side() -> bool:
            outside = window.outside(forward=not window.forward)
            if not with_page_info or outside is None:
                return False
            probe = replace(paged, limit=1, window_filter=outside, fields=ResponseFields(frozenset()))
            return bool(await self._find_page(probe, probe.fields, job_filter))

        found, total, past = await asyncio.gather(rows(), count(), other_side())
        more = len(found) > window.size
        jobs = found[: window.size] if window.forward else found[: window.size][::-1]
        return JobWindow(
            jobs=jobs,
            total_count=total,
            has_next_page=more if window.forward else past,
            has_previous_page=past if window.forward else more,
            fields=paged.fields,
            scope=scope,
            sort=plan.sort,
            cursors=tuple(_place(doc, plan.sort, scope.domain_id) for doc in jobs),
        )

    def watch(self, request: Mapping[str, Any], principal: Principal | None = None, *, where: object = None) -> Watch:
        """A subscriber's ``Watch`` of the jobs a list ``request`` (and ``where``) selects,
        authorized as ``list_jobs`` is. Raises as ``list_jobs`` does."""
        plan = compile_list(request, self._context(), self._limits, self._read(), where=where)
        scope = self.authorize(principal, plan.domain_id)
        key = repr((scope, request.get("job_id"), where, request.get("query")))
        return Watch(scope=scope, filter=plan.filter, key=key)

    async def matching(self, domain_id: str, keys: Sequence[Any], watches: Sequence[Watch]) -> list[set[Any]]:
        """Which of the jobs ``keys`` (document ids) of ``domain_id`` each watch selects
        now: one aggregation for all the watches (a ``$facet`` of their filters over the
        changed jobs), and one more for all their ``collector_info.*`` conditions (a
        ``$facet`` of them over the domain's collectors) when they have some. The sets
        are in ``watches``' order."""
        if not watches:
            return []
        found = await self._collector_lookups(domain_id, [lookup for w in watches for lookup in w.filter.lookups])
        filters = [w.filter.build(w.scope.job_filter(), found) for w in watches]
        pipeline: list[Document] = [
            {"$match": {"$and": [{"_id": {"$in": list(keys)}}, {"domain_id": domain_id}]}},
            {"$facet": {f"w{i}": [{"$match": f}, {"$project": {"_id": 1}}] for i, f in enumerate(filters)}},
        ]
        rows = await self._store.aggregate(JOB, pipeline, read="list")
        facets = rows[0] if rows else {}
        return [{row["_id"] for row in facets.get(f"w{i}", [])} for i in range(len(watches))]

    async def get_job(
        self,
        job_id: str,
        domain_id: str | None = None,
        principal: Principal | None = None,
        *,
        fields: frozenset[str] | None = None,
    ) -> JobPage:
        """One job by id: a page of one, or of none when it is not there or not readable."""
        scope = self.authorize(principal, domain_id)
        response_fields = ResponseFields(frozenset(JOB_FIELDS) if fields is None else frozenset(JOB_FIELDS) & fields)
        found = await self._store.find(
            JOB,
            {"$and": [scope.job_filter(), {"job_id": {"$eq": job_id}}]},
            projection=response_fields.projection(),
            limit=1,
        )
        return JobPage(jobs=found, total_count=None, fields=response_fields, scope=scope)

    async def get_jobs(
        self,
        wanted: Mapping[str, Sequence[str]],
        principal: Principal | None = None,
        *,
        fields: frozenset[str] | None = None,
    ) -> dict[str, JobPage | GatewayError]:
        """Jobs by id in several domains (``wanted``: domain id -> job ids) in ONE store
        call: per domain, the page of the jobs found there (absent ones left out), or the
        error that domain's authorization raised (``Forbidden``, ...). ``fields`` is the
        projection as for ``get_job``; a job's ``job_id`` and ``domain_id`` are fetched
        anyway, so that callers can tell the rows apart."""
        answers: dict[str, JobPage | GatewayError] = {}
        scopes: dict[str, ReadScope] = {}
        for domain_id in wanted:
            try:
                scopes[domain_id] = self.authorize(principal, domain_id)
            except GatewayError as exc:
                answers[domain_id] = exc
        response_fields = ResponseFields(
            frozenset(JOB_FIELDS) if fields is None else frozenset(JOB_FIELDS) & (fields | {"job_id", "domain_id"})
        )
        clauses = [
            {"$and": [scope.job_filter(), {"job_id": {"$in": sorted(set(wanted[domain_id]))}}]}
            for domain_id, scope in scopes.items()
        ]
        found: list[Document] = []
        if clauses:
            either = clauses[0] if len(clauses) == 1 else {"$or": clauses}
            found = await self._store.find(JOB, either, projection=response_fields.projection())
        for domain_id, scope in scopes.items():
            jobs = [doc for doc in found if doc.get("domain_id") == scope.domain_id]
            answers[domain_id] = JobPage(jobs=jobs, total_count=None, fields=response_fields, scope=scope)
        return answers

    async def get_collector(
        self, collector_id: str, domain_id: str | None = None, principal: Principal | None = None
    ) -> Document | None:
        """One collector of the domain by ``collector_id``, or None when it is not there
        or not readable (see ``visible_collectors``)."""
        scope = self.authorize(principal, domain_id)
        found = await self.load_collectors(scope.domain_id, [CollectorRef(collector_id=collector_id)])
        visible = await self.visible_collectors(scope, [doc for doc in found if doc is not None])
        return visible[0] if visible else None

    async def visible_collectors(self, scope: ReadScope, collectors: Sequence[Document]) -> list[Document]:
        """The ``collectors`` (of ``scope``'s domain) a caller reading in ``scope`` may
        read, in order: all of them for a domain-wide caller; for a project-scoped one,
        those that one of the jobs it may read ran with (it sees no more than through
        ``collector_info``), found in one aggregation whatever their number."""
        if scope.projects is None or not collectors:
            return list(collectors)
        used = jobs_of_collectors(CollectorIds.of(collectors), negate=False)
        rows = await self._store.aggregate(
            JOB,
            [{"$match": {"$and": [scope.job_filter(), used]}}, {"$group": {"_id": ref_expression()}}],
            read="list",
        )
        refs = {ref_of(row["_id"]) for row in rows}
        return [
            c
            for c in collectors
            if CollectorRef(object_id=c["_id"]) in refs or CollectorRef(collector_id=c.get("collector_id")) in refs
        ]

    async def stat(
        self, request: Mapping[str, Any], principal: Principal | None = None, *, where: object = None
    ) -> dict[str, Any]:
        """Run a stat request (``{"query": StatisticsQuery, "domain_id"}``, contract
        section 4) as one aggregation pipeline; ``where`` is a condition tree ANDed with
        its filter (GraphQL's typed filter).

        Returns ``{"results": [row...]}`` plus ``"total_count"`` when paged; rows are
        JSON-ready (dates as wire timestamps, object ids as strings). Raises
        ``LimitExceeded`` for an answer over ``max_stat_rows`` rows (unpaged) or over
        ``max_stat_bytes`` bytes of JSON."""
        plan = await self._compile(compile_stat, request, where)
        scope = self.authorize(principal, plan.domain_id)
        plan.check_readable(project_scoped=scope.projects is not None)
        rows = await self._store.aggregate(JOB, plan.pipeline(await self._job_filter(plan.filter, scope)))
        plan.check_rows(rows)
        total = None
        if plan.paged:
            facet = rows[0] if rows else {}
            counted = facet.get(TOTAL) or [{"n": 0}]
            rows, total = facet.get(ROWS, []), counted[0]["n"]
        results = jsonable([row.get("value") for row in rows] if plan.distinct else rows)
        size = len(encode_json(results))
        if size > self._limits.max_stat_bytes:
            raise LimitExceeded(
                f"the statistics answer is {size} bytes of JSON, over the limit max_stat_bytes="
                f"{self._limits.max_stat_bytes}; narrow the filter or page it with query.page.limit."
            )
        answer: dict[str, Any] = {"results": results}
        if total is not None:
            answer["total_count"] = total
        return answer

    async def page_collectors(self, page: JobPage) -> dict[CollectorRef, Document]:
        """The collectors of a page's jobs, by reference, in one store call (gone ones absent)."""
        return await self.collectors_of(page.scope.domain_id, page.jobs)

    async def load_collectors(self, domain_id: str, refs: Sequence[CollectorRef]) -> list[Document | None]:
        """The collectors ``refs`` name in ``domain_id`` (same order, None where gone),
        in one store call (none when ``refs`` is empty)."""
        return (await self.load_collectors_of({domain_id: refs}))[domain_id]

    async def load_collectors_of(
        self, wanted: Mapping[str, Sequence[CollectorRef]]
    ) -> dict[str, list[Document | None]]:
        """The collectors each domain's refs name in that domain (``wanted``: domain id
        -> refs; answered in the same order, None where gone), in ONE store call for all
        the domains (none when no domain has a ref)."""
        clauses = [collectors_filter(domain_id, refs) for domain_id, refs in wanted.items() if refs]
        found: list[Document] = []
        if clauses:
            found = await self._store.find(COLLECTOR, clauses[0] if len(clauses) == 1 else {"$or": clauses})
        return {
            domain_id: match_refs(refs, (doc for doc in found if doc.get("domain_id") == domain_id))
            for domain_id, refs in wanted.items()
        }

    async def collectors_of(self, domain_id: str, jobs: Sequence[Document]) -> dict[CollectorRef, Document]:
        """The collectors ``jobs`` name that exist in ``domain_id``, by reference, in one
        store call (``load_collectors``)."""
        refs = list(dict.fromkeys(ref for ref in map(collector_ref, jobs) if ref is not None))
        docs = await self.load_collectors(domain_id, refs)
        return {ref: doc for ref, doc in zip(refs, docs, strict=True) if doc is not None}

    async def _find_page(self, plan: ListPlan, fields: ResponseFields, job_filter: Document) -> list[Document]:
        if plan.sorts_by_collector:
            return await self._store.aggregate(JOB, plan.page_pipeline(job_filter, fields), read="list")
        return await self._store.find(
            JOB,
            plan.match(job_filter),
            projection=plan.projection(fields),
            sort=plan.sort,
            skip=plan.skip,
            limit=plan.limit,
        )

    async def _collector_lookups(
        self, domain_id: str, lookups: Sequence[CollectorLookup]
    ) -> dict[CollectorLookup, CollectorIds]:
        """The collectors of ``domain_id`` each lookup finds, in ONE query however many
        lookups there are: a find for one distinct collector filter, else an aggregation
        with a ``$facet`` per distinct filter (the same filter, negated or not, is looked
        up once); no query without lookups."""
        names: dict[str, str] = {}  # a collector filter's repr -> its facet's name
        named = {lookup: names.setdefault(repr(lookup.collector_filter), f"l{len(names)}") for lookup in lookups}
        distinct = {name: lookup.collector_filter for lookup, name in named.items()}
        ids = {"_id": 1, "collector_id": 1}
        found: dict[str, list[Document]] = {}
        if len(distinct) == 1:
            ((name, collector_filter),) = distinct.items()
            scoped = {"$and": [{"domain_id": domain_id}, collector_filter]}
            found[name] = await self._store.find(COLLECTOR, scoped, projection=ids)
        elif distinct:
            facets = {name: [{"$match": f}, {"$project": ids}] for name, f in distinct.items()}
            pipeline: list[Document] = [{"$match": {"domain_id": domain_id}}, {"$facet": facets}]
            rows = await self._store.aggregate(COLLECTOR, pipeline, read="list")
            found = rows[0] if rows else {}
        return {lookup: CollectorIds.of(found.get(name, [])) for lookup, name in named.items()}

    async def _job_filter(self, compiled: CompiledFilter, scope: ReadScope) -> Document:
        """The job filter, its `collector_info.*` lookups answered by ONE query on the
        collectors of the caller's domain however many there are (``_collector_lookups``)."""
        return compiled.build(scope.job_filter(), await self._collector_lookups(scope.domain_id, compiled.lookups))
