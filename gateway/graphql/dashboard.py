"""``jobCounts``: the common dashboard shape as a typed field - counts of jobs grouped by
any of status, provider, collector and a calendar period in a time zone - written as a
published StatisticsQuery and answered by the generic stat (one pipeline)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

import strawberry

from gateway.graphql import stored
from gateway.graphql.arguments import enum_value
from gateway.graphql.resolvers import Info
from gateway.graphql.scalars import DateTime
from gateway.graphql.types import CollectorInfo, JobStatus, reads
from gateway.graphql.where import where_tree
from gateway.query.collectors import CollectorRef
from gateway.query.stages import time_zone as check_time_zone


@strawberry.enum(description="What job counts can be grouped by.")
class JobCountKey(Enum):
    STATUS = strawberry.enum_value("status", description="The job's status.")
    PROVIDER = strawberry.enum_value("provider", description="The provider of the job's collector.")
    COLLECTOR = strawberry.enum_value("collector", description="The job's collector.")
    PERIOD = strawberry.enum_value("period", description="The calendar period of `periodOf` (see `period`).")


@strawberry.enum(description="A calendar period, in a time zone.")
class CalendarPeriod(Enum):
    DAY = strawberry.enum_value("%Y-%m-%d", description="A day: `2024-05-14`.")
    WEEK = strawberry.enum_value("%G-W%V", description="An ISO week, Monday to Sunday: `2024-W20`.")
    MONTH = strawberry.enum_value("%Y-%m", description="A month: `2024-05`.")


@strawberry.enum(description="An instant of a job.")
class JobInstant(Enum):
    CREATED_AT = strawberry.enum_value("created_at", description="When the job was created.")
    UPDATED_AT = strawberry.enum_value("updated_at", description="When the job last changed.")
    FINISHED_AT = strawberry.enum_value("finished_at", description="When the job finished.")


# Each group key: its key in the published StatisticsQuery and its row's name.
_KEYS = {
    JobCountKey.STATUS: ("status", "status"),
    JobCountKey.PROVIDER: ("collector_info.provider", "provider"),
    JobCountKey.COLLECTOR: ("collector_info.collector_id", "collector_id"),
}


def _count_row() -> str:
    return "count row"


@strawberry.type(description="How many jobs share one value of each grouped key (the others are null).")
class JobCount:
    row: strawberry.Private[dict[str, Any]]
    collector_info: strawberry.Private[CollectorInfo | None]
    period_kind: strawberry.Private[CalendarPeriod]
    zone: strawberry.Private[str]

    @reads(description="The status (grouped by STATUS).")
    def status(self) -> JobStatus | None:
        return stored.enum(JobStatus, self.row, "status", _count_row)

    @reads(description="The collector's provider (grouped by PROVIDER); null for jobs without one.")
    def provider(self) -> str | None:
        return stored.string(self.row, "provider", _count_row)

    @reads(description="The collector (grouped by COLLECTOR); null for jobs whose collector is gone.")
    def collector(self) -> CollectorInfo | None:
        return self.collector_info

    @reads(description="The period's label in its time zone (grouped by PERIOD), e.g. `2024-W20`.")
    def period(self) -> str | None:
        return stored.string(self.row, "period", _count_row)

    @reads(description="When the period starts (grouped by PERIOD): its first midnight in the time zone.")
    def period_start(self) -> DateTime | None:
        label = self.period()
        return None if label is None else DateTime(period_start(label, self.period_kind, self.zone))

    @reads(description="How many jobs.")
    def count(self) -> int:
        return int(stored.integer(self.row, "count", _count_row) or 0)


def period_start(label: str, period: CalendarPeriod, zone: str) -> datetime:
    """The instant (naive UTC) a period labelled ``label`` starts in ``zone``."""
    if period is CalendarPeriod.WEEK:
        year, week = label.split("-W")
        day = date.fromisocalendar(int(year), int(week), 1)
    elif period is CalendarPeriod.MONTH:
        day = date.fromisoformat(label + "-01")
    else:
        day = date.fromisoformat(label)
    midnight = datetime.combine(day, time(), tzinfo=ZoneInfo(zone))
    return midnight.astimezone(UTC).replace(tzinfo=None)


def one_row_per_key(rows: Sequence[dict[str, Any]], names: Sequence[str]) -> list[dict[str, Any]]:
    """``rows`` of a ``$group`` on ``names`` with a ``count``, those whose keys agree
    once a missing key reads as null merged into the first of them (counts summed).

    MongoDB's ``$group`` on one expression groups missing and null together ("$group":
    a missing field is null); on a document ``_id``, as the stat writes several keys, it
    drops the missing ones, so ``{}`` and ``{key: null}`` are two groups. A typed row
    cannot tell the two apart: one row per key as the single-key ``$group`` has it. The
    sort puts null and missing together (MongoDB's comparison order), so the first of
    them keeps its place. Other values ([] and {} included) stay groups of their own."""
    merged: dict[str, dict[str, Any]] = {}
    for row in rows:
        identity = repr([row.get(name) for name in names])
        first = merged.get(identity)
        if first is None:
            merged[identity] = {**row, **{name: row.get(name) for name in names}}
        else:
            first["count"] = (first.get("count") or 0) + (row.get("count") or 0)
    return list(merged.values())


async def resolve_job_counts(
    info: Info,
    *,
    group_by: Sequence[JobCountKey],
    period: CalendarPeriod = CalendarPeriod.DAY,
    period_of: JobInstant = JobInstant.CREATED_AT,
    time_zone: str = "UTC",
    where: Any = None,
    domain_id: str | None = None,
) -> list[JobCount]:
    """``Query.jobCounts``: one ``JobCount`` per combination of the ``groupBy`` keys'
    values, in key order, from one published StatisticsQuery (a ``group`` with a
    ``count`` field, then a ``sort``; spec section 4.2) through ``JobService.stat``.
    ``period`` labels ``periodOf``'s instant in ``timeZone`` (an IANA name; MongoDB's
    ``$dateToString`` with ``timezone``); collectors are loaded in one batch. Raises
    ``InvalidQuery`` for an unknown time zone, and what the service raises."""
    zone = check_time_zone(time_zone, "timeZone")
    # Members, or their values (graphql-core's coerced form, on the planned path).
    period, period_of = CalendarPeriod(enum_value(period)), JobInstant(enum_value(period_of))
    keys: list[dict[str, Any]] = []
    for key in dict.fromkeys(JobCountKey(enum_value(k)) for k in group_by):
        if key is JobCountKey.PERIOD:
            keys.append({"key": period_of.value, "name": "period", "date_format": period.value, "time_zone": zone})
        else:
            stat_key, name = _KEYS[key]
            keys.append({"key": stat_key, "name": name})
    stages: list[dict[str, Any]] = [{"group": {"keys": keys, "fields": [{"name": "count", "operator": "count"}]}}]
    if keys:
        stages.append({"sort": {"keys": [{"key": k["name"]} for k in keys]}})
    request = {"query": {"aggregate": stages}, "domain_id": domain_id}
    service, principal = info.context.service, info.context.principal
    async with info.context.reading_page():
        answer = await service.stat(request, principal, where=None if where is None else where_tree(where))
    rows = one_row_per_key(answer["results"], [k["name"] for k in keys])
    collectors: dict[str, CollectorInfo] = {}
    ids = sorted({r["collector_id"] for r in rows if isinstance(r.get("collector_id"), str)})
    if ids:
        domain = service.authorize(principal, domain_id).domain_id
        await info.context.pages_read()  # with every other field's collectors: one store call
        docs = await info.context.collectors.load((domain, tuple(CollectorRef(collector_id=i) for i in ids)))
        collectors = {i: CollectorInfo(doc=doc) for i, doc in zip(ids, docs, strict=True) if doc is not None}
    return [
        JobCount(row=r, collector_info=collectors.get(r.get("collector_id") or ""), period_kind=period, zone=zone)
        for r in rows
    ]
