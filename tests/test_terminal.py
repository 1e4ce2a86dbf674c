"""What a person meets at the terminal: the start-up banner, text log lines and
loading progress on a terminal (a pseudo-terminal here) and JSON lines without one;
one-line errors for a malformed data file; --help generated from the settings table;
`dev-token`."""

from __future__ import annotations

import io
import json
import logging
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.banner import banner
from gateway.cli import build_parser, main
from gateway.devtoken import private_key_path
from gateway.logs import log_handler
from gateway.settings import Settings, settings_markdown, settings_table
from gateway.store.factory import LoadedData
from tests.conftest import FIXTURE, ROOT, child_env, memory_with
from tests.dataset import D1, dataset
from tests.processes import free_port, run_gateway, serving


def _on_a_terminal(args: list[str], until: bytes, timeout: float = 60.0) -> str:
    """Run `job-gateway serve ARGS` with a pseudo-terminal as stdin, stdout and stderr;
    return what it wrote up to ``until`` (and a little after), then stop it (Ctrl-C)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes the command
        os.execve(sys.executable, [sys.executable, "-m", "gateway", "serve", *args], child_env())
    out = b""
    deadline = time.monotonic() + timeout
    try:
        while until not in out and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.2)[0]:
                out += os.read(fd, 65536)
        time.sleep(0.5)
        while select.select([fd], [], [], 0.2)[0]:
            out += os.read(fd, 65536)
    finally:
        os.kill(pid, signal.SIGINT)
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert until in out, out.decode(errors="replace")[-3000:]
    assert os.waitstatus_to_exitcode(status) == 0
    return out.decode().replace("\r\n", "\n")


def test_banner_text_logs_and_progress_on_a_terminal(tmp_path: Path) -> None:
    data = tmp_path / "jobs.json"
    assert main(["generate", "--jobs", "12000", "--end", "2024-06-01T00:00:00", "--out", str(data)]) == 0
    port = free_port()
    out = _on_a_terminal(["--data", str(data), "--port", str(port)], b"Application startup complete")
    assert f"reading {data} (" in out and " done (" in out
    assert f"loading job documents of {data} [##############################] 12,000/12,000" in out
    banner = out[out.index("job-gateway ") :]
    assert f"on http://127.0.0.1:{port} (1 worker process)" in banner
    assert f"GraphiQL  http://127.0.0.1:{port}/graphql" in banner
    assert "POST /inventory/v1/jobs/search" in banner
    assert f"embedded engine: {data}" in banner and "12,000 jobs, 36 collectors, 2 domains" in banner
    assert "auth      OFF" in banner
    # Log lines for a person: time, level, logger, message; no JSON.
    started = next(line for line in out.splitlines() if "Application startup complete" in line)
    assert started.split()[1:] == ["INFO", "uvicorn.error:", "Application", "startup", "complete."]
    assert not any(line.startswith("{") for line in out.splitlines())


def test_json_logs_and_no_banner_without_a_terminal(tmp_path: Path) -> None:
    log = tmp_path / "stderr"
    with serving("--data", str(FIXTURE), stderr=log) as base:
        assert base
    lines = log.read_text().splitlines()
    entries = [json.loads(line) for line in lines]  # every line is JSON
    assert any(e["message"] == "Application startup complete." and e["level"] == "info" for e in entries)
    assert "GraphiQL" not in log.read_text()


def test_log_format_setting_forces_text_lines(tmp_path: Path) -> None:
    log = tmp_path / "stderr"
    with serving("--data", str(FIXTURE), stderr=log, env=child_env(JOB_GATEWAY_LOG_FORMAT="text")):
        pass
    text = log.read_text()
    assert "GraphiQL" in text and "INFO    uvicorn.error: Application startup complete." in text


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (
            '{"collections": {"job": [{"job_id": "a"},\n {"job_id": "b",, }]}}',
            "line 2 column 17: expected a key in double quotes",
        ),
        ('{"collections": {"job": {"job_id": "a"}}}', 'collections.job must be a list of objects, got {"job_id":"a"}'),
        (
            '{"collections": {"collector": [{}], "job": [{}, {"created_at": {"$date": "soon"}}]}}',
            'collections.job[1].created_at: {"$date":"soon"} is not a date',
        ),
        # Deeper than Python's recursion limit: once a traceback.
        (
            '{"collections": {"job": [' + "[" * 100_000,
            "collections.job[0][0][0][0][0][0]… (line 1 column 123): documents and",
        ),
    ],
)
def test_malformed_data_file_stops_start_up_with_one_line(tmp_path: Path, content: str, problem: str) -> None:
    data = tmp_path / "data.json"
    data.write_text(content)
    done = run_gateway("serve", "--data", str(data), "--port", str(free_port()))
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"job-gateway: {data}: ") and problem in line


def test_readme_settings_table_is_the_settings_table() -> None:
    readme = (ROOT / "README.md").read_text()
    assert settings_markdown() in readme, (
        "README's settings table differs from gateway/settings.py; paste the output of "
        'python -c "from gateway.settings import settings_markdown; print(settings_markdown())"'
    )


def test_help_lists_every_setting_with_its_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = capsys.readouterr().out
    for row in settings_table():
        line = next(line for line in text.splitlines() if line.strip().startswith(row.env + " "))
        assert line.split()[1] == row.shown_default, line
        if row.flag:
            assert f"{row.flag} " in text
    with pytest.raises(SystemExit):
        main(["create-indexes", "--help"])
    assert "MONGODB_URI" in capsys.readouterr().out


def test_serve_flags_come_from_the_settings_table() -> None:
    flagged = {row.flag for row in settings_table() if row.flag}
    assert flagged == {"--data", "--host", "--port", "--workers", "--insecure-no-auth", "--simulate"}


def test_dev_token_refuses_mongodb(tmp_path: Path) -> None:
    done = run_gateway(
        "dev-token",
        "--domain",
        D1,
        "--keys",
        str(tmp_path / "k.json"),
        env=child_env(MONGODB_URI="mongodb://db.example"),
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [done.stderr.strip()] and "refuses to run with MONGODB_URI" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_dev_token_authenticates_against_its_key_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MONGODB_URI", raising=False)
    keys = tmp_path / "dev-keys.json"
    assert main(["dev-token", "--domain", D1, "--keys", str(keys), "--projects", "project-a"]) == 0
    scoped = capsys.readouterr().out.strip()
    written = keys.read_text()
    assert main(["dev-token", "--domain", D1, "--keys", str(keys)]) == 0
    whole = capsys.readouterr().out.strip()
    assert keys.read_text() == written  # the key pair is made once
    assert oct(private_key_path(keys).stat().st_mode & 0o777) == "0o600"
    assert jwt.decode(scoped, options={"verify_signature": False})["projects"] == ["project-a"]
    app = create_app(Settings(jwt_public_keys=str(keys)), memory_with(dataset()))
    with TestClient(app) as client:
        search = "/inventory/v1/jobs/search"
        assert client.post(search, json={}).status_code == 401
        every = client.post(search, json={}, headers={"Authorization": f"Bearer {whole}"}).json()["results"]
        some = client.post(search, json={}, headers={"Authorization": f"Bearer {scoped}"}).json()["results"]
    assert every and {j["domain_id"] for j in every} == {D1}
    expected = {j["job_id"] for j in dataset()["job"] if j["domain_id"] == D1 and "project-a" in j.get("projects", [])}
    assert expected and {j["job_id"] for j in some} == expected and len(some) < len(every)


def test_ctrl_c_while_loading_data_exits_130_with_one_line(tmp_path: Path) -> None:
    """SIGINT as the data file is read: no traceback, no banner, exit status 130."""
    data = tmp_path / "jobs.json"
    assert main(["generate", "--jobs", "150000", "--end", "2024-06-01T00:00:00", "--out", str(data)]) == 0
    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes the command
        command = [sys.executable, "-m", "gateway", "serve", "--data", str(data), "--port", str(free_port())]
        os.execve(sys.executable, command, child_env())
    out = b""
    try:
        while f"reading {data}".encode() not in out:
            assert select.select([fd], [], [], 60)[0], out
            out += os.read(fd, 65536)
        os.kill(pid, signal.SIGINT)
        while True:  # until the child closes the terminal
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    text = out.decode(errors="replace").replace("\r\n", "\n")
    assert os.waitstatus_to_exitcode(status) == 130, text
    assert "Traceback" not in text and "GraphiQL" not in text, text  # stopped while loading
    lines = [line for line in text.split("\n") if line.strip()]
    assert lines[-1] == "job-gateway: interrupted", text


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The one line `job-gateway ARGV` prints before exiting with status 2 (nothing on stdout)."""
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("job-gateway: "), (out, err)
    return err.strip().removeprefix("job-gateway: ")


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--hours", "0"], "--hours must be a number of hours above 0 and at most 8784, got 0"),
        (["--hours", "-1.5"], "--hours must be a number of hours above 0 and at most 8784, got -1.5"),
        (["--hours", "nan"], "got nan"),
        (["--hours", "inf"], "got inf"),
        (["--hours", "9000"], "got 9000"),
        (["--domain", ""], '--domain must be an id without spaces or control characters, got ""'),
        (["--domain", "a b"], 'got "a b"'),
        (["--domain", "d\x1b[31m"], 'got "d\\u001b[31m"'),
        (["--projects", "p1", ""], '--projects must be an id without spaces or control characters, got ""'),
    ],
)
def test_dev_token_refuses_bad_claims(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: list[str], problem: str
) -> None:
    monkeypatch.delenv("MONGODB_URI", raising=False)
    argv = ["dev-token", "--domain", D1, "--keys", str(tmp_path / "k.json"), *args]
    assert _refused(argv, capsys).endswith(problem)
    assert list(tmp_path.iterdir()) == []


