"""How the embedded engine scales: start-up, memory and the gateway's usual requests
at growing inventories, and how each grows with the data.

    python bench/embedded.py                       # 10k, 50k, 100k, 200k jobs
    python bench/embedded.py --sizes 1000,5000     # a quick look

For each size it loads the embedded store as `job-gateway serve` does (the published
example and the generated demo inventory, `gateway.store.factory.load_memory_store`),
and times through the service (compiler and store, no HTTP), the
median of ``--repeats`` runs of:

- list page 20: the default order (newest first), with its total count;
- list page 20, status + time window: SUCCESS jobs of the last 7 days;
- count: ``count_only`` over the domain;
- stat per day: jobs per day and status over 60 days (the bench's stat scenario).

Growth is each stage's time over the previous size's, printed beside the data's growth:
linear scaling keeps the two equal.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import resource
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scenarios import PER_DAY

DOMAIN = "domain-58010aa2e451"
TARGETS_AT_100K = {"list_ms": 50.0, "window_ms": 50.0, "count_ms": 20.0, "stat_ms": 1000.0, "startup_s": 5.0}

WINDOW = [{"k": "status", "v": "SUCCESS", "o": "eq"}, {"k": "created_at", "v": "now-7d", "o": "timediff_gte"}]


def _median_ms(call: Callable[[], Awaitable[Any]], repeats: int) -> float:
    async def timed() -> list[float]:
        await call()  # warm: compiled patterns, first-touch allocations
        out = []
        for _ in range(repeats):
            started = time.perf_counter()
            await call()
            out.append(time.perf_counter() - started)
        return out

    return statistics.median(asyncio.run(timed())) * 1000


def measure(jobs: int, repeats: int) -> dict[str, Any]:
    """One size: start-up (generate and load, as `serve` does), RSS, the four requests."""
    from gateway.service import JobService
    from gateway.settings import Settings
    from gateway.store.factory import load_memory_store

    gc.collect()
    started = time.perf_counter()
    store, _ = load_memory_store(Settings(demo_jobs=jobs))
    loaded = time.perf_counter()
    service = JobService(store)
    page = {"domain_id": DOMAIN, "query": {"page": {"limit": 20}}}
    window = {"domain_id": DOMAIN, "query": {"filter": WINDOW, "page": {"limit": 20}}}
    count = {"domain_id": DOMAIN, "query": {"count_only": True}}
    stat = {"domain_id": DOMAIN, "query": PER_DAY}
    row = {
        "jobs": jobs,
        "startup_s": round(loaded - started, 2),
        "rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "list_ms": round(_median_ms(lambda: service.list_jobs(page), repeats), 2),
        "window_ms": round(_median_ms(lambda: service.list_jobs(window), repeats), 2),
        "count_ms": round(_median_ms(lambda: service.list_jobs(count), repeats), 2),
        "stat_ms": round(_median_ms(lambda: service.stat(stat), max(3, repeats // 4)), 1),
    }
    asyncio.run(store.close())
    return row


STAGES = ("startup_s", "list_ms", "window_ms", "count_ms", "stat_ms")


def scaling(sizes: list[int], repeats: int) -> list[dict[str, Any]]:
    """The table's rows, each with the growth of every stage over the previous size."""
    rows: list[dict[str, Any]] = []
    for jobs in sizes:
        row = measure(jobs, repeats)
        if rows:
            prev = rows[-1]
            row["data_growth"] = round(jobs / prev["jobs"], 2)
            row["growth"] = {s: round(row[s] / prev[s], 2) if prev[s] else None for s in STAGES}
        rows.append(row)
    return rows


def render(rows: list[dict[str, Any]]) -> str:
    head = "| jobs | start-up s | RSS MiB* | list page 20 ms | status + window ms | count ms | stat per day ms |"
    lines = [head, "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['jobs']:,} | {r['startup_s']} | {r['rss_mib']} | {r['list_ms']} | {r['window_ms']} | "
            f"{r['count_ms']} | {r['stat_ms']} |"
        )
    lines += ["", "Growth over the previous size (linear: each equals the data's growth):", ""]
    lines += [
        "| jobs | data | start-up | list page 20 | status + window | count | stat per day |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows[1:]:
        g = r["growth"]
        lines.append(
            f"| {r['jobs']:,} | x{r['data_growth']} | x{g['startup_s']} | x{g['list_ms']} | x{g['window_ms']} | "
            f"x{g['count_ms']} | x{g['stat_ms']} |"
        )
    at = next((r for r in rows if r["jobs"] == 100_000), None)
    if at is not None:
        lines += ["", "At 100,000 jobs against the targets:", ""]
        for stage, target in TARGETS_AT_100K.items():
            verdict = "met" if at[stage] <= target else "MISSED"
            lines.append(f"- {stage}: {at[stage]} (target <= {target:g}) {verdict}")
    lines += ["", "*RSS: the benchmark process's peak, generated documents included."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,50000,100000,200000", help="comma-separated job counts")
    parser.add_argument("--repeats", type=int, default=20, help="timed runs per request (median; default 20)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    print(render(scaling(sizes, args.repeats)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
