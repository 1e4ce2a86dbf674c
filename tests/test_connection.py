"""`jobConnection`: Relay cursor pages by keyset, forward and backward over ties,
stable while jobs are inserted between requests, with checked cursors; and the keyset
filter itself against each engine's own sort over mixed types."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from bson import ObjectId
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.query.keyset import _tag, beyond
from gateway.settings import Settings
from gateway.store.base import JOB, JobStore
from tests.conftest import BUDGET_MS, MONGODB_URI, MongoSeed, fixed_clock, gql, memory_with
from tests.dataset import D1, D2, dataset

CONNECTION = """
query($first: Int, $after: String, $last: Int, $before: String, $orderBy: [JobOrderBy!], $d: String) {
  jobConnection(domainId: $d, first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy) {
    edges { cursor node { jobId } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""

ORDERS = [
    None,
    [{"field": "CREATED_AT"}],
    [{"field": "COLLECTOR_NAME", "direction": "DESC"}],
    [{"field": "FINISHED_AT"}, {"field": "STATUS", "direction": "DESC"}],
    [{"field": "PROJECT_ID", "direction": "DESC"}],
]


def on_d1(client: TestClient, document: str, **variables: Any) -> dict[str, Any]:
    """Run ``document`` with ``$d`` bound to the test domain."""
    return gql(client, document, {"d": D1, **variables})


class Live:
    """A gateway over ``engine`` with a way to add jobs while it runs."""

    def __init__(self, engine: str) -> None:
        data = dataset()
        if engine == "memory":
            store = memory_with(data)
            self.client = TestClient(create_app(Settings(), store, clock=fixed_clock))
            self.insert = lambda docs: store.insert("job", docs)
            self.seed = None
        else:
            self.seed = MongoSeed(data)
            settings = Settings(
                mongodb_uri=MONGODB_URI, database=self.seed.name, max_time_ms=BUDGET_MS, insecure_no_auth=True
            )
            self.client = TestClient(create_app(settings, clock=fixed_clock))
            self.insert = self.seed.client[self.seed.name]["job"].insert_many
        self.client.__enter__()

    def close(self) -> None:
        self.client.__exit__(None, None, None)
        if self.seed is not None:
            self.seed.drop()

    def page(self, **variables: Any) -> dict[str, Any]:
        body = gql(self.client, CONNECTION, {"d": D1, **variables})
        assert "errors" not in body, body
        return body["data"]["jobConnection"]

    def listed(self, order_by: Any) -> list[str]:
        body = on_d1(
            self.client,
            "query($d: String, $o: [JobOrderBy!]) { jobs(domainId: $d, orderBy: $o) { results { jobId } } }",
            o=order_by,
        )
        return [r["jobId"] for r in body["data"]["jobs"]["results"]]


@pytest.fixture
def live(engine: str) -> Iterator[Live]:
    gateway = Live(engine)
    yield gateway
    gateway.close()


def _ids(page: dict[str, Any]) -> list[str]:
    return [e["node"]["jobId"] for e in page["edges"]]


@pytest.mark.parametrize("size", [1, 2, 3])
@pytest.mark.parametrize("order_by", ORDERS)
def test_forward_pages_are_the_list_in_order(live: Live, order_by: Any, size: int) -> None:
    seen: list[str] = []
    after = None
    for _ in range(20):
        page = live.page(first=size, after=after, orderBy=order_by)
        seen += _ids(page)
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]
    assert seen == live.listed(order_by)


@pytest.mark.parametrize("size", [1, 2, 3])
@pytest.mark.parametrize("order_by", ORDERS)
def test_backward_pages_are_the_list_in_order(live: Live, order_by: Any, size: int) -> None:
    seen: list[str] = []
    before = None
    for _ in range(20):
        page = live.page(last=size, before=before, orderBy=order_by)
        seen = _ids(page) + seen
        assert page["pageInfo"]["hasNextPage"] is (before is not None)
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert seen == live.listed(order_by)


def test_between_two_cursors(live: Live) -> None:
    everything = live.page(first=7)
    cursors = [e["cursor"] for e in everything["edges"]]
    middle = live.page(after=cursors[1], before=cursors[5])
    assert _ids(middle) == _ids(everything)[2:5]
    assert _ids(live.page(after=cursors[1], before=cursors[5], first=2)) == _ids(everything)[2:4]
    assert _ids(live.page(after=cursors[1], before=cursors[5], last=2)) == _ids(everything)[3:5]


def test_inserts_between_requests_cause_no_duplicate_and_no_gap(live: Live) -> None:
    """Newest first (created_at descending, ties by _id). After the first page, jobs are
    inserted before it, at its last row's exact place on either side of the tie, and
    after it; the next pages continue right after the last row seen."""
    original = live.listed(None)
    first = live.page(first=3)
    last_row = _ids(first)[-1]
    last_doc = next(d for d in dataset()["job"] if d["job_id"] == last_row)
    tie = last_doc["created_at"]

    def job(job_id: str, created: datetime, oid: str) -> dict[str, Any]:
        return {**last_doc, "_id": ObjectId(oid), "job_id": job_id, "created_at": created}

    live.insert(
        [
            job("job-new-newest", datetime(2030, 1, 1), "77a000000000000000000001"),
            job("job-new-tie-lo", tie, "000000000000000000000001"),  # sorts before the last row seen
            job("job-new-tie-hi", tie, "ffffffffffffffffffffffff"),  # sorts after it
            job("job-new-oldest", datetime(2000, 1, 1), "77a000000000000000000002"),
        ]
    )
    seen = _ids(first)
    after = first["pageInfo"]["endCursor"]
    while True:
        page = live.page(first=2, after=after)
        seen += _ids(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen))  # no duplicate
    assert [j for j in seen if not j.startswith("job-new")] == original  # no gap
    assert {j for j in seen if j.startswith("job-new")} == {"job-new-tie-hi", "job-new-oldest"}
    now = live.listed(None)
    assert seen == [j for j in now if j not in ("job-new-newest", "job-new-tie-lo")]


def _tampered(cursor: str) -> Iterator[str]:
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    for i in (0, len(raw) // 2, len(raw) - 3):
        edited = bytearray(raw)
        edited[i] ^= 0x01
        yield base64.urlsafe_b64encode(bytes(edited)).decode().rstrip("=")
    yield cursor[:-4]
    yield cursor + "AAAA"


def test_an_edited_cursor_is_a_bad_input(live: Live) -> None:
    cursor = live.page(first=2)["pageInfo"]["endCursor"]
    for bad in [*_tampered(cursor), "", "not a cursor", "x" * 5000]:
        for argument in ("after", "before"):
            body = gql(live.client, CONNECTION, {"d": D1, argument: bad})
            assert body["data"] is None or body["data"]["jobConnection"] is None
            assert body["errors"][0]["extensions"] == {
                "code": "BAD_USER_INPUT",
                "reason": "ERROR_INVALID_PARAMETER_TYPE",
            }


def test_a_cursor_of_another_order_or_domain_is_a_bad_input(live: Live) -> None:
    cursor = live.page(first=2, orderBy=[{"field": "CREATED_AT"}])["pageInfo"]["endCursor"]
    body = gql(
        live.client, CONNECTION, {"d": D1, "after": cursor, "orderBy": [{"field": "CREATED_AT", "direction": "DESC"}]}
    )
    assert "another order" in body["errors"][0]["message"]
    other = gql(live.client, CONNECTION, {"d": D2, "first": 1})["data"]["jobConnection"]["pageInfo"]["endCursor"]
    body = gql(live.client, CONNECTION, {"d": D1, "after": other})
    assert "another domain" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def forged(values: str, sort: Any = (("created_at", -1), ("_id", 1)), domain: str = D1) -> str:
    """A cursor made up with the published checksum: the values (Extended JSON) are the
    only thing wrong with it."""
    payload = f'["{_tag(repr(tuple(sort)))}","{_tag(domain)}",{values}]'.encode()
    return base64.urlsafe_b64encode(_tag(payload).encode() + payload).decode().rstrip("=")


OID = '{"$oid":"65f000000000000000000001"}'


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ('{"$date":{"$numberLong":"9223372036854775807"}}', "made up"),  # beyond BSON's dates
        ('{"$date":"99999-01-01T00:00:00Z"}', "made up"),
        ('{"$oid":"zz"}', "made up"),
        ("123456789012345678901234567890", "not one a job can hold"),  # beyond 64 bits
        ('{"a":{"b":[1,-9223372036854775809]}}', "not one a job can hold"),
        ('{"$regularExpression":{"pattern":"a","options":""}}', "not one a job can hold"),
        ('{"$minKey":1}', "not one a job can hold"),
        ('{"$numberDecimal":"NaN"}', "not one a page can follow"),
        ('["a","b"]', "not one a page can follow"),
        ("[" * 40 + "]" * 40, "not one a job can hold"),
        ("[" * 1200 + "]" * 1200, "made up"),  # deeper than the JSON parser goes
    ],
)
def test_every_value_of_a_cursor_is_checked(live: Live, value: str, says: str) -> None:
    """Cursors are checksummed, not signed: one made up with a valid checksum is untrusted
    input like any other, a bad input naming the argument - never a 500 on either engine."""
    for argument in ("after", "before"):
        body = gql(live.client, CONNECTION, {"d": D1, argument: forged(f"[{value},{OID}]")})
        assert body["data"] is None
        (error,) = body["errors"]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": "ERROR_INVALID_PARAMETER_TYPE"}
        assert error["message"].startswith(f"{argument}: ") and says in error["message"]
    # A made-up cursor of storable values is a place like any other: it pages from there.
    page = live.page(after=forged(f'[{{"$date":"2024-05-14T12:00:00Z"}},{OID}]'))
    assert _ids(page) == ["job-000000000002", "job-00000000abcd", "job-00000000gone", "job-0000000old04"]