def test_dev_token_refuses_key_files_it_cannot_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MONGODB_URI", raising=False)

    def refused(keys: Path, *more: str) -> str:
        return _refused(["dev-token", "--domain", D1, "--keys", str(keys), *more], capsys)

    (tmp_path / "a-file").write_text("")
    assert (
        refused(tmp_path / "a-file" / "k.json")
        == f"--keys: {tmp_path}/a-file/k.json: {tmp_path}/a-file is a file, not a folder"
    )
    assert refused(tmp_path) == f"--keys: {tmp_path} is a directory: give the keys file's name"
    assert (
        refused(Path("/proc/no-such/k.json"))
        == "--keys: cannot make the folder /proc/no-such: No such file or directory"
    )
    assert refused(Path("/proc/k.json")).startswith("--keys: cannot write /proc/k.private.pem: ")
    (tmp_path / "text.json").write_text("nope")
    assert refused(tmp_path / "text.json").startswith(f"--keys: {tmp_path}/text.json is not JSON: ")
    (tmp_path / "list.json").write_text("[]")
    assert refused(tmp_path / "list.json").endswith("must be an object of domain ids to public JWKs, got a list []")
    (tmp_path / "junk.private.pem").write_text("junk")
    assert refused(tmp_path / "junk.json") == (
        f"--keys: {tmp_path}/junk.private.pem is not an unencrypted RSA private key (PEM) of dev-token's: "
        "remove it, or choose another --keys file"
    )
    # A key file made for the domain with another signing key: never overwritten.
    keys = tmp_path / "dev-keys.json"
    assert main(["dev-token", "--domain", D1, "--keys", str(keys)]) == 0
    capsys.readouterr()
    written = keys.read_text()
    private_key_path(keys).unlink()
    assert refused(keys).startswith(f'--keys: {keys} already holds another key for "{D1}" (not the one in ')
    assert keys.read_text() == written
    # Another domain is added beside it; both keys serve.
    assert main(["dev-token", "--domain", "domain-other", "--keys", str(keys)]) == 0
    assert set(json.loads(keys.read_text())) == {D1, "domain-other"}


