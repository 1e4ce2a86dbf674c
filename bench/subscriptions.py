"""Subscriptions under load: many subscribers on one gateway process while jobs change.

    python bench/subscriptions.py            # 1,000 subscribers, 50 job updates/s, 30 s
    python bench/subscriptions.py --quick    # 100 subscribers, 10 updates/s, 5 s

It starts the gateway (the embedded demo, one process) with a bench-only control route
that writes job updates into its store at a fixed rate, stamping each with the time it
was written (and counts the Python objects alive, ``/bench/objects``; ``?trim=1`` also
hands freed heap back to the system with glibc's malloc_trim, to tell memory held from
memory merely not returned); connects the subscribers from client processes - a mix of ``jobChanged``
(the rows a console shows, by job id; a progress widget, by status; a dashboard, by
collector provider) and ``jobsLive`` lists over both demo domains, over WebSocket
(graphql-transport-ws, several subscriptions per connection) and SSE (graphql-sse, one
stream each) - and measures:

- delivery: from the store write to each matching client receiving it (p50, p99, max);
  ``jobChanged`` and ``jobsLive`` apart (a live list is pushed at most every
  ``JOB_GATEWAY_LIVE_LIST_MS``, so its delay includes that interval);
- completeness: every update of a job a ``jobChanged(jobId:)`` subscriber watches
  reaches it, or a later update of the same job does in its place (a job changed twice
  within one hub batch is sent once, as it now is);
- the server process's CPU (share of one core over the update phase) and memory (RSS
  before the subscribers come, with them - per subscriber -, its peak, and after they
  leave, once the gateway has given freed memory back, ``gateway.heap``), with the
  allocator the Docker image sets (its ``ENV``: glibc's ``malloc``) or CPython's own
  (``--allocator pymalloc``). What the bench keeps (the jobs it writes to, their new
  values, the times written) is made before the baseline;
- the hub's database work, from the server's /metrics: queries on the jobs and on the
  collectors per domain batch of changes, beside the one query per subscriber a
  per-subscriber design would make; live lists' re-reads per second.

Where a comparison means something it is printed as a ratio from the same run: p99
against the 1 s target, SSE against WebSocket, hub queries against one per subscriber,
memory after against before.

Each update sets the job's ``remained_tasks`` to a sequence number unique to it, which
is how a client's event is matched with the write that caused it (one clock: one
machine). Results: printed, and bench/out/subscriptions.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from array import array
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import HOST, free_port, rss_mib, serving  # noqa: E402

OUT = HERE / "out"
FIRST_SEQ = 1_000_000  # above any demo job's remained_tasks
JOB_FIELDS = "jobId status remainedTasks totalTasks collectorInfo { name provider }"
CHANGED = "subscription($d: String, $w: JobWhere, $ids: [String!]) { jobChanged(domainId: $d, where: $w, jobId: $ids) { kind job { %s } } }"
LIVE = "subscription($d: String, $w: JobWhere) { jobsLive(domainId: $d, where: $w, first: 10, orderBy: [{field: REMAINED_TASKS, direction: DESC}]) { results { jobId status remainedTasks } } }"
PROVIDERS = ("aws", "google_cloud", "azure", "openstack")
ACTIVE = {"status": {"in": ["CREATED", "IN_PROGRESS"]}}


# -- the server: the gateway plus a control route that writes updates --------------


class Control:
    """ASGI: ``/bench/prepare?rate=R&seconds=S`` reads the demo jobs and sets aside room
    for R x S stamps (before the baseline, so that nothing the bench itself keeps is
    allocated while the subscribers are there); ``/bench/run`` then starts writing R job
    updates a second for S seconds; ``/bench/done`` answers whether they are written,
    ``/bench/stamps`` [[sequence, job id, unix time written], ...]; everything else is
    the gateway."""

    def __init__(self, app: Any, store: Any) -> None:
        self.app, self.store = app, store
        self.jobs: list[dict[str, Any]] = []
        self.picks = array("l")  # the index in ``jobs`` of each update's job
        self.written = array("d")  # each update's unix time written
        self.values: list[dict[str, Any]] = []
        self.count = 0
        self.rate = 0.0
        self.task: asyncio.Task[None] | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/bench/"):
            await self.app(scope, receive, send)
            return
        from starlette.requests import Request
        from starlette.responses import JSONResponse

        request = Request(scope, receive)
        if scope["path"] == "/bench/prepare":
            from gateway.demo import DEMO_DOMAINS

            self.rate = float(request.query_params["rate"])
            total = int(self.rate * float(request.query_params["seconds"]))
            jobs = await self.store.find("job", {}, projection={"job_id": 1, "domain_id": 1})
            self.jobs = [j for j in jobs if j.get("domain_id") in DEMO_DOMAINS]
            rng = random.Random(7)
            self.picks = array("l", (rng.randrange(len(self.jobs)) for _ in range(total)))
            self.written = array("d", bytes(8 * total))
            # The values written, made now like the rest of the data: the store keeps
            # them, and the memory they take is the data's, not the subscribers'.
            soon = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
            self.values = [
                {"remained_tasks": FIRST_SEQ + i, "updated_at": soon + timedelta(seconds=i / self.rate)}
                for i in range(total)
            ]
            response = JSONResponse({"updates": total})
        elif scope["path"] == "/bench/warm":
            for i in range(int(request.query_params["updates"])):
                job = self.jobs[i % len(self.jobs)]
                await self.store.update_one("job", job["_id"], {"remained_tasks": FIRST_SEQ - 1 - i})
                await asyncio.sleep(0.02)
            response = JSONResponse({"warm": True})
        elif scope["path"] == "/bench/run":
            self.task = asyncio.create_task(self._write())
            response = JSONResponse({"started": True}, status_code=202)
        elif scope["path"] == "/bench/done":
            response = JSONResponse({"done": self.task is not None and self.task.done()})
        elif scope["path"] == "/bench/objects":
            import collections
            import gc

            from gateway.heap import glibc_trim

            gc.collect()
            alive = gc.get_objects()
            counts = collections.Counter(type(o).__name__ for o in alive)
            trim = glibc_trim() if request.query_params.get("trim") else None
            trimmed = trim() if trim is not None else None
            response = JSONResponse({"objects": len(alive), "by_type": counts, "trimmed": trimmed})
        else:
            stamps = [(FIRST_SEQ + i, self.jobs[self.picks[i]]["job_id"], self.written[i]) for i in range(self.count)]
            response = JSONResponse({"stamps": stamps})
        await response(scope, receive, send)

    async def _write(self) -> None:
        start = time.monotonic()
        for i, pick in enumerate(self.picks):
            delay = start + i / self.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            job = self.jobs[pick]
            self.written[i] = time.time()
            await self.store.update_one("job", job["_id"], self.values[i])
            self.count = i + 1


def serve(port: int) -> int:
    from gateway.app import create_app
    from gateway.logs import configure_logging
    from gateway.server import listen, load_memory_store
    from gateway.server import serve as serve_app
    from gateway.settings import Settings

    environ = {k: v for k, v in os.environ.items() if k != "MONGODB_URI"}
    settings = Settings.from_environ(environ, port=port, workers=1)
    configure_logging(settings.log_level)
    store, _ = load_memory_store(settings, None)
    with listen(HOST, port) as sock:
        return serve_app(settings, lambda: Control(create_app(settings, store), store), sock)


# -- the clients: subscriptions over WebSocket and SSE, events recorded -------------


def _sequences(kind: str, payload: dict[str, Any]) -> list[int]:
    data = payload.get("data") or {}
    if kind == "changed":
        job = (data.get("jobChanged") or {}).get("job") or {}
        return [job.get("remainedTasks") or 0]
    return [r["remainedTasks"] or 0 for r in (data.get("jobsLive") or {}).get("results") or [] if r]


async def _ws(
    url: str, connection: dict[str, Any], records: list[Any], ready: asyncio.Event, errors: list[str]
) -> None:
    import websockets

    socket_url = url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(socket_url, subprotocols=["graphql-transport-ws"], max_size=None) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        kinds = {}
        for sub in connection["subscriptions"]:
            kinds[sub["id"]] = sub["kind"]
            message = {"query": sub["query"], "variables": sub["variables"]}
            await ws.send(json.dumps({"id": sub["id"], "type": "subscribe", "payload": message}))
        ready.set()
        async for raw in ws:
            received = time.time()
            message = json.loads(raw)
            if message["type"] == "next":
                if message["payload"].get("errors"):
                    errors.append(json.dumps(message["payload"]["errors"])[:300])
                kind = kinds[message["id"]]
                records.append((message["id"], received, _sequences(kind, message["payload"])))
            elif message["type"] == "ping":
                await ws.send(json.dumps({"type": "pong"}))
            elif message["type"] in ("error", "complete"):
                errors.append(f"{message['type']}: {json.dumps(message.get('payload'))[:300]}")


async def _sse(
    url: str, connection: dict[str, Any], records: list[Any], ready: asyncio.Event, errors: list[str]
) -> None:
    import httpx2 as httpx

    (sub,) = connection["subscriptions"]
    body = {"query": sub["query"], "variables": sub["variables"]}
    async with (
        httpx.AsyncClient(base_url=url, timeout=None) as client,
        client.stream("POST", "/graphql/stream", json=body, headers={"Accept": "text/event-stream"}) as response,
    ):
        if response.status_code != 200:
            errors.append(f"SSE {response.status_code}")
            ready.set()
            return
        ready.set()
        event = None
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "next":
                received = time.time()
                payload = json.loads(line[6:])
                if payload.get("errors"):
                    errors.append(json.dumps(payload["errors"])[:300])
                records.append((sub["id"], received, _sequences(sub["kind"], payload)))


async def _clients(url: str, plan: list[dict[str, Any]], out: Path) -> None:
    records: list[Any] = []
    errors: list[str] = []
    readies = [asyncio.Event() for _ in plan]
    tasks = []
    for connection, ready in zip(plan, readies, strict=True):
        run = _ws if connection["transport"] == "ws" else _sse
        tasks.append(asyncio.create_task(run(url, connection, records, ready, errors)))
        await asyncio.sleep(0.002)  # connect at a steady pace, as clients arrive
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 120)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # "stop"
    for task in tasks:
        if task.done() and task.exception() is not None:
            errors.append(repr(task.exception()))
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    out.write_text(json.dumps({"records": records, "errors": errors}))


# -- the run ------------------------------------------------------------------------


def _get(port: int, path: str, body: Any = None) -> Any:
    import httpx2 as httpx

    with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=30) as client:
        response = client.post(path, json=body) if body is not None else client.get(path)
        response.raise_for_status()
        return response.json() if "json" in response.headers.get("content-type", "") else response.text


def counters(metrics: str) -> dict[str, float]:
    """The server's counters that the bench reads, from its /metrics text: store calls
    by method and collection, the hub's batches (one per domain a batch of changes
    touches), events delivered."""
    wanted = ("job_gateway_store_call_duration_seconds_count", "job_gateway_subscription_batches_total",
              "job_gateway_subscription_events_total")  # fmt: skip
    found: dict[str, float] = {}
    for line in metrics.splitlines():
        if line.startswith(wanted):
            name, value = line.rsplit(" ", 1)
            found[name] = float(value)
    return found


def _store_calls(before: dict[str, float], after: dict[str, float], method: str, collection: str) -> float:
    name = f'job_gateway_store_call_duration_seconds_count{{collection="{collection}",method="{method}"}}'
    return after.get(name, 0) - before.get(name, 0)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def image_allocator() -> dict[str, str]:
    """The allocator settings the Docker image runs with (its ``ENV``): the one place
    they are written."""
    dockerfile = (HERE.parent / "Dockerfile").read_text()
    return dict(re.findall(r"\b(PYTHONMALLOC|GLIBC_TUNABLES|MALLOC_[A-Z_]+)=(\S+)", dockerfile))


@contextmanager
def _server(port: int, allocator: str) -> Any:
    env = {**os.environ, "JOB_GATEWAY_LOG_LEVEL": "warning", "JOB_GATEWAY_MAX_SUBSCRIPTION_CONNECTIONS": "5000"}
    for name in ("MONGODB_URI", "PYTHONMALLOC", "GLIBC_TUNABLES"):
        env.pop(name, None)
    if allocator == "image":
        env.update(image_allocator())
    command = [sys.executable, str(Path(__file__).resolve()), "serve", "--port", str(port)]
    with serving(command, env, port) as proc:
        yield proc


def plan(port: int, subscribers: int, per_connection: int, sse_share: float) -> list[dict[str, Any]]:
    """The subscriptions, grouped into connections: 40% jobChanged by job id (10 jobs
    each), 20% jobChanged of active jobs, 15% jobChanged of one provider's jobs, 25%
    jobsLive (5 distinct lists per domain, shared); alternating the demo domains. A
    share ``sse_share`` of them are SSE streams, the rest WebSocket subscriptions
    ``per_connection`` to a connection."""
    from gateway.demo import DEMO_DOMAINS

    ids: dict[str, list[str]] = {}
    for domain in DEMO_DOMAINS:
        answer = _get(
            port,
            "/graphql",
            {
                "query": "query($d: String!) { jobs(domainId: $d, query: {page: {limit: 1000}}) { results { jobId } } }",
                "variables": {"d": domain},
            },
        )
        ids[domain] = [r["jobId"] for r in answer["data"]["jobs"]["results"]]
    rng = random.Random(11)
    lists = [
        ACTIVE,
        {},
        {"status": {"in": ["IN_PROGRESS"]}},
        {"collector": {"provider": {"eq": "aws"}}},
        {"remainedTasks": {"gt": 5}},
    ]
    subs: list[dict[str, Any]] = []
    for n in range(subscribers):
        domain = DEMO_DOMAINS[n % len(DEMO_DOMAINS)]
        share = (n * 37 % 100) / 100  # spread the kinds evenly over the run
        if share < 0.40:
            watch = rng.sample(ids[domain], 10)
            sub = {
                "kind": "changed",
                "query": CHANGED % JOB_FIELDS,
                "variables": {"d": domain, "ids": watch},
                "watch": watch,
            }
        elif share < 0.60:
            sub = {"kind": "changed", "query": CHANGED % JOB_FIELDS, "variables": {"d": domain, "w": ACTIVE}}
        elif share < 0.75:
            where = {"collector": {"provider": {"eq": rng.choice(PROVIDERS)}}}
            sub = {"kind": "changed", "query": CHANGED % JOB_FIELDS, "variables": {"d": domain, "w": where}}
        else:
            sub = {"kind": "live", "query": LIVE, "variables": {"d": domain, "w": rng.choice(lists)}}
        subs.append({**sub, "id": str(n)})
    connections: list[dict[str, Any]] = []
    sse = round(subscribers * sse_share)
    for sub in subs[:sse]:
        connections.append({"transport": "sse", "subscriptions": [sub]})
    rest = subs[sse:]
    for i in range(0, len(rest), per_connection):
        connections.append({"transport": "ws", "subscriptions": rest[i : i + per_connection]})
    return connections


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"count": 0}
    ordered = sorted(values)
    q = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else ordered * 99
    return {"count": len(ordered), "p50_ms": round(q[49] * 1000, 1), "p99_ms": round(q[98] * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1)}  # fmt: skip


def run(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    with _server(port, args.allocator) as server:
        pid = server.pid
        # Warm up: the code paths of a query, of a subscription and of its events, once,
        # before the baseline (the first event makes the hub's own lasting objects).
        _get(port, f"/bench/prepare?rate={args.rate}&seconds={args.seconds}")
        connections = plan(port, 20, 10, 0.1)
        warm = _start_clients(port, connections, 1, args.out_dir)
        time.sleep(1)
        _get(port, "/bench/warm?updates=50")
        time.sleep(1)
        _stop_clients(warm)
        _get(port, "/metrics")  # its own first answer's objects made before the baseline, not after
        time.sleep(2)
        rss_before = rss_mib(pid)
        objects_before = _get(port, "/bench/objects")

        connections = plan(port, args.subscribers, args.per_connection, args.sse_share)
        clients = _start_clients(port, connections, args.client_processes, args.out_dir)
        time.sleep(2)  # every subscription registered at the hub
        rss_subscribed = rss_mib(pid)
        counted0 = counters(_get(port, "/metrics"))
        cpu0, wall0 = cpu_seconds(pid), time.monotonic()
        _get(port, "/bench/run", body={})
        peak = rss_subscribed
        while not _get(port, "/bench/done")["done"]:
            peak = max(peak, rss_mib(pid))
            time.sleep(0.5)
        cpu = (cpu_seconds(pid) - cpu0) / (time.monotonic() - wall0)
        time.sleep(2)  # the last events delivered
        stamps = _get(port, "/bench/stamps")["stamps"]
        counted1 = counters(_get(port, "/metrics"))
        outputs = _stop_clients(clients)
        time.sleep(args.settle)
        rss_after = rss_mib(pid)
        objects_after = _get(port, "/bench/objects")
        rss_trimmed = (_get(port, "/bench/objects?trim=1"), rss_mib(pid))[1]
        metrics = _get(port, "/metrics")
    measured = {"rss_before": rss_before, "rss_subscribed": rss_subscribed, "peak": peak, "rss_after": rss_after, "rss_trimmed": rss_trimmed,
                "objects_before": objects_before, "objects_after": objects_after,
                "cpu": cpu, "counted0": counted0, "counted1": counted1, "metrics": metrics}  # fmt: skip
    return summarize(args, connections, stamps, outputs, measured)


def summarize(
    args: argparse.Namespace,
    connections: list[dict[str, Any]],
    stamps: list[Any],
    outputs: list[dict[str, Any]],
    measured: dict[str, Any],
) -> dict[str, Any]:
    """The figures of a run: its plan, the updates written, what the clients received,
    and what was read off the server (``measured``)."""
    rss_before, rss_subscribed, peak, rss_after, cpu = (
        measured[k] for k in ("rss_before", "rss_subscribed", "peak", "rss_after", "cpu")
    )
    counted0, counted1 = measured["counted0"], measured["counted1"]
    active_after = next(
        (
            line.split()[-1]
            for line in measured["metrics"].splitlines()
            if line.startswith("job_gateway_subscriptions_active")
        ),
        "?",
    )
    subs = {s["id"]: s for c in connections for s in c["subscriptions"]}
    written = {seq: (job_id, at) for seq, job_id, at in stamps}
    transport = {s["id"]: c["transport"] for c in connections for s in c["subscriptions"]}
    changed: list[float] = []
    live: list[float] = []
    errors: list[str] = []
    by_transport: dict[str, list[float]] = {"ws": [], "sse": []}
    received: dict[str, set[int]] = {}
    for out in outputs:
        errors += out["errors"]
        last_seen: dict[str, set[int]] = {}
        for sub_id, at, seqs in out["records"]:
            kind = subs[sub_id]["kind"]
            if kind == "changed":
                seq = seqs[0]
                if seq in written:
                    changed.append(at - written[seq][1])
                    by_transport[transport[sub_id]].append(at - written[seq][1])
                    received.setdefault(sub_id, set()).add(seq)
            else:
                new = set(seqs) - last_seen.get(sub_id, set())
                last_seen[sub_id] = set(seqs)
                live += [at - written[s][1] for s in new if s in written]
    expected = missed = superseded = 0
    missed_sample: list[Any] = []
    first_write = min((at for _, at in written.values()), default=0.0)
    for sub in subs.values():
        if "watch" in sub:
            watched = set(sub["watch"])
            wanted = {seq for seq, (job_id, _) in written.items() if job_id in watched}
            got = received.get(sub["id"], set())
            expected += len(wanted)
            for seq in sorted(wanted - got):
                job_id = written[seq][0]
                # A job written again within the hub's batch is sent once, as it now is.
                if any(later > seq and written[later][0] == job_id for later in got):
                    superseded += 1
                    continue
                missed += 1
                missed_sample.append((sub["id"], seq, job_id, round(written[seq][1] - first_write, 3)))
    events = len(changed) + len(live)
    batches = counted1.get("job_gateway_subscription_batches_total", 0) - counted0.get(
        "job_gateway_subscription_batches_total", 0
    )
    matching = _store_calls(counted0, counted1, "aggregate", "job")
    collector_reads = sum(_store_calls(counted0, counted1, m, "collector") for m in ("find", "aggregate"))
    list_reads = sum(_store_calls(counted0, counted1, m, "job") for m in ("find", "count"))
    from gateway.demo import DEMO_DOMAINS

    per_domain = args.subscribers / len(DEMO_DOMAINS)
    ws, sse = _percentiles(by_transport["ws"]), _percentiles(by_transport["sse"])
    c = _percentiles(changed)
    per_batch = (matching + collector_reads) / batches if batches else float("nan")
    return {
        "subscribers": args.subscribers,
        "connections": {
            "ws": sum(c["transport"] == "ws" for c in connections),
            "sse": sum(c["transport"] == "sse" for c in connections),
        },
        "updates": len(stamps),
        "updates_per_second": round(len(stamps) / args.seconds, 1),
        "jobChanged": c,
        "jobChanged_ws": ws,
        "jobChanged_sse": sse,
        "jobsLive": _percentiles(live),
        "events_per_second": round(events / args.seconds),
        "watched_updates": {"expected": expected, "missed": missed, "superseded": superseded},
        "hub": {
            "domain_batches": int(batches),
            "updates_per_batch": round(len(stamps) / batches, 2) if batches else None,
            "job_queries_per_batch": round(matching / batches, 2) if batches else None,
            "collector_queries_per_batch": round(collector_reads / batches, 2) if batches else None,
            "live_list_reads_per_second": round(list_reads / args.seconds, 1),
            "subscribers_per_domain": per_domain,
        },
        "cpu_share_of_one_core": round(cpu, 2),
        "allocator": " ".join(f"{k}={v}" for k, v in image_allocator().items())
        if args.allocator == "image"
        else "pymalloc",
        "rss_mib": {
            "before": round(rss_before, 1),
            "subscribed": round(rss_subscribed, 1),
            "peak": round(peak, 1),
            "after": round(rss_after, 1),
            "after_vs_before_pct": round((rss_after / rss_before - 1) * 100, 1),
            "after_malloc_trim": round(measured["rss_trimmed"], 1),
        },
        "python_objects": {
            "before": measured["objects_before"]["objects"],
            "after": measured["objects_after"]["objects"],
            "grown_by_type": _grown(measured["objects_before"]["by_type"], measured["objects_after"]["by_type"]),
        },
        "missed_sample": missed_sample[:10],
        "kib_per_subscriber": round((rss_subscribed - rss_before) * 1024 / args.subscribers, 1),
        "ratios": {
            "jobChanged_p99_vs_target_1s": _ratio(c.get("p99_ms"), 1000),
            "sse_vs_ws_p50": _ratio(sse.get("p50_ms"), ws.get("p50_ms")),
            "sse_vs_ws_p99": _ratio(sse.get("p99_ms"), ws.get("p99_ms")),
            "hub_queries_per_batch_vs_one_per_subscriber": _ratio(per_batch, per_domain),
            "rss_after_vs_before": _ratio(rss_after, rss_before),
            "python_objects_after_vs_before": _ratio(
                measured["objects_after"]["objects"], measured["objects_before"]["objects"]
            ),
        },
        "subscriptions_active_after": active_after,
        "errors": errors[:10],
        "error_count": len(errors),
    }


def _grown(before: dict[str, int], after: dict[str, int]) -> list[tuple[str, int]]:
    """The types with the most more objects alive after than before."""
    grown = {name: after.get(name, 0) - before.get(name, 0) for name in after}
    return sorted(((n, g) for n, g in grown.items() if g > 0), key=lambda item: -item[1])[:8]


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else round(a / b, 3)


def _start_clients(port: int, connections: list[dict[str, Any]], processes: int, out: Path) -> list[tuple[Any, Path]]:
    out.mkdir(parents=True, exist_ok=True)
    started = []
    for i in range(processes):
        share = connections[i::processes]
        plan_file, out_file = out / f"subscribers-{i}.plan.json", out / f"subscribers-{i}.json"
        plan_file.write_text(json.dumps(share))
        command = [sys.executable, str(Path(__file__).resolve()), "client", "--url", f"http://{HOST}:{port}",
                   "--plan", str(plan_file), "--out", str(out_file)]  # fmt: skip
        proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        started.append((proc, out_file))
    for proc, _ in started:
        line = proc.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"a client process failed to subscribe: {line!r}")
    return started


def _stop_clients(started: list[tuple[Any, Path]]) -> list[dict[str, Any]]:
    outputs = []
    for proc, _ in started:
        proc.stdin.write("stop\n")
        proc.stdin.flush()
    for proc, out_file in started:
        proc.wait(timeout=120)
        outputs.append(json.loads(out_file.read_text()))
    return outputs


def render(result: dict[str, Any]) -> str:
    c, lv, r, h, x = result["jobChanged"], result["jobsLive"], result["rss_mib"], result["hub"], result["ratios"]
    ws, sse = result["jobChanged_ws"], result["jobChanged_sse"]
    return "\n".join(
        [
            f"{result['subscribers']:,} subscribers ({result['connections']['ws']} WebSocket connections, "
            f"{result['connections']['sse']} SSE streams), {result['updates_per_second']} job updates/s, "
            f"{result['events_per_second']:,} events/s delivered",
            f"jobChanged delivery (store write -> client): p50 {c.get('p50_ms')} ms, p99 {c.get('p99_ms')} ms, "
            f"max {c.get('max_ms')} ms over {c['count']:,} events; p99 / 1 s target: {x['jobChanged_p99_vs_target_1s']}",
            f"  WebSocket p50 {ws.get('p50_ms')} ms, p99 {ws.get('p99_ms')} ms; SSE p50 {sse.get('p50_ms')} ms, "
            f"p99 {sse.get('p99_ms')} ms; SSE / WebSocket: p50 {x['sse_vs_ws_p50']}, p99 {x['sse_vs_ws_p99']}",
            f"jobsLive delivery (incl. the live-list interval): p50 {lv.get('p50_ms')} ms, p99 {lv.get('p99_ms')} ms "
            f"over {lv['count']:,} rows",
            f"watched jobs' updates: {result['watched_updates']['expected']:,} expected, "
            f"{result['watched_updates']['superseded']} superseded by a later write of the job sent in their "
            f"place, {result['watched_updates']['missed']} missed; errors: {result['error_count']}",
            f"hub: {h['domain_batches']:,} domain batches ({h['updates_per_batch']} updates each), "
            f"{h['job_queries_per_batch']} job queries and {h['collector_queries_per_batch']} collector queries "
            f"per batch for {h['subscribers_per_domain']:.0f} subscribers per domain (ratio to one query per "
            f"subscriber: {x['hub_queries_per_batch_vs_one_per_subscriber']}); live lists re-read "
            f"{h['live_list_reads_per_second']} times/s",
            f"server CPU: {result['cpu_share_of_one_core']:.0%} of one core during the updates",
            f"server RSS ({result['allocator']}): {r['before']} MiB before, {r['subscribed']} MiB subscribed "
            f"({result['kib_per_subscriber']} KiB per subscriber), {r['peak']} MiB peak, "
            f"{r['after']} MiB after they left (after / before {x['rss_after_vs_before']}; target within 10%); "
            f"active subscriptions after: {result['subscriptions_active_after']}",
            f"  after another malloc_trim by the bench: {r['after_malloc_trim']} MiB; Python objects alive: "
            f"{result['python_objects']['before']:,} before, {result['python_objects']['after']:,} after "
            f"(after / before {x['python_objects_after_vs_before']})",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    serving = sub.add_parser("serve", help="(internal) the gateway with the bench's control route")
    serving.add_argument("--port", type=int, required=True)
    client = sub.add_parser("client", help="(internal) one client process")
    client.add_argument("--url", required=True)
    client.add_argument("--plan", type=Path, required=True)
    client.add_argument("--out", type=Path, required=True)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50, help="job updates per second")
    parser.add_argument("--seconds", type=float, default=30, help="how long updates are written")
    parser.add_argument("--per-connection", type=int, default=10, help="subscriptions per WebSocket connection")
    parser.add_argument("--sse-share", type=float, default=0.1, help="share of subscribers on SSE streams")
    parser.add_argument("--client-processes", type=int, default=4)
    parser.add_argument("--settle", type=float, default=5, help="seconds after the subscribers leave, before RSS")
    parser.add_argument("--out-dir", type=Path, default=OUT, help="where results (and client files) go")
    parser.add_argument(
        "--allocator",
        choices=("image", "pymalloc"),
        default="image",
        help="the server's memory allocator: as the Docker image sets it (its ENV: glibc's malloc; default) or "
        "CPython's own (pymalloc, a plain `python`'s)",
    )
    parser.add_argument("--quick", action="store_true", help="100 subscribers, 10 updates/s, 5 s")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args.port)
    if args.command == "client":
        asyncio.run(_clients(args.url, json.loads(args.plan.read_text()), args.out))
        return 0
    if args.quick:
        args.subscribers, args.rate, args.seconds, args.client_processes, args.settle = 100, 10, 5, 1, 2
    result = run(args)
    print(render(result))
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / ("subscriptions-quick.json" if args.quick else "subscriptions.json")).write_text(
        json.dumps(result, indent=2)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
