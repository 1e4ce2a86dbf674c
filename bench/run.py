"""Benchmark job-gateway: GraphQL against REST on the same data and the same logical
requests, and both against the floor (the store calls alone).

    python bench/run.py                 # the full run documented in docs/performance.md
    python bench/run.py --quick         # a few seconds, to check the scripts still work

It generates a dataset (`job-gateway generate`), starts `job-gateway serve` on
loopback in its own process, and drives it from this process at fixed concurrency,
alternating the scenarios round by round so that machine drift hits them equally.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from embedded import render as render_scaling  # noqa: E402
from embedded import scaling  # noqa: E402
from load import Request, Result, drive, graphql_ok, one  # noqa: E402
from scenarios import Scenario, list_page, scenarios  # noqa: E402
from stores import ZeroCostStore  # noqa: E402

OUT = HERE / "out"
DOMAIN = "domain-58010aa2e451"
HOST = "127.0.0.1"


def newest_job_id(data: Path) -> str:
    """A job of the benchmark's domain that exists in the dataset (with its collector)."""
    jobs = json.loads(data.read_text())["collections"]["job"]
    return next(j["job_id"] for j in jobs if j["domain_id"] == DOMAIN and j.get("collector_id"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def generate(jobs: int, out: Path = OUT) -> Path:
    """A dataset of ``jobs`` jobs in ``out`` ending at today's midnight (UTC), made once
    a day, then reused: the scenarios' relative windows (``now/d-60d``) must hold jobs,
    so a dataset is named by the day it ends on."""
    out.mkdir(parents=True, exist_ok=True)
    end = datetime.now(UTC).strftime("%Y-%m-%d")
    path = out / f"jobs-{jobs}-{end}.json"
    if not path.exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "gateway",
                "generate",
                "--jobs",
                str(jobs),
                "--end",
                f"{end}T00:00:00",
                "--out",
                str(path),
            ],
            check=True,
        )
    return path


@contextmanager
def server(data: Path, port: int, *, workers: int = 1, zero_cost: bool = False) -> Any:
    """`job-gateway serve --data DATA` on ``port`` (through bench/server.py, which adds
    ``--zero-cost-store``), until the block ends."""
    env = {**os.environ, "JOB_GATEWAY_LOG_LEVEL": "warning", "JOB_GATEWAY_MAX_PAGE_SIZE": "1000"}
    env.pop("MONGODB_URI", None)
    command = [sys.executable, str(HERE / "server.py"), "--data", str(data), "--port", str(port)]
    command += ["--workers", str(workers), *(["--zero-cost-store"] if zero_cost else [])]
    with serving(command, env, port) as proc:
        yield proc


@contextmanager
def serving(command: list[str], env: dict[str, str], port: int) -> Any:
    """The server ``command`` starts, once it answers on ``port``, until the block ends."""
    with subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as proc:
        try:
            wait_until_serving(port)
            yield proc
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def wait_until_serving(port: int, seconds: float = 60) -> None:
    """Return once the server on ``port`` answers /healthz with 200; RuntimeError after
    ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if asyncio.run(one(HOST, port, Request("GET", "/healthz")))[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not start")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def store_calls(port: int, request: Request) -> int:
    """Store calls one request costs, read from the server's own metrics."""

    def total() -> float:
        _, body = asyncio.run(one(HOST, port, Request("GET", "/metrics")))
        counts = re.findall(r"^job_gateway_store_call_duration_seconds_count\{[^}]*\} (\S+)$", body.decode(), re.M)
        return sum(float(c) for c in counts)

    before = total()
    status, body = asyncio.run(one(HOST, port, request))
    assert status == 200 and graphql_ok(body), body[:300]
    return round(total() - before)


def selection_calls(port: int) -> dict[str, int]:
    """Store calls of a GraphQL page of 20 as the selection narrows."""
    selections = {
        "totalCount + collectorInfo": "totalCount results { jobId collectorInfo { name } }",
        "collectorInfo, no totalCount": "results { jobId collectorInfo { name } }",
        "neither": "results { jobId status }",
    }
    query = "query($d: String!) {{ jobs(domainId: $d, query: {{page: {{limit: 20}}}}) {{ {} }} }}"
    return {
        name: store_calls(port, Request("POST", "/graphql", {"query": query.format(sel), "variables": {"d": DOMAIN}}))
        for name, sel in selections.items()
    }


def median_ms(result: Result) -> float:
    return statistics.median(result.latencies) * 1000


