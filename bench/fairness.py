"""One tenant's heavy statistics against another tenant's small query, on the embedded
engine: how long the small query waits, with the fair scheduler (one queue per domain,
gateway/store/scheduler.py) and with one first-come worker, side by side in one run.

    python bench/fairness.py            # 40,000 jobs in the busy domain, 8 stat requests
    python bench/fairness.py --quick

Prints, per round, the small count's latency and the heavy requests' total time, and
the ratio small/heavy (first come: about 1, the count waits for every stat; fair:
about 0, the count runs beside them).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway.store.memory import MemoryJobStore
from gateway.store.scheduler import Scheduler

STAT = [
    {"$match": {"domain_id": "heavy"}},
    {"$group": {"_id": {"s": "$status", "d": "$created_at"}, "n": {"$sum": 1}}},
]


def _store(jobs: int, *, fair: bool) -> MemoryJobStore:
    store = MemoryJobStore(max_time_ms=600_000, scheduler=Scheduler(fair=fair) if fair else Scheduler(1, fair=False))
    at = datetime(2024, 5, 1)
    heavy = [{"domain_id": "heavy", "status": ("SUCCESS", "ERROR")[i % 2], "created_at": at} for i in range(jobs)]
    store.insert("job", [*heavy, *({"domain_id": "light", "status": "SUCCESS", "created_at": at} for _ in range(3))])
    store.prepare()
    return store


async def _round(jobs: int, requests: int, *, fair: bool) -> tuple[float, float]:
    """(the small count's latency, the heavy requests' total), in seconds."""
    store = _store(jobs, fair=fair)
    started = time.perf_counter()
    heavy = [asyncio.create_task(store.aggregate("job", STAT)) for _ in range(requests)]
    await asyncio.sleep(0)  # the heavy requests are queued first
    asked = time.perf_counter()
    await store.count("job", {"domain_id": "light", "status": "SUCCESS"})
    small = time.perf_counter() - asked
    await asyncio.gather(*heavy)
    total = time.perf_counter() - started
    await store.close()
    return small, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller run, to check the script works")
    args = parser.parse_args()
    jobs, requests, rounds = (4_000, 4, 2) if args.quick else (40_000, 8, 5)
    results: dict[str, list[tuple[float, float]]] = {"first come": [], "fair": []}
    for _ in range(rounds):  # alternated, so that machine drift hits both alike
        for name, rows in results.items():
            rows.append(asyncio.run(_round(jobs, requests, fair=name == "fair")))
    print(f"{requests} stat requests over {jobs:,} jobs of one domain, then a count of another ({rounds} rounds)")
    for name, rows in results.items():
        small = statistics.median(s for s, _ in rows) * 1000
        total = statistics.median(t for _, t in rows) * 1000
        ratio = statistics.median(s / t for s, t in rows)
        print(f"{name:>10}: count {small:8.1f} ms, heavy requests {total:8.1f} ms, count/heavy {ratio:.3f}")


if __name__ == "__main__":
    main()
