"""The typed dashboard (`jobCounts`) and time zones in the generic stat's date keys:
counts agree with the lists, periods follow the zone's calendar, on each engine."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import gql
from tests.dataset import D1, JOBS

COUNTS = "query($d: String, $g: [JobCountKey!]!, $p: CalendarPeriod, $z: String, $w: JobWhere) { jobCounts(domainId: $d, groupBy: $g, period: $p, timeZone: $z, where: $w) { status provider collector { collectorId } period periodStart count } }"
D1_JOBS = [j for j in JOBS if j["domain_id"] == D1]


def counts(client: Any, **variables: Any) -> list[dict[str, Any]]:
    body = gql(client, COUNTS, {"d": D1, **variables})
    assert "errors" not in body, body
    return body["data"]["jobCounts"]


def total(client: Any, where: dict[str, Any]) -> int:
    body = gql(
        client,
        "query($d: String, $w: JobWhere) { jobs(domainId: $d, where: $w) { totalCount } }",
        {"d": D1, "w": where},
    )
    return body["data"]["jobs"]["totalCount"]


def test_counts_by_status_are_the_lists_counts(client: Any) -> None:
    rows = counts(client, g=["STATUS"])
    assert [r["status"] for r in rows] == sorted(r["status"] for r in rows)
    for row in rows:
        assert row["count"] == total(client, {"status": {"eq": row["status"]}})
        assert row["provider"] is None and row["period"] is None
    assert sum(r["count"] for r in rows) == 7


def test_counts_by_provider_and_collector(client: Any) -> None:
    rows = counts(client, g=["PROVIDER", "COLLECTOR"])
    found = {(r["provider"], (r["collector"] or {}).get("collectorId")): r["count"] for r in rows}
    assert found == {
        ("aws", "collector-aws000000001"): 4,
        ("google_cloud", "collector-gcp000000002"): 1,
        ("openstack", "collector-old000000004"): 1,
        (None, None): 1,  # its collector is gone
    }


@pytest.mark.parametrize("zone", ["UTC", "Asia/Seoul", "America/New_York", "Pacific/Chatham"])
@pytest.mark.parametrize(("period", "fmt"), [("DAY", "%Y-%m-%d"), ("WEEK", "%G-W%V"), ("MONTH", "%Y-%m")])
def test_periods_follow_the_zones_calendar(client: Any, zone: str, period: str, fmt: str) -> None:
    expected = Counter(j["created_at"].replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).strftime(fmt) for j in D1_JOBS)
    rows = counts(client, g=["PERIOD"], p=period, z=zone)
    assert {r["period"]: r["count"] for r in rows} == dict(expected)
    assert [r["period"] for r in rows] == sorted(expected)
    for row in rows:
        start = datetime.fromisoformat(row["periodStart"].replace("Z", "+00:00")).astimezone(ZoneInfo(zone))
        assert (start.hour, start.minute) == (0, 0) and start.strftime(fmt) == row["period"]


def test_a_zone_moves_jobs_across_a_boundary(client: Any) -> None:
    # job-0000000old04 was created 2024-04-30T23:59:59Z: still April in UTC, May in Seoul.
    where = {"jobId": {"eq": "job-0000000old04"}}
    assert [r["period"] for r in counts(client, g=["PERIOD"], p="MONTH", z="UTC", w=where)] == ["2024-04"]
    assert [r["period"] for r in counts(client, g=["PERIOD"], p="MONTH", z="Asia/Seoul", w=where)] == ["2024-05"]


def test_where_narrows_the_counts(client: Any) -> None:
    rows = counts(client, g=["STATUS"], w={"collector": {"provider": {"eq": "aws"}}})
    assert sum(r["count"] for r in rows) == total(client, {"collector": {"provider": {"eq": "aws"}}}) == 4


def test_no_keys_is_one_total(client: Any) -> None:
    assert [r["count"] for r in counts(client, g=[])] == [7]


# localtime, Factory: names the OS tz database (zoneinfo.available_timezones) holds
# that are not IANA zones (the host's zone; tzdata's placeholder with no offset).
NOT_ZONES = ["Mars/Base", "", "+09:00", "../../etc/passwd", "utc ", "localtime", "Factory", "posixrules"]


@pytest.mark.parametrize("zone", NOT_ZONES)
def test_a_zone_must_be_an_iana_name(client: Any, zone: str) -> None:
    body = gql(client, COUNTS, {"d": D1, "g": ["PERIOD"], "z": zone})
    assert body["errors"][0]["extensions"]["reason"] == "ERROR_INVALID_PARAMETER"
    assert "IANA time zone" in body["errors"][0]["message"] and "timeZone" in body["errors"][0]["message"]
    if not zone:
        return  # the published message reads "" as not given (UTC)
    key = {"key": "created_at", "name": "d", "date_format": "day", "time_zone": zone}
    query = {"aggregate": [{"group": {"keys": [key], "fields": [{"name": "n", "operator": "count"}]}}]}
    response = client.post("/inventory/v1/jobs/stat", json={"domain_id": D1, "query": query})
    assert response.status_code == 400 and "time_zone" in response.json()["error"]["message"]


def by_hour(zone: str, *, graphql: bool = False) -> dict[str, Any]:
    """A StatisticsQuery counting jobs per hour of ``zone``, in the wire (or GraphQL) spelling."""
    key = {"key": "created_at", "name": "h", "date_format": "%Y-%m-%d %H %z", "time_zone": zone}
    if graphql:
        key = {"key": "created_at", "name": "h", "dateFormat": key["date_format"], "timeZone": zone}
    group = {"keys": [key], "fields": [{"name": "n", "operator": "count"}]}
    return {"aggregate": [{"group": group}, {"sort": {"key": "h"}}]}


@pytest.mark.parametrize("zone", ["Asia/Seoul", "America/New_York"])
def test_the_generic_stat_reads_dates_in_a_zone_on_both_routes(client: Any, zone: str) -> None:
    expected = Counter(
        j["created_at"].replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H %z") for j in D1_JOBS
    )
    rest = client.post("/inventory/v1/jobs/stat", json={"domain_id": D1, "query": by_hour(zone)})
    assert rest.status_code == 200, rest.text
    assert {r["h"]: r["n"] for r in rest.json()["results"]} == dict(expected)
    document = "query($d: String, $q: StatisticsQueryInput!) { jobStat(domainId: $d, query: $q) }"
    body = gql(client, document, {"d": D1, "q": by_hour(zone, graphql=True)})
    assert body["data"]["jobStat"]["results"] == rest.json()["results"]


@pytest.mark.parametrize(
    ("key", "needle"),
    [
        ({"key": "created_at", "name": "d", "date_format": "day", "time_zone": "Nowhere/City"}, "IANA time zone"),
        ({"key": "created_at", "name": "d", "time_zone": "UTC"}, "give date_format too"),
    ],
)
def test_a_stat_zone_is_checked(client: Any, key: dict[str, Any], needle: str) -> None:
    query = {"aggregate": [{"group": {"keys": [key], "fields": [{"name": "n", "operator": "count"}]}}]}
    response = client.post("/inventory/v1/jobs/stat", json={"domain_id": D1, "query": query})
    assert response.status_code == 400 and needle in response.json()["error"]["message"]


def test_date_parts_read_the_zone(client: Any) -> None:
    query = {
        "aggregate": [
            {
                "group": {
                    "keys": [{"key": "created_at", "name": "day", "date_format": "day", "time_zone": "Asia/Seoul"}],
                    "fields": [{"name": "n", "operator": "count"}],
                }
            }
        ]
    }
    rows = client.post("/inventory/v1/jobs/stat", json={"domain_id": D1, "query": query}).json()["results"]
    expected = Counter(j["created_at"].replace(tzinfo=UTC).astimezone(ZoneInfo("Asia/Seoul")).day for j in D1_JOBS)
    assert {r["day"]: r["n"] for r in rows} == dict(expected)


def test_one_row_per_group_key_whatever_shape_the_null_has(make_client: Any) -> None:
    """MongoDB's $group on one expression groups a missing key with null ("$group"); the
    stat's document _id keeps them apart, so jobCounts merges them: one row per key,
    counts summed. [] is a group of its own in MongoDB (a field error names its value)."""
    from tests.dataset import dataset

    data = dataset()
    jobs = [j for j in data["job"] if j["domain_id"] == D1]
    jobs[0].pop("status")
    jobs[1]["status"] = None
    jobs[2]["status"] = None
    jobs[3]["status"] = []
    client, _ = make_client(data)
    body = gql(client, COUNTS, {"d": D1, "g": ["STATUS"]})
    rows = body["data"]["jobCounts"]
    nulls = [r["count"] for i, r in enumerate(rows) if r["status"] is None and not _errors_at(body, i)]
    assert nulls == [3]
    assert sum(r["count"] for r in rows) == 7
    (broken,) = body["errors"]
    assert "status is a list []" in broken["message"]
    labelled = [r["status"] for r in rows if r["status"] is not None]
    assert len(labelled) == len(set(labelled))


def _errors_at(body: dict[str, Any], index: int) -> bool:
    return any(e.get("path") == ["jobCounts", index, "status"] for e in body.get("errors", ()))
