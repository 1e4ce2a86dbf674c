"""The command line: generate, export-schema, settings validation, and `serve`
actually serving GraphiQL and REST on the embedded demo data."""

from __future__ import annotations

import json
import os
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.cli import main
from gateway.demo import DEMO_DOMAINS, generate_dataset
from gateway.settings import Settings, SettingsError
from gateway.store.datafile import read_data_file
from tests.conftest import ROOT, child_env
from tests.processes import free_port, run_gateway, serving

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
    done = run_gateway("serve", env=env)
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
    done = run_gateway("create-indexes", env=env)
    assert done.returncode == 1 and "unreachable" in done.stderr


def test_serve_refuses_bad_settings_with_one_line(tmp_path: Path) -> None:
    env = child_env(JOB_GATEWAY_MAX_PAGE_SIZE="-1")
    done = run_gateway("serve", env=env)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "job-gateway: JOB_GATEWAY_MAX_PAGE_SIZE must be a positive integer, got -1"
    ]
    missing = run_gateway("serve", "--data", str(tmp_path / "none.json"))
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


README_PLACEHOLDER = {"domain-58010aa2e451": {"kty": "RSA", "n": "...", "e": "AQAB"}}
BAD_KEY_FILES: list[tuple[Any, str]] = [
    (None, "JOB_GATEWAY_JWT_PUBLIC_KEYS: {path}: no such file"),
    ("not json", "JOB_GATEWAY_JWT_PUBLIC_KEYS: {path} is not JSON: line 1 column 1: expected a JSON value"),
    ('{"d": {"kty": "RSA",}}', 'JOB_GATEWAY_JWT_PUBLIC_KEYS: {path} is not JSON: line 1 column 21: expected a key in double quotes'),
    ("[" * 100_000, "JOB_GATEWAY_JWT_PUBLIC_KEYS: {path} nests arrays or objects too deeply to read"),
    ('{"d": ' + "9" * 5000 + "}", "JOB_GATEWAY_JWT_PUBLIC_KEYS: {path} holds a number too long to read"),
    ('{"d": "\x01"}', "JOB_GATEWAY_JWT_PUBLIC_KEYS: {path} is not JSON: line 1 column 8: a control character inside a string"),
    ([], "JOB_GATEWAY_JWT_PUBLIC_KEYS: {path} must be an object of domain ids to public JWKs, got a list []"),
    ({}, "JOB_GATEWAY_JWT_PUBLIC_KEYS: {path} must be an object of domain ids to public JWKs, got an object {{}}"),
    ({"d": "notajwk"}, 'JOB_GATEWAY_JWT_PUBLIC_KEYS: {path}: the key of "d" must be a JWK object, got a string "notajwk"'),
    ({"d": None}, 'JOB_GATEWAY_JWT_PUBLIC_KEYS: {path}: the key of "d" must be a JWK object, got null'),
    ({"d": {"kty": "EC"}}, 'JOB_GATEWAY_JWT_PUBLIC_KEYS: {path}: the key of "d" must be an RSA JWK ("kty": "RSA"), got "kty": "EC"'),
    (README_PLACEHOLDER, 'JOB_GATEWAY_JWT_PUBLIC_KEYS: {path}: the key of "domain-58010aa2e451" is not an RSA public JWK'),
]  # fmt: skip


@pytest.fixture
def no_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    """`serve` fails the test if it gets as far as loading data, printing the banner
    or serving."""
    import gateway.server

    def reached(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("serve went past the settings check")

    for name in ("load_memory_store", "banner", "serve"):
        monkeypatch.setattr(gateway.server, name, reached)
    for name in [k for k in os.environ if k.startswith("JOB_GATEWAY_") or k == "MONGODB_URI"]:
        monkeypatch.delenv(name)


@pytest.mark.parametrize(("content", "expected"), BAD_KEY_FILES)
def test_a_bad_public_keys_file_stops_serve_with_one_line_before_loading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], no_serving: None,
    content: Any, expected: str,
) -> None:  # fmt: skip
    path = tmp_path / "keys.json"
    if content is not None:
        path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    monkeypatch.setenv("JOB_GATEWAY_JWT_PUBLIC_KEYS", str(path))
    assert main(["serve", "--port", str(free_port())]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("job-gateway: " + expected.format(path=path)), line


@pytest.mark.parametrize("variable", ["JOB_GATEWAY_JWT_PUBLIC_KEYS", "JOB_GATEWAY_TRUSTED_DOCUMENTS"])
@pytest.mark.parametrize("path", ["/tmp", "/dev/zero"])
def test_a_setting_naming_something_else_than_a_file_stops_serve_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], no_serving: None, variable: str, path: str
) -> None:
    monkeypatch.setenv(variable, path)
    assert main(["serve", "--port", str(free_port())]) == 2
    assert capsys.readouterr().err.splitlines() == [f"job-gateway: {variable}: {path} is not a file"]


