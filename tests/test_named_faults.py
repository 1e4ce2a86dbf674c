"""The faults issue 10 names, each with the value MongoDB gives, through both adapters
(REST and GraphQL) and every route that reads the same rows (list, count, list sorted
by a collector field, stat), on each engine. The kinds they stand for are covered
operator by operator and shape by shape in test_conformance."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from bson import ObjectId

from tests.conftest import gql
from tests.dataset import COLLECTORS, D1
from tests.engines import NULL_THROUGH_ARRAYS, PATH_THROUGH_ARRAY, REGEX_DIALECT

EMPTY, NULL, MIXED, CODES, MISSING, DIGITS = (
    "job-fault-empty",
    "job-fault-null",
    "job-fault-mixed",
    "job-fault-codes",
    "job-fault-missing",
    "job-123456",
)


def _job(job_id: str, n: int, **fields: Any) -> dict[str, Any]:
    doc = {
        "_id": ObjectId(f"66b{n:021d}"),
        "job_id": job_id,
        "status": "SUCCESS",
        "domain_id": D1,
        "collector_id": "collector-aws000000001",
        "created_at": datetime(2024, 5, n, 12, 0),  # 2024-05-05 is a Sunday
        "finished_at": datetime(2024, 5, n, 12, 30),
    }
    doc.update(fields)
    return {k: v for k, v in doc.items() if v is not ...}


DATA = {
    "job": [
        _job(EMPTY, 5, errors=[], finished_at=None),
        _job(NULL, 6, errors=None),
        _job(MIXED, 7, errors=[{"error_code": "A", "message": "a"}, {"message": "no code"}], finished_at=...),
        _job(CODES, 8, errors=[{"error_code": "B"}, {"error_code": "C"}]),
        _job(MISSING, 9, errors=...),
        _job(DIGITS, 10, errors=[]),
    ],
    "collector": COLLECTORS,
}

JOBS_GQL = """query($q: JobQueryInput) { jobs(domainId: "%s", query: $q) { totalCount results { jobId } } }"""
STAT_GQL = """query($q: StatisticsQueryInput!) { jobStat(domainId: "%s", query: $q) }"""


@pytest.fixture
def client(make_client: Any) -> Any:
    return make_client(DATA)[0]


def listed(client: Any, filter_: list[dict[str, Any]], **query: Any) -> tuple[set[str], int]:
    """Job ids and total_count, the same through REST and GraphQL (asserted)."""
    body = {"domain_id": D1, "query": {"filter": filter_, **query}}
    rest = client.post("/inventory/v1/jobs/search", json=body)
    assert rest.status_code == 200, rest.text
    ids = {r["job_id"] for r in rest.json()["results"]}
    total = rest.json()["total_count"]
    answer = gql(client, JOBS_GQL % D1, {"q": _camel({"filter": filter_, **query})})
    assert "errors" not in answer, answer
    page = answer["data"]["jobs"]
    assert ({r["jobId"] for r in page["results"]}, page["totalCount"]) == (ids, total)
    return ids, total


def stat(client: Any, query: dict[str, Any]) -> Any:
    rest = client.post("/inventory/v1/jobs/stat", json={"domain_id": D1, "query": query})
    assert rest.status_code == 200, rest.text
    answer = gql(client, STAT_GQL % D1, {"q": _camel(query)})
    assert "errors" not in answer, answer
    assert answer["data"]["jobStat"] == rest.json()
    return rest.json()["results"]


_CAMEL = {"date_format": "dateFormat", "count_only": "countOnly"}


def _camel(query: Any) -> Any:
    if isinstance(query, dict):
        return {_CAMEL.get(k, k): _camel(v) for k, v in query.items()}
    if isinstance(query, list):
        return [_camel(v) for v in query]
    return query


def refused(client: Any, route: str, query: dict[str, Any]) -> dict[str, Any]:
    response = client.post(route, json={"domain_id": D1, "query": query})
    assert response.status_code == 400, response.text
    return response.json()["error"]


def test_in_with_an_array_value_matches_equal_arrays(client: Any) -> None:
    # An array in $in matches a field equal to that array
    # (https://www.mongodb.com/docs/manual/reference/operator/query/in/).
    assert listed(client, [{"k": "errors", "v": [[]], "o": "in"}]) == ({EMPTY, DIGITS}, 2)
    assert listed(client, [{"k": "errors", "v": [[], None], "o": "in"}]) == ({EMPTY, DIGITS, NULL, MISSING}, 4)


@NULL_THROUGH_ARRAYS.mark
def test_a_null_parent_makes_the_path_null(client: Any) -> None:
    # "a dotted path that does not resolve to a non-null value evaluates as null": a null
    # parent, a missing one, an empty array, an element without the field
    # (https://www.mongodb.com/docs/manual/release-notes/9.0-compatibility/).
    expected = {NULL, MISSING, EMPTY, DIGITS, MIXED}
    assert listed(client, [{"k": "errors.error_code", "v": None, "o": "eq"}]) == (expected, 5)
    assert listed(client, [{"k": "errors.error_code", "v": None, "o": "not"}]) == ({CODES}, 1)
    assert listed(client, [{"k": "errors.error_code", "v": [None], "o": "in"}])[1] == 5


@PATH_THROUGH_ARRAY.mark
def test_values_through_arrays_of_sub_documents_keep_the_elements_that_have_them(client: Any) -> None:
    # "$errors.error_code" over an array gives the values of the elements that have the
    # field (https://www.mongodb.com/docs/manual/reference/operator/aggregation/push/);
    # distinct counts each array element (.../reference/command/distinct/).
    assert stat(client, {"distinct": "errors.error_code"}) == ["A", "B", "C"]
    pushed = stat(
        client,
        {
            "aggregate": [
                {
                    "group": {
                        "fields": [
                            {"name": "codes", "operator": "push", "key": "errors.error_code"},
                            {"name": "set", "operator": "add_to_set", "key": "errors.error_code"},
                        ]
                    }
                }
            ]
        },
    )
    # A null or missing `errors` gives no value (not pushed); an empty array gives [].
    assert sorted(pushed[0]["codes"]) == [[], [], ["A"], ["B", "C"]]
    assert sorted(pushed[0]["set"]) == [[], ["A"], ["B", "C"]]
    keys = stat(
        client,
        {
            "aggregate": [
                {
                    "group": {
                        "keys": [{"key": "errors.error_code", "name": "codes"}],
                        "fields": [{"name": "n", "operator": "count"}],
                    }
                }
            ]
        },
    )
    # No value gives an _id without the field, so the row has no `codes` (an object
    # expression leaves out missing fields: .../aggregation/group/ , .../expression-objects).
    assert sorted((str(r.get("codes")), r["n"]) for r in keys) == [
        ("None", 2),
        ("['A']", 1),
        ("['B', 'C']", 1),
        ("[]", 2),
    ]
    projected = stat(client, {"aggregate": [{"project": {"fields": [{"name": "codes", "key": "errors.error_code"}]}}]})
    assert sorted(str(r.get("codes")) for r in projected) == ["None", "None", "['A']", "['B', 'C']", "[]", "[]"]


def test_null_ranges_agree_on_every_route(client: Any) -> None:
    # $lte/$gte null match null and missing: null is the only value of its bracket
    # (https://www.mongodb.com/docs/manual/reference/bson-type-comparison-order/ ,
    # .../reference/method/db.collection.find/#type-bracketing).
    expected = ({EMPTY, MIXED}, 2)
    for op in ("lte", "gte"):
        condition = [{"k": "finished_at", "v": None, "o": op}]
        assert listed(client, condition) == expected
        assert listed(client, condition, sort={"key": "collector_info.name"}) == expected
        assert listed(client, condition, count_only=True)[1] == 2
        assert stat(client, {"filter": condition, "aggregate": [{"count": {"name": "n"}}]}) == [{"n": 2}]
        paged = client.post(
            "/inventory/v1/jobs/stat",
            json={"domain_id": D1, "query": {"filter": condition, "distinct": "job_id", "page": {"limit": 1}}},
        ).json()
        assert paged["total_count"] == 2
    assert listed(client, [{"k": "finished_at", "v": None, "o": "lt"}]) == (set(), 0)


DAY_FORMAT = "%w|%u|%z|%Z|%j|%U|%V|%G|%b|%B|%%"


def test_date_formats_render_as_mongodb(client: Any) -> None:
    # https://www.mongodb.com/docs/manual/reference/operator/aggregation/dateToString/#format-specifiers:
    # %w 1 (Sunday)-7, %u ISO 1 (Monday)-7, %z +hhmm, %Z offset in minutes (UTC: 0).
    rows = stat(
        client,
        {
            "filter": [{"k": "job_id", "v": EMPTY, "o": "eq"}],
            "aggregate": [{"group": {"keys": [{"key": "created_at", "name": "d", "date_format": DAY_FORMAT}]}}],
        },
    )
    assert rows == [{"d": "1|7|+0000|0|126|18|18|2024|May|May|%"}]


@pytest.mark.parametrize(
    ("fmt", "named"), [("%s", "'%s'"), ("%Y-%m-%d %e", "'%e'"), ("day %", "lone '%'"), ("%Q %Y", "'%Q'")]
)
def test_date_format_specifiers_mongodb_lacks_are_refused(client: Any, fmt: str, named: str) -> None:
    group = {"group": {"keys": [{"key": "created_at", "name": "d", "date_format": fmt}]}}
    error = refused(client, "/inventory/v1/jobs/stat", {"aggregate": [group]})
    assert error["code"] == "ERROR_INVALID_PARAMETER"
    assert named in error["message"]


@REGEX_DIALECT.mark
def test_regular_expressions_are_pcre(client: Any) -> None:
    # MongoDB's $regex is PCRE (https://www.mongodb.com/docs/manual/reference/operator/query/regex/):
    # POSIX classes and \h (horizontal space) are part of it.
    assert listed(client, [{"k": "job_id", "v": "^job-[[:digit:]]+$", "o": "regex"}]) == ({DIGITS}, 1)
    assert listed(client, [{"k": "errors.message", "v": "no\\hcode", "o": "regex"}]) == ({MIXED}, 1)
    error = refused(client, "/inventory/v1/jobs/search", {"filter": [{"k": "job_id", "v": "job\\u0041", "o": "regex"}]})
    assert "invalid regular expression" in error["message"]


def test_constructs_the_embedded_engine_cannot_emulate_are_refused_by_name(client: Any, engine: str) -> None:
    # A lookahead is PCRE (MongoDB runs it); RE2, the embedded engine's matcher, has none:
    # a 400 naming it there, never an answer that differs.
    condition = [{"k": "job_id", "v": "^job-(?=fault)", "o": "regex"}]
    body = {"domain_id": D1, "query": {"filter": condition}}
    rest = client.post("/inventory/v1/jobs/search", json=body)
    answer = gql(client, JOBS_GQL % D1, {"q": {"filter": condition}})
    if engine == "memory":
        assert rest.status_code == 400, rest.text
        assert rest.json()["error"]["code"] == "ERROR_UNSUPPORTED_BY_ENGINE"
        assert "lookaround" in rest.json()["error"]["message"]
        (error,) = answer["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["reason"] == "ERROR_UNSUPPORTED_BY_ENGINE"
    else:
        assert rest.status_code == 200, rest.text
        assert rest.json()["total_count"] == 5
        assert answer["data"]["jobs"]["totalCount"] == 5