def test_an_order_a_row_cannot_be_paged_in_is_refused_naming_the_row(make_client: Any) -> None:
    """An array where the order reads a scalar: the list places the row as MongoDB does
    (by its least element ascending, its greatest descending); a cursor cannot continue
    from there, so a connection page holding it is refused, never answered wrongly."""
    data = dataset()
    broken = next(j for j in data["job"] if j["job_id"] == "job-000000000007")
    broken["project_id"] = ["project-z", "project-0"]
    client, _ = make_client(data)
    order = [{"field": "PROJECT_ID"}, {"field": "JOB_ID"}]
    listed = on_d1(
        client,
        "query($d: String, $o: [JobOrderBy!]) { jobs(domainId: $d, orderBy: $o) { results { jobId } } }",
        o=order,
    )
    assert [r["jobId"] for r in listed["data"]["jobs"]["results"]][-2:] == ["job-000000000007", "job-000000000001"]
    clean = gql(client, CONNECTION, {"d": D1, "first": 3, "orderBy": order})  # rows before it: paged as usual
    assert "errors" not in clean
    after = clean["data"]["jobConnection"]["pageInfo"]["endCursor"]
    body = gql(client, CONNECTION, {"d": D1, "first": 5, "after": after, "orderBy": order})
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": "ERROR_INVALID_PARAMETER"}
    assert error["message"] == (
        'this order cannot be paged by cursor: job "job-000000000007" holds an array (MongoDB orders it by its '
        'least or greatest element, which no cursor can continue from) in "project_id"; order by other fields, '
        "or page with `jobs` (offsets)."
    )