def p99_ms(result: Result) -> float:
    ordered = sorted(result.latencies)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


def throughput(result: Result) -> float:
    return len(result.latencies) / result.elapsed if result.elapsed else 0.0


def measure(
    port: int, pairs: list[tuple[str, Request, Request]], *, rounds: int, seconds: float, concurrency: int
) -> dict[str, dict[str, Result]]:
    """Alternate GraphQL and REST of every pair, round after round."""
    results = {name: {"graphql": Result(), "rest": Result()} for name, _, _ in pairs}
    for _name, gql, rest in pairs:  # warm-up: parser and validation caches, allocator
        asyncio.run(drive(HOST, port, gql, concurrency=concurrency, seconds=min(seconds, 0.5), check=graphql_ok))
        asyncio.run(drive(HOST, port, rest, concurrency=concurrency, seconds=min(seconds, 0.5)))
    for round_ in range(rounds):
        for name, gql, rest in pairs:
            order = [("graphql", gql), ("rest", rest)] if round_ % 2 == 0 else [("rest", rest), ("graphql", gql)]
            for kind, request in order:
                check = graphql_ok if kind == "graphql" else None
                results[name][kind].merge(
                    asyncio.run(drive(HOST, port, request, concurrency=concurrency, seconds=seconds, check=check))
                )
    return results


