"""JobService: the one place requests meet the store, below both adapters.

It scopes every read to one domain, compiles requests with the pure query compiler,
resolves `collector_info.*` conditions against the collector collection of the same
domain, and runs filters, sorts, pages and counts in the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.auth import Principal
from gateway.errors import Forbidden, InvalidParameterType, RequiredParameter, Unauthenticated
from gateway.query.conditions import CollectorIds, CollectorLookup, CompiledFilter
from gateway.query.joins import collector_join
from gateway.query.listing import JOB_FIELDS, Limits, ListPlan, Output, compile_list
from gateway.query.operators import CompileContext
from gateway.query.statistics import ROWS, TOTAL, compile_stat
from gateway.store.base import COLLECTOR, JOB, Document, JobStore
from gateway.wire import jsonable

Clock = Callable[[], datetime]

# A job's reference to its collector: ("id", collector_id) or ("oid", collector _id),
# the latter for older databases that stored the collector document's id.
CollectorRef = tuple[str, Any]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Scope:
    """What a request may read: one domain, and optionally only some projects."""

    domain_id: str
    projects: tuple[str, ...] | None = None

    def job_filter(self) -> Document:
        scope: Document = {"domain_id": self.domain_id}
        if self.projects is not None:
            scope["projects"] = {"$in": list(self.projects)}
        return scope


@dataclass(frozen=True)
class JobPage:
    jobs: list[Document]
    total_count: int | None
    output: Output
    scope: Scope  # what the caller was allowed to read (collectors come from its domain)


def collector_ref(job: Mapping[str, Any]) -> CollectorRef | None:
    if job.get("collector_id"):
        return ("id", job["collector_id"])
    if job.get("collector") is not None:
        return ("oid", job["collector"])
    return None


def authorize(principal: Principal | None, domain_id: object, *, auth_required: bool) -> Scope:
    """What a request may read. With a principal: its domain (naming another one is
    forbidden) and, for a project-scoped caller, its projects. Without one (only when
    authentication is off): the domain the request names, which is then required."""
    if domain_id is not None and domain_id != "" and not isinstance(domain_id, str):
        raise InvalidParameterType(f"domain_id must be a string, got {domain_id!r}.")
    if principal is None:
        if auth_required:
            raise Unauthenticated("a bearer token is required.")
        if not domain_id:
            raise RequiredParameter("domain_id is required.")
        return Scope(domain_id=str(domain_id))
    if domain_id and domain_id != principal.domain_id:
        raise Forbidden(f"the token's domain may not read domain {domain_id!r}.")
    return Scope(domain_id=principal.domain_id, projects=principal.projects)


class JobService:
    def __init__(
        self,
        store: JobStore,
        *,
        limits: Limits | None = None,
        clock: Clock = utc_now,
        collector_collection: str = "collector",
        auth_required: bool = False,
    ) -> None:
        self._store = store
        self._auth_required = auth_required
        self._limits = limits or Limits()
        self._clock = clock
        # The physical name, for the statistics pipeline's $lookup.
        self._collector_collection = collector_collection

    @property
    def limits(self) -> Limits:
        return self._limits

    def authorize(self, principal: Principal | None, domain_id: object) -> Scope:
        return authorize(principal, domain_id, auth_required=self._auth_required)

    def _context(self) -> CompileContext:
        return CompileContext(now=self._clock(), max_regex_length=self._limits.max_regex_length)

    async def list_jobs(
        self,
        request: Mapping[str, Any],
        principal: Principal | None = None,
        *,
        fields: frozenset[str] | None = None,
        with_count: bool = True,
    ) -> JobPage:
        """List jobs. ``fields`` narrows the wire fields fetched (a GraphQL selection);
        ``with_count`` false skips the count when nobody reads it."""
        scope = self.authorize(principal, request.get("domain_id"))
        plan = compile_list(request, self._context(), self._limits)
        output = plan.output if fields is None else plan.output.restrict(fields)
        job_filter = await self._job_filter(plan.filter, scope)
        if plan.count_only:
            total = await self._store.count(JOB, job_filter)
            return JobPage(jobs=[], total_count=total, output=output, scope=scope)
        if not with_count:
            jobs = await self._find_page(plan, output, job_filter)
            return JobPage(jobs=jobs, total_count=None, output=output, scope=scope)
        jobs, total = await asyncio.gather(
            self._find_page(plan, output, job_filter), self._store.count(JOB, job_filter)
        )
        return JobPage(jobs=jobs, total_count=total, output=output, scope=scope)

    async def get_job(
        self,
        job_id: str,
        domain_id: str | None = None,
        principal: Principal | None = None,
        *,
        fields: frozenset[str] | None = None,
    ) -> JobPage:
        """One job (a page of one, or of none when it is not there or not readable)."""
        scope = self.authorize(principal, domain_id)
        output = Output(frozenset(JOB_FIELDS) if fields is None else frozenset(JOB_FIELDS) & fields)
        found = await self._store.find(
            JOB,
            {"$and": [scope.job_filter(), {"job_id": {"$eq": job_id}}]},
            projection=output.projection(),
            limit=1,
        )
        return JobPage(jobs=found, total_count=None, output=output, scope=scope)

    async def stat(self, query: object, domain_id: object = None, principal: Principal | None = None) -> dict[str, Any]:
        """Run a StatisticsQuery as one aggregation pipeline; rows come back JSON-ready."""
        scope = self.authorize(principal, domain_id)
        plan = compile_stat(
            query, scope.job_filter(), self._context(), self._limits, collector_collection=self._collector_collection
        )
        rows = await self._store.aggregate(JOB, plan.pipeline)
        total = None
        if plan.paged:
            facet = rows[0] if rows else {}
            counted = facet.get(TOTAL) or [{"n": 0}]
            rows, total = facet.get(ROWS, []), counted[0]["n"]
        results = [row.get("value") for row in rows] if plan.distinct else rows
        answer: dict[str, Any] = {"results": jsonable(results)}
        if total is not None:
            answer["total_count"] = total
        return answer

    async def page_collectors(self, page: JobPage) -> dict[CollectorRef | None, Document]:
        """The collectors of a page's jobs, by reference, in one store call."""
        refs = list({ref for ref in map(collector_ref, page.jobs) if ref is not None})
        found = await self.load_collectors(page.scope.domain_id, refs)
        return {ref: doc for ref, doc in zip(refs, found, strict=True) if doc is not None}

    async def load_collectors(self, domain_id: str, refs: Sequence[CollectorRef]) -> list[Document | None]:
        """The collectors of ``refs`` (same order, None where gone) in one store call."""
        ids = sorted({v for kind, v in refs if kind == "id"})
        oids = list({v for kind, v in refs if kind == "oid"})
        if not refs:
            return []
        clauses = []
        if ids:
            clauses.append({"collector_id": {"$in": ids}})
        if oids:
            clauses.append({"_id": {"$in": oids}})
        docs = await self._store.find(COLLECTOR, {"domain_id": domain_id, "$or": clauses})
        by_ref: dict[CollectorRef, Document] = {}
        for doc in docs:
            by_ref[("oid", doc["_id"])] = doc
            if doc.get("collector_id"):
                by_ref[("id", doc["collector_id"])] = doc
        return [by_ref.get(ref) for ref in refs]

    async def _find_page(self, plan: ListPlan, output: Output, job_filter: Document) -> list[Document]:
        if plan.sorts_by_collector:
            # The same page, as a pipeline that joins each job's collector to sort by it.
            pipeline = [
                {"$match": job_filter},
                *collector_join(self._collector_collection),
                {"$sort": dict(plan.sort)},
                {"$skip": plan.skip},
                {"$limit": plan.limit},
                {"$project": plan.projection(output)},
            ]
            return await self._store.aggregate(JOB, pipeline, read="list")
        return await self._store.find(
            JOB,
            job_filter,
            projection=plan.projection(output),
            sort=plan.sort,
            skip=plan.skip,
            limit=plan.limit,
        )

    async def _job_filter(self, compiled: CompiledFilter, scope: Scope) -> Document:
        """The job filter, with each `collector_info.*` lookup answered by the
        collectors of the caller's domain."""
        found: dict[CollectorLookup, CollectorIds] = {}
        for lookup in compiled.lookups:
            docs = await self._store.find(
                COLLECTOR,
                {"$and": [{"domain_id": scope.domain_id}, lookup.collector_filter]},
                projection={"_id": 1, "collector_id": 1},
            )
            found[lookup] = CollectorIds(
                collector_ids=tuple(d["collector_id"] for d in docs if d.get("collector_id")),
                object_ids=tuple(d["_id"] for d in docs),
            )
        return compiled.build(scope.job_filter(), found)
