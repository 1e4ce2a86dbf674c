"""GraphiQL is served by the gateway from vendored, pinned assets: no URL outside the
gateway, every file as its pin says, the licences shipped beside them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.http.graphiql import CONTENT_SECURITY_POLICY
from gateway.settings import Settings
from tests.conftest import ROOT, memory_with
from tests.dataset import dataset

ASSETS = ROOT / "gateway" / "http" / "assets"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture(scope="module")
def browser() -> Any:
    with TestClient(create_app(Settings(), memory_with(dataset()))) as client:
        yield client


def test_the_page_loads_everything_from_the_gateway(browser: TestClient) -> None:
    page = browser.get("/graphql", headers={"accept": BROWSER_ACCEPT})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    html = page.text
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(u.startswith("graphiql/") for u in urls), urls  # relative: same origin, any path prefix
    pins = {a["file"]: a["sha384"] for a in json.loads((ASSETS / "pins.json").read_text())["assets"]}
    for tag in re.findall(r"<(?:script|link)[^>]+(?:src|href)=[^>]+>", html):
        url = re.search(r'(?:src|href)="graphiql/([^"]+)"', tag)
        assert url is not None
        asset = browser.get(f"/graphiql/{url.group(1)}")
        assert asset.status_code == 200, url.group(1)
        if url.group(1) in pins:
            assert f'integrity="{pins[url.group(1)]}"' in tag


def test_the_page_opens_on_the_examples(browser: TestClient) -> None:
    html = browser.get("/graphql", headers={"accept": BROWSER_ACCEPT}).text
    found = re.search(r'<script id="graphiql-config" type="application/json">(.*?)</script>', html)
    assert found is not None
    config = json.loads(found.group(1))
    examples = json.loads((ROOT / "gateway" / "http" / "examples.json").read_text())
    assert [e["name"] for e in config["examples"]] == [e["name"] for e in examples]
    assert all(e["query"].startswith("query ") for e in config["examples"])


def test_queries_from_a_browser_still_run(browser: TestClient) -> None:
    """GET with a query is executed even for a client preferring HTML."""
    response = browser.get("/graphql", params={"query": "{ __typename }"}, headers={"accept": BROWSER_ACCEPT})
    assert response.json() == {"data": {"__typename": "Query"}}


def test_graphiql_can_be_turned_off() -> None:
    with TestClient(create_app(Settings(graphiql=False), memory_with(dataset()))) as client:
        response = client.get("/graphql", headers={"accept": BROWSER_ACCEPT})
    assert response.status_code == 400 and response.headers["content-type"].startswith("application/json")


def test_vendored_files_match_their_pins_and_keep_their_licences() -> None:
    check = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "vendor_graphiql.py")], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stderr
    pins = json.loads((ASSETS / "pins.json").read_text())
    assert all(p["integrity"].startswith("sha512-") and p["license"] == "MIT" for p in pins["packages"].values())
    for name in pins["packages"]:
        short = name.split("/")[-1]
        assert any(a["file"].startswith(f"licenses/{short}.") for a in pins["assets"]), name
