"""The command line: generate, export-schema, settings validation, and `serve`
actually serving GraphiQL and REST on the embedded demo data."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.demo import DEMO_DOMAINS, generate_dataset
from gateway.settings import Settings, SettingsError
from gateway.store.datafile import read_data_file
from tests.conftest import ROOT, child_env
from tests.processes import free_port, serving

END = datetime(2024, 6, 1)


def test_generate_is_deterministic_and_loadable(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert main(["generate", "--jobs", "500", "--end", "2024-06-01T00:00:00", "--out", str(first)]) == 0
    assert main(["generate", "--jobs", "500", "--end", "2024-06-01T00:00:00", "--out", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()
    loaded = read_data_file(first)
    assert len(loaded["job"]) == 500 and len(loaded["collector"]) == 36


def test_generated_data_covers_what_the_demo_needs() -> None:
    data = generate_dataset(3000, end=END)
    jobs = data["job"]
    assert {j["status"] for j in jobs} == {"CREATED", "CANCELED", "IN_PROGRESS", "SUCCESS", "ERROR", "TIMEOUT"}
    assert {j["domain_id"] for j in jobs} == set(DEMO_DOMAINS)
    assert any(j["errors"] for j in jobs) and any(j["projects"] for j in jobs)
    assert any("collector" in j and "collector_id" not in j for j in jobs)  # old references
    known = {c["collector_id"] for c in data["collector"]}
    assert any(j.get("collector_id") and j["collector_id"] not in known for j in jobs)  # gone collectors
    days = {(END - j["created_at"]).days for j in jobs}
    assert min(days) == 0 and max(days) == 59
    assert len({j["job_id"] for j in jobs}) == 3000


def test_export_schema_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export-schema", "--out", "-"]) == 0
    assert capsys.readouterr().out == (ROOT / "schema" / "schema.graphql").read_text()


def test_settings_from_environment_and_validation() -> None:
    settings = Settings.from_environ(
        {
            "JOB_GATEWAY_MAX_PAGE_SIZE": "50",
            "JOB_GATEWAY_INTROSPECTION": "False",
            "MONGODB_URI": "mongodb://db:27017",
            "JOB_GATEWAY_INSECURE_NO_AUTH": "true",
        }
    )
    assert (settings.max_page_size, settings.introspection, settings.mongodb_uri) == (50, False, "mongodb://db:27017")
    for env, mentions in [
        ({"JOB_GATEWAY_MAX_PAGE_SIZE": "lots"}, "JOB_GATEWAY_MAX_PAGE_SIZE must be an integer"),
        ({"JOB_GATEWAY_MAX_PAGE_SIZE": "0"}, "must be a positive integer"),
        ({"JOB_GATEWAY_PORT": "70000"}, "PORT"),
        ({"JOB_GATEWAY_INTROSPECTION": "maybe"}, "true or false"),
        ({"MONGODB_URI": "postgres://x", "JOB_GATEWAY_INSECURE_NO_AUTH": "1"}, "MONGODB_URI"),
        ({"MONGODB_URI": "mongodb://db"}, "no token key is configured"),
        ({"JOB_GATEWAY_JWT_SECRET": "short"}, "at least 32 characters"),
        ({"JOB_GATEWAY_STAT_READ_PREFERENCE": "fastest"}, "STAT_READ_PREFERENCE"),
    ]:
        with pytest.raises(SettingsError, match=mentions):
            Settings.from_environ(env)


def test_serve_against_mongodb_needs_auth_or_the_insecure_flag() -> None:
    env = child_env(MONGODB_URI="mongodb://127.0.0.1:1/?directConnection=true")
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "serve"], env=env, check=False, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "--insecure-no-auth" in done.stderr
    assert Settings.from_environ(env, insecure_no_auth=True).insecure_no_auth


def test_create_indexes_needs_a_mongodb(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MONGODB_URI", raising=False)
    assert main(["create-indexes"]) == 2
    assert "needs MONGODB_URI" in capsys.readouterr().err
    # In a child process: the driver's refused connection attempt is its own to clean up.
    env = child_env(
        MONGODB_URI=f"mongodb://127.0.0.1:{free_port()}/?directConnection=true",
        JOB_GATEWAY_SERVER_SELECTION_TIMEOUT_MS="200",
        JOB_GATEWAY_INSECURE_NO_AUTH="1",
    )
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "create-indexes"],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and "unreachable" in done.stderr


def test_serve_refuses_bad_settings_with_one_line(tmp_path: Path) -> None:
    env = child_env(JOB_GATEWAY_MAX_PAGE_SIZE="-1")
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "serve"], env=env, check=False, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "job-gateway: JOB_GATEWAY_MAX_PAGE_SIZE must be a positive integer, got -1"
    ]
    missing = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--data", str(tmp_path / "none.json")],
        env=child_env(),
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "no such file" in missing.stderr


def _get(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> bytes:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.read()


def test_serve_runs_graphiql_and_rest_on_demo_data() -> None:
    with serving() as base:
        assert "graphiql" in _get(f"{base}/graphql", headers={"Accept": "text/html"}).decode().lower()
        body = json.dumps({"domain_id": DEMO_DOMAINS[0], "query": {"page": {"limit": 3}}}).encode()
        listed = json.loads(_get(f"{base}/inventory/v1/jobs/search", body, {"Content-Type": "application/json"}))
        assert len(listed["results"]) == 3 and listed["total_count"] > 1000
