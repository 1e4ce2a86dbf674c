"""Serving the app with uvicorn: in this process, or in N worker processes that share
one listening socket which this module creates.

Why the socket is ours: uvicorn's multi-process mode binds its listener with
``socket.socket(family)``, so ``proto`` is 0; accepted sockets inherit it, and asyncio
sets ``TCP_NODELAY`` only on sockets whose ``proto`` is ``IPPROTO_TCP``. Without it,
Nagle's algorithm and the client's delayed ACK hold every keep-alive response about
40 ms (uvicorn issue 3149: open, and unfixed up to uvicorn 0.54.0, the newest release
when this was written; the fix proposed is uvicorn PR 3154). Its ``fd=`` route loses
the option too (it rebuilds the socket as ``AF_UNIX``). So we bind the socket with
``IPPROTO_TCP`` ourselves and hand it to uvicorn's public ``Server.run(sockets=...)``,
in one process as in several. Once the first uvicorn release with that fix is our
minimum version (pyproject.toml), uvicorn's own listener would do; this module would
still be what carries the merged ``Settings`` and the loaded data to the workers.

Workers are forked from the process that merged flags and environment into
``Settings`` (once, in the command) and loaded the embedded engine's data (once): they
inherit both, and never read the environment again. A worker that exits while the
server runs - a crash, or a signal sent to it alone - is replaced, at most
``RESTARTS_PER_MINUTE`` times a minute; workers live in their own process group (Ctrl-C
reaches the supervisor, which stops them) and stop when the supervisor dies, even by
SIGKILL.
"""

from __future__ import annotations

import collections
import ctypes
import functools
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType

import uvicorn
from starlette.types import ASGIApp

from gateway.app import check_settings_files, create_app
from gateway.banner import banner
from gateway.display import counted
from gateway.logs import text_logs
from gateway.settings import Settings, SettingsError
from gateway.store.base import JobStore
from gateway.store.factory import LoadProgress, load_memory_store

log = logging.getLogger("gateway.server")

# Builds the app in each worker (after the fork, so nothing of the app is shared).
AppFactory = Callable[[], ASGIApp]

# uvicorn's exit status when the app's lifespan start-up fails (uvicorn.config.STARTUP_FAILURE).
STARTUP_FAILURE = 3
_POLL_SECONDS = 0.5
# A worker that exits is replaced, at most this many times in any minute (more is a
# crash loop: the server stops, with status 1, for its orchestrator to act).
RESTARTS_PER_MINUTE = 10
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_STOP_SECONDS = 30.0


def listen(host: str, port: int) -> socket.socket:
    """A bound (not yet listening) TCP socket for ``host``:``port``, created with
    ``IPPROTO_TCP`` so that asyncio sets ``TCP_NODELAY`` on every accepted connection.

    Raises ``OSError`` when the address cannot be resolved or bound (port in use).
    """
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def run(settings: Settings, store: JobStore | None = None, *, progress: LoadProgress | None = None) -> int:
    """`job-gateway serve`: bind, load the embedded engine's data (once, before the
    workers fork; ``progress`` hears each step), print the banner when logs are for a
    person, serve until interrupted; returns the exit status. ``store`` replaces the
    store the settings name (benchmarks).

    Raises ``SettingsError`` (one line) when a file the settings name is missing or
    malformed (checked first) or the address cannot be bound, ``DataFileError`` (one
    line) when a data file cannot be loaded.
    """
    check_settings_files(settings)
    for path in settings.data_files:
        if not Path(path).is_file():
            raise SettingsError(f"--data {path}: " + ("not a file" if Path(path).exists() else "no such file"))
    try:
        sock = listen(settings.host, settings.port)
    except OSError as exc:
        raise SettingsError(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}") from None
    with sock:
        data = None
        if store is None and not settings.mongodb_uri:
            store, data = load_memory_store(settings, progress)
        if text_logs(settings.log_format):
            print(banner(settings, settings.host, sock.getsockname()[1], data), file=sys.stderr, flush=True)
        return serve(settings, functools.partial(create_app, settings, store), sock)


def serve(settings: Settings, app_factory: AppFactory, sock: socket.socket) -> int:
    """Serve ``app_factory()`` on ``sock`` with ``settings.workers`` processes
    until interrupted; returns the exit status (0, or 3 when the app failed to start)."""
    host, port = sock.getsockname()[:2]
    workers = counted(settings.workers, "worker process", "worker processes")
    log.info("listening on http://%s:%d with %s", host, port, workers)
    if settings.workers == 1:
        return run_worker(settings, app_factory, sock)
    return _supervise(settings, app_factory, sock)