def test_gitignore_keeps_dev_token_files_out() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", "dev-keys.json", "dev-keys.private.pem"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ignored.stdout.split() == ["dev-keys.json", "dev-keys.private.pem"]


def test_text_log_lines_show_values_as_json() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("tests.text-lines")
    logger.addHandler(log_handler(stream, text=True))
    logger.propagate = False
    try:
        extra = {"pids": [1, 2], "reason": {"a": "b c"}, "value": None, "on": True, "path": "/tmp/x.json", "why": "a b"}
        logger.warning("started", extra=extra)
    finally:
        logger.handlers.clear()
    (line,) = stream.getvalue().splitlines()
    assert line.split(" ", 1)[1] == (
        'WARNING tests.text-lines: started pids=[1,2] reason={"a":"b c"} value=null on=true path=/tmp/x.json why="a b"'
    )


@pytest.mark.parametrize(("jobs", "domains", "workers"), [(1, 1, 1), (2, 2, 2)])
def test_banner_counts_read_as_english(jobs: int, domains: int, workers: int) -> None:
    data = LoadedData("x.json", jobs, jobs, domains)
    text = banner(Settings(workers=workers), "127.0.0.1", 1, data)
    s = "" if jobs == 1 else "s"
    assert f"{jobs} job{s}, {jobs} collector{s}, {domains} domain{s}" in text
    assert f"({workers} worker process{'' if workers == 1 else 'es'})" in text