@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        (["--workers", "0"], {}, "--workers must be a positive integer, got 0"),
        (["--port", "70000"], {}, "--port must be between 1 and 65535, got 70000"),
        ([], {"JOB_GATEWAY_WORKERS": "0"}, "JOB_GATEWAY_WORKERS must be a positive integer, got 0"),
        ([], {"JOB_GATEWAY_MAX_TIME_MS": "1000000000"}, "JOB_GATEWAY_MAX_TIME_MS must be between 1 and 86400000, got 1000000000"),
        ([], {"JOB_GATEWAY_MAX_TIME_MS": "1e9"}, 'JOB_GATEWAY_MAX_TIME_MS must be an integer, got "1e9"'),
        ([], {"JOB_GATEWAY_PORT": "x'y"}, "JOB_GATEWAY_PORT must be an integer, got \"x'y\""),
        ([], {"JOB_GATEWAY_LOG_FORMAT": "x"}, 'JOB_GATEWAY_LOG_FORMAT must be one of auto, json, text, got "x"'),
        ([], {"JOB_GATEWAY_DATABASE": "a$b"}, 'JOB_GATEWAY_DATABASE must be a non-empty name without $, got "a$b"'),
        (["--data", "/tmp"], {}, "--data /tmp: not a file"),
        (
            ["--insecure-no-auth"], {"MONGODB_URI": "mongodb://h/?w=1&Foo_Bar=x"},
            'MONGODB_URI option "Foo_Bar": not a MongoDB URI option.',
        ),
        (
            ["--insecure-no-auth"], {"MONGODB_URI": "mongodb://u:secret@h/?authMechanism=NOPE"},
            'MONGODB_URI option "authMechanism": authmechanism must be one of ',
        ),
    ],
)  # fmt: skip
def test_settings_errors_name_what_the_person_typed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], no_serving: None,
    argv: list[str], env: dict[str, str], expected: str,
) -> None:  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["serve", *argv]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"job-gateway: {expected}"), line
    assert "'" not in line.replace("x'y", "") and "secret" not in line, line


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["generate", "--out", "{tmp}"], "--out {tmp}: cannot write: Is a directory"),
        (
            ["generate", "--out", "{tmp}/no/such.json"],
            "--out {tmp}/no/such.json: cannot write: No such file or directory",
        ),
        (
            ["generate", "--end", "soon", "--out", "{tmp}/g.json"],
            '--end must be an ISO 8601 date or instant (2024-06-01, 2024-06-01T12:00:00Z), got "soon"',
        ),
        (["generate", "--jobs", "-1", "--out", "{tmp}/g.json"], "--jobs must not be negative, got -1"),
        (["generate", "--collectors", "0", "--out", "{tmp}/g.json"], "--collectors must be at least 1, got 0"),
        (["export-schema", "--out", "{tmp}"], "--out {tmp}: cannot write: Is a directory"),
        (["export-documents", "--operations", "{tmp}/none"], "--operations {tmp}/none: no such folder"),
        (["export-documents", "--out", "{tmp}/file"], "--out {tmp}/file: not a folder"),
    ],
)
def test_a_command_given_a_bad_flag_or_path_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], problem: str
) -> None:
    (tmp_path / "file").write_text("")
    assert main([arg.format(tmp=tmp_path) for arg in argv]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.splitlines() == [f"job-gateway: {problem.format(tmp=tmp_path)}"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # nothing written
