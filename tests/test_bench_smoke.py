"""Keeps the benchmark scripts from rotting: one short scenario, end to end (a dataset,
a real server process, the load generator, the floor and the table)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, child_env


def test_bench_quick_run(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--out-dir", str(tmp_path)],
        env=child_env(),
        check=False,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| list, page of 20 |" in done.stdout and "Floor" in done.stdout
    report = json.loads((tmp_path / "quick.json").read_text())
    (row,) = report["rows"]
    assert row["errors"] == 0 and row["graphql_median_ms"] > 0 and row["rest_median_ms"] > 0
    assert (row["store_calls_graphql"], row["store_calls_rest"]) == (3, 3)
    assert report["floor_page20_ms"] > 0
