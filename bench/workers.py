"""One worker process against two: latency and requests/s of a GraphQL page of 20 at
1, 8 and 64 keep-alive connections, with the store's cost taken out.

    python bench/workers.py            # the table in docs/performance.md (about 1 minute)
    python bench/workers.py --quick    # a few seconds, to check the script still works

Both servers run side by side (`bench/server.py --zero-cost-store`, so the embedded
engine's scan does not hide the gateway's cost), and are measured alternately, round by
round, so that machine drift hits both equally. It also reads, from /proc, the CPU
time the workers used (100% is one core busy throughout) and, while each run is going,
how the connections spread over the worker processes (the kernel hands each new
connection to whichever worker accepts first).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from load import Result, drive, graphql_ok  # noqa: E402
from run import DOMAIN, HOST, OUT, free_port, generate, median_ms, p99_ms, server, throughput  # noqa: E402
from scenarios import list_page  # noqa: E402

WORKERS = (1, 2)


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def connections_per_worker(server_pid: int, port: int) -> list[int]:
    """Established connections to ``port`` held by each worker process, most first
    (Linux /proc; empty elsewhere)."""
    try:
        workers = _children(server_pid) or [server_pid]
        established = set()
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].split(":")[1], 16) == port and fields[3] == "01":
                established.add(fields[9])
        held: Counter[int] = Counter()
        for pid in workers:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in established:
                    held[pid] += 1
        return sorted((held[pid] for pid in workers), reverse=True)
    except OSError:
        return []


def cpu_seconds(server_pid: int) -> float:
    """CPU time (user + system) used so far by the server's worker processes."""
    total = 0
    for pid in _children(server_pid) or [server_pid]:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


async def _measured(port: int, server_pid: int, connections: int, seconds: float) -> tuple[Result, list[int], float]:
    """One run: its result, the connections each worker held, and the workers' CPU
    time over the run (seconds)."""
    request = list_page(DOMAIN, 20).graphql
    cpu = cpu_seconds(server_pid)
    run = asyncio.ensure_future(drive(HOST, port, request, concurrency=connections, seconds=seconds, check=graphql_ok))
    await asyncio.sleep(min(0.5, seconds / 2))
    spread = connections_per_worker(server_pid, port)
    result = await run
    return result, spread, cpu_seconds(server_pid) - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=5000, help="jobs in the dataset (default 5000)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per measurement per round (default 3)")
    parser.add_argument(
        "--connections", type=int, nargs="+", default=[1, 8, 64], help="connection counts (default 1 8 64)"
    )
    parser.add_argument("--out-dir", type=Path, default=OUT, help="where datasets and results go (default bench/out)")
    parser.add_argument("--quick", action="store_true", help="one short round: checks the script")
    args = parser.parse_args(argv)
    if args.quick:
        args.jobs, args.rounds, args.seconds, args.connections = 300, 1, 0.3, [1, 8]

    data = generate(args.jobs, args.out_dir)
    ports = {w: free_port() for w in WORKERS}
    results = {(c, w): Result() for c in args.connections for w in WORKERS}
    cpu = dict.fromkeys(results, 0.0)
    spreads: dict[tuple[int, int], list[list[int]]] = {(c, w): [] for c in args.connections for w in WORKERS}
    with (
        server(data, ports[1], workers=1, zero_cost=True) as one,
        server(data, ports[2], workers=2, zero_cost=True) as two,
    ):
        pids = {1: one.pid, 2: two.pid}
        for w in WORKERS:  # warm-up: fills the zero-cost store and the parser caches of every worker
            asyncio.run(_measured(ports[w], pids[w], max(args.connections), min(args.seconds, 1.0)))
        for round_ in range(args.rounds):
            for c in args.connections:
                for w in WORKERS if round_ % 2 == 0 else tuple(reversed(WORKERS)):
                    result, spread, used = asyncio.run(_measured(ports[w], pids[w], c, args.seconds))
                    results[c, w].merge(result)
                    cpu[c, w] += used
                    spreads[c, w].append(spread)
    rows = [
        {
            "connections": c,
            "workers": w,
            "median_ms": round(median_ms(results[c, w]), 2),
            "p99_ms": round(p99_ms(results[c, w]), 2),
            "rps": round(throughput(results[c, w]), 1),
            "connections_per_worker": spreads[c, w],
            # 100 means one core busy all the time.
            "server_cpu_pct": round(cpu[c, w] / results[c, w].elapsed * 100),
            "errors": results[c, w].errors,
        }
        for c in args.connections
        for w in WORKERS
    ]
    report = {"jobs": args.jobs, "rounds": args.rounds, "seconds": args.seconds, "cpus": os.cpu_count(), "rows": rows}
    print(render(report))
    (args.out_dir / ("workers-quick.json" if args.quick else "workers.json")).write_text(json.dumps(report, indent=2))
    return 0 if all(r["errors"] == 0 for r in rows) else 1


def render(report: dict[str, Any]) -> str:
    lines = [
        "| connections | workers | median ms | p99 ms | req/s | server CPU % | connections per worker, each round | 2 workers / 1: latency, req/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    by_key = {(r["connections"], r["workers"]): r for r in report["rows"]}
    for r in report["rows"]:
        ratio = ""
        if r["workers"] == 2 and (r["connections"], 1) in by_key:
            base = by_key[r["connections"], 1]
            ratio = f"**{r['median_ms'] / base['median_ms']:.2f}**, **{r['rps'] / base['rps']:.2f}**"
        spread = ", ".join("+".join(str(n) for n in per_round) or "?" for per_round in r["connections_per_worker"])
        lines.append(
            f"| {r['connections']} | {r['workers']} | {r['median_ms']} | {r['p99_ms']} | {r['rps']} | {r['server_cpu_pct']} | {spread} | {ratio} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
