"""bench/worst_case.py measures the costliest requests the limits allow: each of its
requests must still be allowed (a 200 at the default settings), or it measures a
refusal instead of a cost."""

from __future__ import annotations

import sys
from typing import Any

from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.demo import DEMO_DOMAINS
from gateway.settings import Settings
from tests.conftest import ROOT


def test_every_worst_case_is_just_under_the_limits() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from worst_case import cases, graphql_pages
    finally:
        sys.path.remove(str(ROOT / "bench"))
    settings = Settings(demo_jobs=30)
    with TestClient(create_app(settings)) as client:
        for name, (route, query) in cases(settings).items():
            body: dict[str, Any] = {"domain_id": DEMO_DOMAINS[0], "query": query}
            response = client.post(route, json=body)
            assert response.status_code == 200, (name, response.text[:300])
        graphql = client.post("/graphql", json={"query": graphql_pages(settings, DEMO_DOMAINS[0])})
        assert graphql.status_code == 200 and "errors" not in graphql.json(), graphql.text[:300]