@pytest.mark.parametrize(
    ("variables", "reason"),
    [
        ({"first": 1001}, "ERROR_LIMIT_EXCEEDED"),
        ({"last": 1001}, "ERROR_LIMIT_EXCEEDED"),
        ({"first": -1}, "ERROR_INVALID_PARAMETER_TYPE"),
        ({"first": 1, "last": 1}, "ERROR_INVALID_PARAMETER"),
    ],
)
def test_counts_are_checked_and_capped(live: Live, variables: dict[str, Any], reason: str) -> None:
    body = gql(live.client, CONNECTION, {"d": D1, **variables})
    assert body["errors"][0]["extensions"]["reason"] == reason


def test_first_zero_and_the_default_page(live: Live) -> None:
    empty = live.page(first=0)
    assert empty["edges"] == [] and empty["pageInfo"]["hasNextPage"] is True
    assert empty["pageInfo"]["startCursor"] is None
    assert len(live.page()["edges"]) == 7  # no count: up to the page cap


def test_where_and_total_count(live: Live) -> None:
    body = on_d1(
        live.client,
        "query($d: String) { jobConnection(domainId: $d, first: 1, where: {status: {in: [SUCCESS, ERROR]}}) "
        "{ totalCount edges { node { status } } pageInfo { hasNextPage } } }",
    )
    connection = body["data"]["jobConnection"]
    assert connection["totalCount"] == 3 and connection["pageInfo"]["hasNextPage"] is True


