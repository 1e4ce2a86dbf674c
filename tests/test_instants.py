"""Every instant a client writes is checked against the calendar: one outside it (in
UTC) is a 400 naming the condition, on every route; any offset that lands inside it
is valid, however many digits it is written with."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dataset import J1, J2, J7, JABCD, JC6, JGONE, JOLD
from tests.routes import ROUTES, answer

EVERY_JOB = [JC6, J1, J7, J2, JABCD, JGONE, JOLD]

OUTSIDE = [
    ("datetime_gte", "0001-01-01T00:00:00+01:00"),
    ("datetime_lt", "9999-12-31T23:59:59-01:00"),
    ("timediff_lte", "now+999999w"),
    ("timediff_gte", "now-999999w"),
    ("timediff_gt", "now/m-" + "9" * 5000 + "s"),
    ("timediff_lt", "now+" + "1" * 40 + "d"),
]
INSIDE = [
    ("datetime_gte", "0001-01-01T00:00:00Z", EVERY_JOB),
    ("datetime_lt", "9999-12-31T23:59:59.999999Z", EVERY_JOB),
    ("datetime_gte", "0001-01-01T00:00:00-01:00", EVERY_JOB),
    ("timediff_gte", "now-1000w", EVERY_JOB),
    ("timediff_gte", "now-" + "0" * 5000 + "1d", [JC6, J1, J7]),  # leading zeros: one day
    ("timediff_lt", "now+400000w", EVERY_JOB),
]


@pytest.mark.parametrize(("operator", "value"), OUTSIDE)
@pytest.mark.parametrize("route", ROUTES)
def test_an_instant_outside_the_calendar_is_a_400_naming_the_condition(
    client: Any, route: str, operator: str, value: str
) -> None:
    query = {"filter": [{"k": "created_at", "v": value, "o": operator}]}
    assert answer(client, route, query) == ("ERROR_INVALID_PARAMETER", None)
    if route == "rest-list":
        body = client.post("/inventory/v1/jobs/search", json={"domain_id": "d", "query": query}).json()
        assert 'condition on "created_at"' in body["error"]["message"]
        assert "outside the calendar" in body["error"]["message"]


@pytest.mark.parametrize(("operator", "value", "expected"), INSIDE)
@pytest.mark.parametrize("route", ROUTES)
def test_any_instant_inside_the_calendar_is_valid(
    client: Any, route: str, operator: str, value: str, expected: list[str]
) -> None:
    query = {"filter": [{"k": "created_at", "v": value, "o": operator}]}
    ids = expected if not route.endswith("stat") else sorted(expected)
    assert answer(client, route, query) == (None, ids)