def floor_ms(data: Path, scenario: Scenario, repeats: int, *, zero_cost: bool = False) -> float:
    """The store calls of the scenario's REST request, replayed on the embedded store
    (or the zero-cost store) without HTTP, GraphQL or JSON."""
    from gateway.query.listing import Limits
    from gateway.service import JobService
    from gateway.store.datafile import read_data_file
    from gateway.store.memory import MemoryJobStore

    memory = MemoryJobStore()
    for name, docs in read_data_file(data).items():
        memory.insert(name, docs)
    store: Any = ZeroCostStore(memory) if zero_cost else memory
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    class Recorder:
        def __getattr__(self, name: str) -> Any:
            method = getattr(store, name)

            async def record(*args: Any, **kwargs: Any) -> Any:
                calls.append((name, args, kwargs))
                return await method(*args, **kwargs)

            return record

    async def record_once() -> None:
        service = JobService(Recorder(), limits=Limits())  # type: ignore[arg-type]
        page = await service.list_jobs(scenario.service_call[1])
        await service.page_collectors(page)  # as the REST route does

    async def replay() -> None:
        for name, args, kwargs in calls:
            await getattr(store, name)(*args, **kwargs)

    asyncio.run(record_once())
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        asyncio.run(replay())
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def soak(port: int, pid: int, requests: list[Request], *, seconds: float, concurrency: int) -> dict[str, Any]:
    asyncio.run(drive(HOST, port, requests[0], concurrency=concurrency, seconds=min(5.0, seconds / 3)))
    warm = rss_mib(pid)

    async def mixed() -> list[Result]:
        share = concurrency // len(requests)
        return await asyncio.gather(
            *(drive(HOST, port, r, concurrency=share, seconds=seconds, check=graphql_ok) for r in requests)
        )

    results = asyncio.run(mixed())
    end = rss_mib(pid)
    return {
        "connections": concurrency,
        "seconds": seconds,
        "requests": sum(len(r.latencies) for r in results),
        "errors": sum(r.errors for r in results),
        "rss_after_warmup_mib": round(warm, 1),
        "rss_at_end_mib": round(end, 1),
        "rss_growth_pct": round((end - warm) / warm * 100, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=5000, help="jobs in the dataset (default 5000)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds per scenario per round (default 2)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="connections for the latency runs (default 1: latency is service time)",
    )
    parser.add_argument(
        "--soak-seconds", type=float, default=30.0, help="the 64-connection run (default 30, 0 to skip)"
    )
    parser.add_argument(
        "--zero-cost-store",
        action="store_true",
        help="serve through a store whose repeated calls cost nothing: measures the gateway alone",
    )
    parser.add_argument("--quick", action="store_true", help="one short round of one scenario: checks the scripts")
    parser.add_argument("--out-dir", type=Path, default=OUT, help="where datasets and results go (default bench/out)")
    parser.add_argument(
        "--embedded-sizes",
        default="10000,50000,100000,200000",
        help="job counts of the embedded engine's scaling table (bench/embedded.py; '' to skip)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.jobs, args.rounds, args.seconds, args.soak_seconds = 300, 1, 0.3, 0
        args.embedded_sizes = "1000,2000"

    data = generate(args.jobs, args.out_dir)
    port = free_port()
    report: dict[str, Any] = {
        "jobs": args.jobs,
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "seconds": args.seconds,
        "zero_cost_store": args.zero_cost_store,
    }
    chosen = [list_page(DOMAIN, 20)] if args.quick else scenarios(DOMAIN, newest_job_id(data))
    with server(data, port, zero_cost=args.zero_cost_store) as proc:
        calls = {s.name: (store_calls(port, s.graphql), store_calls(port, s.rest)) for s in chosen}
        report["store_calls_per_list_request"] = selection_calls(port)
        results = measure(
            port,
            [(s.name, s.graphql, s.rest) for s in chosen],
            rounds=args.rounds,
            seconds=args.seconds,
            concurrency=args.concurrency,
        )
        if args.soak_seconds:
            report["soak"] = soak(
                port,
                proc.pid,
                [list_page(DOMAIN, 20).graphql, list_page(DOMAIN, 20).rest],
                seconds=args.soak_seconds,
                concurrency=64,
            )
    floor = floor_ms(data, chosen[0], repeats=20 if args.quick else 300, zero_cost=args.zero_cost_store)

    rows = []
    for s in chosen:
        g, r = results[s.name]["graphql"], results[s.name]["rest"]
        rows.append(
            {
                "scenario": s.name,
                "graphql_median_ms": round(median_ms(g), 2),
                "graphql_p99_ms": round(p99_ms(g), 2),
                "graphql_rps": round(throughput(g), 1),
                "rest_median_ms": round(median_ms(r), 2),
                "rest_p99_ms": round(p99_ms(r), 2),
                "rest_rps": round(throughput(r), 1),
                "graphql_over_rest": round(median_ms(g) / median_ms(r), 2),
                "store_calls_graphql": calls[s.name][0],
                "store_calls_rest": calls[s.name][1],
                "errors": g.errors + r.errors,
            }
        )
    page20 = rows[0]
    report.update(
        rows=rows,
        floor_page20_ms=round(floor, 2),
        graphql_over_floor_page20=round(page20["graphql_median_ms"] / floor, 2),
        rest_over_floor_page20=round(page20["rest_median_ms"] / floor, 2),
    )
    print(render(report))
    if args.embedded_sizes:
        report["embedded_scaling"] = scaling(
            [int(n) for n in args.embedded_sizes.split(",")], repeats=3 if args.quick else 20
        )
        print("\nThe embedded engine, as it scales:\n")
        print(render_scaling(report["embedded_scaling"]))
    (args.out_dir / ("quick.json" if args.quick else "results.json")).write_text(json.dumps(report, indent=2))
    return 0 if all(r["errors"] == 0 for r in rows) and report.get("soak", {}).get("errors", 0) == 0 else 1


def render(report: dict[str, Any]) -> str:
    head = "| scenario | GraphQL median ms | p99 | req/s | REST median ms | p99 | req/s | GraphQL / REST | store calls (GraphQL, REST) |"
    lines = [head, "|---|---|---|---|---|---|---|---|---|"]
    for r in report["rows"]:
        lines.append(
            f"| {r['scenario']} | {r['graphql_median_ms']} | {r['graphql_p99_ms']} | {r['graphql_rps']} | {r['rest_median_ms']} | "
            f"{r['rest_p99_ms']} | {r['rest_rps']} | **{r['graphql_over_rest']}** | {r['store_calls_graphql']}, {r['store_calls_rest']} |"
        )
    lines.append("")
    lines.append(
        f"Floor (the page-of-20 request's store calls alone): {report['floor_page20_ms']} ms median; "
        f"gateway / floor: GraphQL **{report['graphql_over_floor_page20']}**, REST **{report['rest_over_floor_page20']}**."
    )
    if "store_calls_per_list_request" in report:
        lines.append(
            "Store calls per GraphQL list request: "
            + "; ".join(f"{name}: {n}" for name, n in report["store_calls_per_list_request"].items())
            + "."
        )
    if "soak" in report:
        s = report["soak"]
        lines.append(
            f"Soak: {s['connections']} connections for {s['seconds']:.0f} s, {s['requests']} requests, {s['errors']} errors; "
            f"RSS {s['rss_after_warmup_mib']} MiB after warm-up, {s['rss_at_end_mib']} MiB at the end ({s['rss_growth_pct']:+}%)."
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