class TestStoreCalls:
    @pytest.fixture
    def counted(self, make_client: Any) -> Any:
        return make_client()  # either engine's store, wrapped in a CountingStore

    def test_total_count_is_counted_only_when_selected(self, counted: Any) -> None:
        client, store = counted
        on_d1(client, "query($d: String) { jobConnection(domainId: $d, first: 2) { edges { node { jobId } } } }")
        assert store.calls == [("find", "job")]
        store.calls.clear()
        on_d1(client, "query($d: String) { jobConnection(domainId: $d, first: 2) { totalCount } }")
        assert store.calls == [("count", "job")]

    def test_a_page_never_skips(self, counted: Any) -> None:
        client, store = counted
        after = on_d1(client, "query($d: String) { jobConnection(domainId: $d, first: 3) { pageInfo { endCursor } } }")
        cursor = after["data"]["jobConnection"]["pageInfo"]["endCursor"]
        store.kwargs.clear()
        store.calls.clear()
        on_d1(
            client,
            "query($d: String, $a: String) "
            "{ jobConnection(domainId: $d, first: 3, after: $a) { edges { node { jobId collectorInfo { name } } } } }",
            a=cursor,
        )
        assert all(kwargs.get("skip", 0) == 0 for kwargs in store.kwargs)
        assert sorted(store.calls) == [("find", "collector"), ("find", "job")]  # the page, its collectors


# The keyset filter against each engine's own sort, over every BSON type a sort key holds.
MIXED = [None, "missing", -1.5, 7, 2**40, "", "B", "a", "a", {"x": 1}, ObjectId("65f000000000000000000009")]
MIXED += [True, datetime(2024, 1, 1), datetime(1999, 1, 1), None, 3]
# 0 beside false and 1 beside true: equal in Python, of two types (and places) in MongoDB's order.
MIXED += [0, False, 1, 0.0, float("-inf")]


async def _store(engine: str, values: list[Any]) -> Any:
    docs = []
    for i, value in enumerate(values):
        doc: dict[str, Any] = {"_id": ObjectId(f"66b{i:021d}"), "n": i}
        if value != "missing":
            doc["k"] = value
        docs.append(doc)
    if engine == "memory":
        return memory_with({"job": docs}), None
    from gateway.store.mongo import MongoJobStore

    seed = MongoSeed({"job": docs})
    return MongoJobStore(MONGODB_URI or "", database=seed.name, timeout_ms=BUDGET_MS), seed


async def _pages(store: JobStore, sort: tuple[tuple[str, int], ...], size: int, *, forward: bool) -> list[int]:
    """Every row, page by page through ``beyond``, in the order's direction."""
    read = sort if forward else tuple((p, -d) for p, d in sort)
    seen: list[int] = []
    last: dict[str, Any] | None = None
    for _ in range(100):
        where = {} if last is None else beyond(sort, [last.get("k"), last["_id"]], forward=forward)
        page = await store.find(JOB, where, sort=read, limit=size)
        seen += [d["n"] for d in page]
        if len(page) < size:
            break
        last = page[-1]
    return seen if forward else seen[::-1]


async def _check_keyset(engine: str, values: list[Any]) -> None:
    store, seed = await _store(engine, values)
    try:
        for direction in (1, -1):
            sort = (("k", direction), ("_id", 1))
            everything = [d["n"] for d in await store.find(JOB, {}, sort=sort)]
            for size in (1, 2, 5):
                assert await _pages(store, sort, size, forward=True) == everything, (direction, size)
                assert await _pages(store, sort, size, forward=False) == everything, (direction, size)
    finally:
        if seed is not None:
            await store.close()
            seed.drop()


@pytest.mark.anyio
async def test_keyset_follows_the_engines_sort_over_mixed_types(engine: str) -> None:
    await _check_keyset(engine, MIXED)
