"""Keeps the benchmark scripts from rotting: one short run of each, end to end (a
dataset, real server processes, the load generator, the floor and the table), writing
into a temporary directory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, child_env


def _bench(script: str, out: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), "--quick", "--out-dir", str(out), *args],
        env=child_env(),
        check=False,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_bench_quick_run(tmp_path: Path) -> None:
    stdout = _bench("run.py", tmp_path)
    assert "| list, page of 20 |" in stdout and "Floor" in stdout
    assert "The embedded engine, as it scales" in stdout and "| 2,000 |" in stdout and "x2.0" in stdout
    report = json.loads((tmp_path / "quick.json").read_text())
    (row,) = report["rows"]
    assert row["errors"] == 0 and row["graphql_median_ms"] > 0 and row["rest_median_ms"] > 0
    assert (row["store_calls_graphql"], row["store_calls_rest"]) == (3, 3)
    assert report["floor_page20_ms"] > 0


def test_bench_zero_cost_store_takes_the_store_out(tmp_path: Path) -> None:
    _bench("run.py", tmp_path, "--zero-cost-store")
    report = json.loads((tmp_path / "quick.json").read_text())
    (row,) = report["rows"]
    # Store calls still happen (and are counted); repeats are answered from memory, so
    # the floor (the store calls alone) is a small part of a REST request measured in
    # the same run (a ratio: a loaded machine slows both).
    assert row["errors"] == 0 and (row["store_calls_graphql"], row["store_calls_rest"]) == (3, 3)
    assert report["zero_cost_store"] is True and report["rest_over_floor_page20"] > 3


def test_bench_workers_quick_run(tmp_path: Path) -> None:
    stdout = _bench("workers.py", tmp_path)
    report = json.loads((tmp_path / "workers-quick.json").read_text())
    assert {(r["connections"], r["workers"]) for r in report["rows"]} == {(1, 1), (1, 2), (8, 1), (8, 2)}
    assert all(r["errors"] == 0 and r["rps"] > 0 for r in report["rows"])
    # Every connection of a run is held by one of the server's workers.
    assert all(sum(spread) == r["connections"] for r in report["rows"] for spread in r["connections_per_worker"])
    assert "| 8 | 2 |" in stdout


def test_bench_subscriptions_quick_run(tmp_path: Path) -> None:
    stdout = _bench("subscriptions.py", tmp_path)
    report = json.loads((tmp_path / "subscriptions-quick.json").read_text())
    assert report["error_count"] == 0 and report["updates"] == 50
    assert report["jobChanged"]["count"] > 0 and report["jobsLive"]["count"] > 0
    assert report["jobChanged_ws"]["count"] > 0 and report["jobChanged_sse"]["count"] > 0
    assert report["watched_updates"]["missed"] == 0
    # One query on the jobs per domain batch, whatever the number of subscribers.
    assert report["hub"]["job_queries_per_batch"] == 1.0
    assert report["subscriptions_active_after"] == "0.0"
    assert "PYTHONMALLOC=malloc" in report["allocator"]  # the server ran as the Docker image sets it
    assert "SSE / WebSocket" in stdout
