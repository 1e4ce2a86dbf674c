"""Every index plan of the embedded engine answers what a full scan answers.

An index only chooses candidates (``gateway/store/tables.py``): whatever the planner
reads from a filter - the domain, a status set, a time window, hashed ids - the rows,
their order and the count must be those of checking every document with the filter
alone. MongoDB's ``$in`` is set membership (a value listed twice selects a document
once, https://www.mongodb.com/docs/manual/reference/operator/query/in/), and
conjuncts on one field intersect
(https://www.mongodb.com/docs/manual/reference/operator/query/and/). Hypothesis
generates documents whose indexed fields take every shape (plain, missing, null,
arrays, other types, equal numbers of different types) and filters built from the
shapes the planner reads, duplicated, overlapping and contradictory on purpose.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from bson import ObjectId
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.store.matching import compile_filter
from gateway.store.sorting import sort_key_function
from gateway.store.tables import Table
from tests.conftest import gql
from tests.dataset import D1

BASE = datetime(2024, 5, 10, 12, 0)
INSTANTS = [BASE + timedelta(hours=h) for h in (0, 0, 1, 2, 30)]  # ties on purpose
STATUSES = ["SUCCESS", "ERROR", "CREATED"]
IDS = ["job-1", "job-2", "job-3"]


def _shapes(plain: list[Any]) -> Any:
    odd = [..., None, [], [plain[0]], [plain[0], plain[-1]], 1, 1.0]  # ...: the field left out
    return st.sampled_from([*plain, *plain, *odd])


@st.composite
def documents(draw: Any) -> list[dict[str, Any]]:
    out = []
    for i in range(draw(st.integers(0, 14))):
        kind = draw(st.sampled_from(["oid", "oid", "str", "int"]))
        _id = {"oid": ObjectId(f"66c{i:021d}"), "str": f"id-{i}", "int": i}[kind]
        doc = {
            "_id": _id,
            "domain_id": draw(_shapes(["d1", "d2"])),
            "status": draw(_shapes(STATUSES)),
            "created_at": draw(_shapes(INSTANTS)),
            "job_id": draw(_shapes(IDS)),
            "collector_id": draw(_shapes(["c1", "c2"])),
        }
        out.append({k: v for k, v in doc.items() if v is not ...})
    return out


def _in_or_eq(values: list[Any]) -> Any:
    listed = st.lists(st.sampled_from(values), max_size=4)  # duplicates on purpose
    return st.one_of(
        st.sampled_from(values),
        st.sampled_from(values).map(lambda v: {"$eq": v}),
        listed.map(lambda vs: {"$in": vs}),
    )


def _instant() -> Any:
    # The same instants as stored, and as an aware datetime in another zone.
    seoul = timezone(timedelta(hours=9))
    return st.sampled_from(INSTANTS).flatmap(
        lambda t: st.sampled_from([t, t.replace(tzinfo=UTC).astimezone(seoul), t + timedelta(minutes=30)])
    )


WINDOW = st.dictionaries(st.sampled_from(["$gt", "$gte", "$lt", "$lte", "$eq"]), _instant(), min_size=1)
CONJUNCT = st.one_of(
    st.tuples(st.just("domain_id"), _in_or_eq(["d1", "d2"])),
    st.tuples(st.just("status"), _in_or_eq(STATUSES)),
    st.tuples(st.just("created_at"), WINDOW),
    st.tuples(st.just("job_id"), _in_or_eq(IDS)),
    st.tuples(st.just("collector_id"), _in_or_eq(["c1", "c2"])),
    st.tuples(st.just("_id"), _in_or_eq([ObjectId(f"66c{i:021d}") for i in range(4)] + ["id-1", "id-2"])),
)


@st.composite
def filters(draw: Any) -> dict[str, Any]:
    """Conjuncts at the top level and inside (nested) ``$and``s, the same field more
    than once; now and then an ``$or`` the planner does not read."""
    conjuncts = [{key: value} for key, value in draw(st.lists(CONJUNCT, max_size=4))]
    if draw(st.integers(0, 3)):  # mostly one domain, as every gateway query is
        conjuncts.insert(0, {"domain_id": draw(st.sampled_from(["d1", "d2"]))})
    if draw(st.booleans()) and conjuncts:
        conjuncts.append({"$or": [conjuncts[0], {"status": "ERROR"}]})
    top: dict[str, Any] = {}
    nested: list[dict[str, Any]] = []
    for conjunct in conjuncts:
        ((key, _),) = conjunct.items()
        if key in top or draw(st.booleans()):
            nested.append(conjunct if draw(st.booleans()) else {"$and": [conjunct]})
        else:
            top.update(conjunct)
    if nested:
        top["$and"] = nested
    return top


SORTS = st.sampled_from(
    [
        None,
        [("created_at", 1)],
        [("created_at", -1)],
        [("created_at", 1), ("_id", 1)],
        [("created_at", -1), ("_id", 1)],
        [("status", 1), ("_id", -1)],
    ]
)


# In CI the examples are derived from the test names (derandomize), as in test_fuzz.
_settings = settings(
    max_examples=400,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow],
)


@_settings
@given(docs=documents(), filter=filters(), sort=SORTS, skip=st.integers(0, 3), limit=st.integers(0, 4))
def test_every_plan_answers_what_a_full_scan_answers(
    docs: list[dict[str, Any]], filter: dict[str, Any], sort: Any, skip: int, limit: int
) -> None:
    table = Table()
    assert table.insert(docs) is None
    predicate = compile_filter(filter)
    scanned = [d for d in docs if predicate(d)]  # insertion (natural) order

    assert [d["_id"] for d in table.select(filter)] == [d["_id"] for d in scanned]
    assert table.count(filter) == len(scanned)
    rows = table.find(filter, sort, skip, limit)
    assert len({id(r) for r in rows}) == len(rows), "a document twice"
    end = skip + limit if limit else None
    if sort is None:
        assert rows == scanned[skip:end]
        return
    key = sort_key_function(sort)
    expected = sorted(scanned, key=key)[skip:end]
    # Documents that tie on every sort key may come in either order (as on MongoDB).
    assert [key(r) for r in rows] == [key(d) for d in expected]
    if not limit and not skip:
        assert {id(r) for r in rows} == {id(d) for d in scanned}


def test_a_status_listed_twice_selects_each_job_once() -> None:
    """The reported case: ``status`` in [SUCCESS, SUCCESS], alone and with a window."""
    docs = [
        {"_id": i, "domain_id": "d1", "status": s, "created_at": INSTANTS[i % 5]}
        for i, s in enumerate(["SUCCESS", "ERROR", "SUCCESS", ["SUCCESS"], "SUCCESS"])
    ]
    table = Table()
    table.insert(docs)
    twice = {"domain_id": "d1", "status": {"$in": ["SUCCESS", "SUCCESS"]}}
    assert table.count(twice) == 4
    assert [d["_id"] for d in table.select(twice)] == [0, 2, 3, 4]
    assert [d["_id"] for d in table.find(twice, [("created_at", -1), ("_id", 1)], 0, 0)] == [4, 3, 2, 0]
    window = {**twice, "created_at": {"$gte": INSTANTS[0], "$lt": INSTANTS[4]}}
    assert table.count(window) == 3


def test_conjuncts_on_the_time_field_intersect() -> None:
    """Two windows on ``created_at`` hold what both hold: an ``$eq`` after a tighter
    bound, two different ``$eq``s, ``$gte`` and ``$gt`` at the same instant."""
    docs = [{"_id": i, "domain_id": "d1", "created_at": t} for i, t in enumerate(INSTANTS)]
    table = Table()
    table.insert(docs)
    t0, t1, t2 = INSTANTS[0], INSTANTS[2], INSTANTS[3]
    cases = [
        ({"created_at": {"$gt": t1, "$eq": t0}}, 0),
        ({"$and": [{"created_at": t0}, {"created_at": t1}]}, 0),
        ({"created_at": {"$gte": t1, "$gt": t1}}, 2),
        ({"created_at": {"$gt": t1, "$gte": t1}}, 2),
        ({"created_at": {"$lte": t1, "$lt": t1}}, 2),
        ({"created_at": {"$eq": t1, "$lte": t2}}, 1),
    ]
    for filter, expected in cases:
        assert table.count({"domain_id": "d1", **filter}) == expected, filter


CONNECTION = (
    """query($w: JobWhere) { jobConnection(domainId: "%s", first: 50, where: $w) { edges { node { jobId } } } }"""
)
COUNTS = """query($w: JobWhere) { jobCounts(domainId: "%s", groupBy: [STATUS], where: $w) { status count } }"""
JOBS = """query($s: [JobStatusFilter!], $w: JobWhere) { jobs(domainId: "%s", status: $s, where: $w) {
  totalCount results { jobId } } }"""


def _every_route(client: Any, statuses: list[str], ids: list[str] | None = None) -> dict[str, Any]:
    """What each route answers for jobs whose status is in ``statuses`` (and id in ``ids``)."""
    listed = [{"k": "status", "v": statuses, "o": "in"}]
    where: dict[str, Any] = {"status": {"in": statuses}}
    shortcuts: dict[str, Any] = {"status": statuses}
    if ids is not None:
        listed.append({"k": "job_id", "v": ids, "o": "in"})
        where["jobId"] = {"in": ids}
        shortcuts["job_id"] = ids
    search = lambda **body: client.post("/inventory/v1/jobs/search", json={"domain_id": D1, **body}).json()  # noqa: E731
    stat = client.post(
        "/inventory/v1/jobs/stat",
        json={"domain_id": D1, "query": {"filter": listed, "aggregate": [{"count": {"name": "n"}}]}},
    ).json()
    return {
        "count_only": search(**shortcuts, query={"count_only": True})["total_count"],
        "rows": [r["job_id"] for r in search(query={"filter": listed})["results"]],
        "gql": gql(client, JOBS % D1, {"s": statuses, "w": {k: v for k, v in where.items() if k != "status"}})["data"],
        "connection": gql(client, CONNECTION % D1, {"w": where})["data"],
        "counts": gql(client, COUNTS % D1, {"w": where})["data"],
        "stat": stat["results"],
    }


def test_a_value_listed_twice_is_one_value_on_every_route(client: Any) -> None:
    """``status`` lists (the status index) and ``job_id`` lists (the hash index) with
    repeated values answer as the lists without repeats, on REST, GraphQL,
    jobConnection, jobCounts and stat."""
    once = _every_route(client, ["SUCCESS", "ERROR"])
    assert once["count_only"] == 3 and once["stat"] == [{"n": 3}], once
    assert _every_route(client, ["SUCCESS", "ERROR", "SUCCESS", "ERROR"]) == once
    ids = ["job-000000000001", "job-000000000002", "job-00000000abcd"]
    once = _every_route(client, ["SUCCESS", "ERROR", "IN_PROGRESS"], ids)
    assert once["count_only"] == 3, once
    assert _every_route(client, ["SUCCESS", "ERROR", "IN_PROGRESS", "ERROR"], ids + ids) == once
