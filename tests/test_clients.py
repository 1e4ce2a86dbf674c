"""Real clients against a live gateway: the GraphQL-over-HTTP conformance audit
(graphql-http's auditServer), Apollo Client and urql running every example operation
(POST, GET with a persisted id, batched, automatic persisted queries), and GraphiQL in
headless Chromium with every request outside loopback blocked.

They need the Node packages of ``tests/node`` (``npm ci`` there; ``.ci/run`` installs
them) and, for the browser, Chromium (Debian's ``chromium``). Without them these tests
are skipped on a developer's machine and fail in CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from gateway.app import create_app
from gateway.settings import Settings
from tests.conftest import ROOT
from tests.live import live_server
from tests.processes import require

NODE_DIR = ROOT / "tests" / "node"
HTTP_DIR = ROOT / "gateway" / "http"
EXAMPLES = json.loads((HTTP_DIR / "examples.json").read_text())
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def node(script: str, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    require(bool(shutil.which("node")) and (NODE_DIR / "node_modules").is_dir(), "Node with tests/node's packages")
    return subprocess.run(
        ["node", script, *args], cwd=NODE_DIR, capture_output=True, text=True, timeout=timeout, check=False
    )


def _demo(**settings: Any) -> Iterator[str]:
    with live_server(create_app(Settings(demo_jobs=300, **settings))) as url:
        yield url


@pytest.fixture(scope="module")
def gateway() -> Iterator[str]:
    yield from _demo()


@pytest.fixture(scope="module")
def trusted_gateway() -> Iterator[str]:
    yield from _demo(trusted_documents_only=True)


def without_typename(value: Any) -> Any:
    """Apollo Client adds ``__typename`` to the documents it sends; the trusted ones
    have none."""
    if isinstance(value, dict):
        return {k: without_typename(v) for k, v in value.items() if k != "__typename"}
    if isinstance(value, list):
        return [without_typename(v) for v in value]
    return value


def test_graphql_over_http_audit(gateway: str) -> None:
    run = node("audit.mjs", f"{gateway}/graphql")
    summary = run.stdout.strip().splitlines()[-1]
    print(summary)
    assert run.returncode == 0, run.stdout + run.stderr
    assert summary.endswith("ok, 0 warnings, 0 errors")


def _client_runs(url: str, *modes: str) -> list[dict[str, Any]]:
    run = node("clients.mjs", url, str(HTTP_DIR / "examples.json"), str(HTTP_DIR / "persisted-documents.json"), *modes)
    assert run.returncode == 0, run.stderr
    return [json.loads(line) for line in run.stdout.splitlines()]


def test_apollo_and_urql_run_every_example(gateway: str) -> None:
    manifest = json.loads((HTTP_DIR / "persisted-documents.json").read_text())
    expected = {
        e["name"]: httpx.post(
            f"{gateway}/graphql", json={"query": manifest[e["documentId"]], "variables": e["variables"]}
        ).json()["data"]
        for e in EXAMPLES
    }
    runs = _client_runs(gateway)
    seen = {(r["client"], r["mode"], r["operation"]) for r in runs}
    assert seen == {
        (c, m, e["name"])
        for c in ("apollo", "urql")
        for m in ("post", "persisted-get", "batched", "apq")
        for e in EXAMPLES
    }
    for run in runs:
        label = (run["client"], run["mode"], run["operation"])
        assert run["errors"] == [], label
        assert without_typename(run["data"]) == without_typename(expected[run["operation"]]), label
        if run["mode"] == "persisted-get":  # the id alone, over GET: cacheable
            assert all(r["method"] == "GET" and not r["sentQuery"] for r in run["requests"]), label
        if run["mode"] == "batched":  # the examples in batches of at most max_batch_operations (10)
            batches = [r["batch"] for r in run["requests"]]
            assert sum(batches) == len(EXAMPLES) and all(0 < b <= 10 for b in batches), (label, batches)
        if run["mode"] == "apq":  # a miss, then the query; later the hash alone
            assert any(r["sentQuery"] for r in run["first"]) and not any(r["sentQuery"] for r in run["requests"])


def test_clients_against_a_trusted_documents_only_gateway(trusted_gateway: str) -> None:
    trusted = set(json.loads((HTTP_DIR / "persisted-documents.json").read_text()).values())
    runs = _client_runs(trusted_gateway, "persisted-get", "post")
    refused = set()
    for run in runs:
        label = (run["client"], run["mode"], run["operation"])
        if run["mode"] == "persisted-get":
            assert run["errors"] == [] and run["data"], label
            continue
        # A document sent as text runs only if it is, to the character, one of the
        # manifest's: Apollo adds __typename, urql prints documents its own way.
        (sent,) = {r["query"] for r in run["own"]}
        if sent in trusted:
            assert run["errors"] == [] and run["data"], label
        else:
            assert run["data"] is None and "trusted documents only" in run["errors"][0], label
            refused.add(run["client"])
    assert "apollo" in refused


def test_graphiql_works_offline_in_a_browser(gateway: str, tmp_path: Path) -> None:
    require(Path(CHROMIUM).is_file(), f"Chromium ({CHROMIUM})")
    run = node("browser.mjs", gateway, str(tmp_path / "graphiql.png"))
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)
    print(json.dumps({k: v for k, v in report.items() if k != "result"}))
    assert report["blocked"] == []  # nothing outside the gateway was even asked for
    assert report["consoleErrors"] == []
    assert report["tabs"] == [e["name"] for e in EXAMPLES]  # every example one click away
    jobs = report["result"]["data"]["jobs"]  # the default tab's query ran, on the demo domain
    assert jobs["totalCount"] > 0 and len(jobs["results"]) == EXAMPLES[0]["variables"]["limit"]
    assert all(r.startswith(("GET /graphql", "GET /graphiql/", "POST /graphql")) for r in report["requests"])