# Commands the README's set-up installs into .venv: written .venv/bin/NAME everywhere.
_VENV_COMMANDS = {"job-gateway", "python", "pytest", "ruff", "mypy", "pip"}


def _readme_commands() -> list[list[str]]:
    """Every command the README shows (fenced shell blocks, inline code), as words,
    environment assignments left out."""
    text = (ROOT / "README.md").read_text()
    code = [*re.findall(r"```sh\n(.*?)```", text, re.DOTALL), *re.findall(r"(?<!`)`([^`\n]+(?:\n[^`\n]+)?)`", text)]
    commands = []
    for block in code:
        for written in block.replace("\\\n", " ").splitlines():
            line = written.split(" #", 1)[0].strip()
            if not line or line.startswith("#"):
                continue
            for part in re.split(r"&&|\|\||[|;]|\$\(|\)", line):
                words = part.split()
                while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
                    words = words[1:]
                if words:
                    commands.append(words)
    return commands


def test_readme_runs_commands_from_the_set_up_virtualenv() -> None:
    commands = _readme_commands()
    bare = [" ".join(words) for words in commands if words[0] in _VENV_COMMANDS]
    assert bare == [], "write these as .venv/bin/NAME, as the README's set-up installs them"
    gateway = [words[1:] for words in commands if words[0] == ".venv/bin/job-gateway"]
    assert len(gateway) >= 10
    for args in gateway:  # each one parses (placeholders written in capitals or "..." are not checked)
        if not any(word in {"FILE", "N", "...", "[--data", "--help"} for word in args):
            build_parser().parse_args(args)


def test_readme_error_codes_are_the_error_classes() -> None:
    from gateway.errors import GatewayError, error_codes_markdown

    readme = (ROOT / "README.md").read_text()
    assert error_codes_markdown() in readme, (
        "README's error codes differ from gateway/errors.py; paste the output of "
        'python -c "from gateway.errors import error_codes_markdown; print(error_codes_markdown())"'
    )

    def codes(cls: type[GatewayError]) -> set[str]:
        return {cls.code, *(c for sub in cls.__subclasses__() for c in codes(sub))}

    for code in codes(GatewayError) - {GatewayError.code}:
        assert f"| `{code}` |" in readme, code