def run_worker(settings: Settings, app_factory: AppFactory, sock: socket.socket) -> int:
    """One uvicorn server over ``sock`` (the body of every worker process)."""
    try:
        app = app_factory()
    except Exception:
        log.exception("the app could not be built")
        return STARTUP_FAILURE
    config = uvicorn.Config(
        app,
        lifespan="on",
        log_level=settings.log_level,
        # Our middleware writes the access log (JSON, with request ids); uvicorn keeps
        # the logging configured above instead of installing its own.
        access_log=False,
        log_config=None,
    )
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C once it has shut down, as uvicorn.run ignores it
        pass
    except SystemExit as exc:  # uvicorn exits this way when the lifespan start-up fails
        return exc.code if isinstance(exc.code, int) else STARTUP_FAILURE
    return 0 if server.started else STARTUP_FAILURE


def _worker_main(settings: Settings, app_factory: AppFactory, sock: socket.socket, supervisor: int) -> None:
    # Its own process group: Ctrl-C at the terminal reaches the supervisor alone, which
    # stops the workers (SIGTERM) - a worker never exits on its own at the same moment
    # and gets replaced.
    os.setpgid(0, 0)
    _exit_with(supervisor)
    # The supervisor's handlers were inherited through the fork; uvicorn installs its own.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        sys.exit(run_worker(settings, app_factory, sock))
    except KeyboardInterrupt:  # a SIGINT sent to this worker alone
        sys.exit(0)


def _exit_with(supervisor: int) -> None:
    """Have this worker stop when ``supervisor``, its parent, dies - even by SIGKILL,
    which it cannot handle: SIGTERM (uvicorn's graceful stop) at once through Linux's
    ``prctl(PR_SET_PDEATHSIG)`` (man 2 prctl), elsewhere from a thread watching the
    parent id; and, as the supervisor would, a forced exit if that stop has not ended
    the process ``_STOP_SECONDS`` later."""
    pdeathsig = sys.platform == "linux"
    if pdeathsig:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG)")

    def watch() -> None:
        while os.getppid() == supervisor:
            time.sleep(_POLL_SECONDS)
        if not pdeathsig or not started_with_parent:
            os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(_STOP_SECONDS)
        os._exit(1)

    started_with_parent = os.getppid() == supervisor  # else it died before prctl was asked
    threading.Thread(target=watch, name="parent-death watch", daemon=True).start()


class _RestartBudget:
    """At most ``limit`` worker restarts in any ``window`` seconds."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._times: collections.deque[float] = collections.deque()

    def spend(self) -> bool:
        """Count one restart now; False when it is one more than the bound allows."""
        now = time.monotonic()
        while self._times and now - self._times[0] > self.window:
            self._times.popleft()
        self._times.append(now)
        return len(self._times) <= self.limit


def _supervise(settings: Settings, app_factory: AppFactory, sock: socket.socket) -> int:
    """Start the workers, replace any that exits (whatever the cause: a crash, a signal
    sent to it alone) while the server runs, at most ``RESTARTS_PER_MINUTE`` times a
    minute; stop them all on SIGINT/SIGTERM. Returns 0 when stopped, 3
    (``STARTUP_FAILURE``) when a first worker's app cannot start, 1 when workers exit
    more often than the bound allows (a crash loop: the orchestrator decides then)."""
    # fork, not spawn: workers share what the parent loaded, and need nothing pickled.
    fork = multiprocessing.get_context("fork")
    stop = threading.Event()
    supervisor = os.getpid()

    def start() -> BaseProcess:
        process = fork.Process(
            target=_worker_main, args=(settings, app_factory, sock, supervisor), name="job-gateway worker"
        )
        process.start()
        return process

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, request_stop)
    workers = [start() for _ in range(settings.workers)]
    first = {w.pid for w in workers}
    budget = _RestartBudget(RESTARTS_PER_MINUTE, 60.0)
    log.info("started %d worker processes", settings.workers, extra={"pids": [w.pid for w in workers]})
    log.info("a worker that exits is replaced, at most %d times a minute", RESTARTS_PER_MINUTE)
    status = 0
    while not stop.wait(_POLL_SECONDS):
        for i, worker in enumerate(workers):
            if worker.is_alive() or stop.is_set():
                continue
            code = worker.exitcode
            cause = f"signal {signal.Signals(-code).name}" if code is not None and code < 0 else f"status {code}"
            if code == STARTUP_FAILURE and worker.pid in first:
                log.error("a worker could not start; stopping", extra={"pid": worker.pid})
                status = STARTUP_FAILURE
                stop.set()
                break
            if not budget.spend():
                log.error(
                    "workers exited more than %d times within a minute; stopping",
                    RESTARTS_PER_MINUTE,
                    extra={"pid": worker.pid, "exit": cause, "restarts_per_minute": RESTARTS_PER_MINUTE},
                )
                status = 1
                stop.set()
                break
            workers[i] = start()
            log.warning(
                "a worker exited; started another in its place",
                extra={"pid": worker.pid, "exit": cause, "replacement": workers[i].pid},
            )
    for worker in workers:
        if worker.is_alive():
            worker.terminate()  # SIGTERM: uvicorn finishes the requests in flight
    for worker in workers:
        worker.join(_STOP_SECONDS)
        if worker.is_alive():
            worker.kill()
            worker.join()
    return status
