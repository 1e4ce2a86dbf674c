"""The `job-gateway` command: serve | generate | export-schema."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bson import json_util
from bson.json_util import RELAXED_JSON_OPTIONS

from gateway import __version__
from gateway.settings import Settings, SettingsError
from gateway.store.datafile import DataFileError


def _progress(stream: object = sys.stderr) -> object:
    """A one-line progress bar on stderr, redrawn in place."""

    def show(done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        end = "\n" if done >= total else ""
        print(
            f"\rgenerating jobs [{'#' * filled}{'.' * (width - filled)}] {done}/{total}",
            end=end,
            file=stream,
            flush=True,
        )

    return show


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from gateway.app import create_app

    settings = Settings.from_environ(
        os.environ,
        host=args.host,
        port=args.port,
        data_files=tuple(args.data) if args.data else None,
        workers=args.workers,
    )
    if settings.data_files and settings.mongodb_uri:
        raise SettingsError("--data loads the embedded store; it cannot be combined with MONGODB_URI")
    for path in settings.data_files:
        if not Path(path).is_file():
            raise SettingsError(f"--data {path}: no such file")
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    common = {"host": settings.host, "port": settings.port, "log_level": settings.log_level, "access_log": False}
    if settings.workers > 1:
        # Worker processes build their own app from the environment; pass --data on.
        if settings.data_files:
            os.environ["JOB_GATEWAY_DATA_FILES"] = os.pathsep.join(settings.data_files)
        uvicorn.run("gateway.app:create_app_from_environ", factory=True, workers=settings.workers, **common)
    else:
        uvicorn.run(create_app(settings), **common)
    return 0


def _generate(args: argparse.Namespace) -> int:
    from gateway.demo import generate_dataset

    end = datetime.fromisoformat(args.end) if args.end else datetime.now(UTC)
    show = _progress() if args.jobs >= 10_000 and sys.stderr.isatty() else None
    data = generate_dataset(args.jobs, end=end, seed=args.seed, collectors=args.collectors, progress=show)
    text = json_util.dumps({"collections": data}, json_options=RELAXED_JSON_OPTIONS)
    Path(args.out).write_text(text, encoding="utf-8")
    print(f"wrote {len(data['job'])} jobs and {len(data['collector'])} collectors to {args.out}")
    return 0


def _export_schema(args: argparse.Namespace) -> int:
    from gateway.graphql.schema import export_sdl

    sdl = export_sdl()
    if args.out == "-":
        sys.stdout.write(sdl)
    else:
        Path(args.out).write_text(sdl, encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="job-gateway", description=__doc__)
    parser.add_argument("--version", action="version", version=f"job-gateway {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve GraphQL and REST (embedded demo data unless MONGODB_URI is set)")
    serve.add_argument(
        "--data", action="append", metavar="FILE", help="load this data file into the embedded store (repeatable)"
    )
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000)")
    serve.add_argument("--workers", type=int, help="worker processes (default 1, or JOB_GATEWAY_WORKERS)")
    serve.set_defaults(run=_serve)

    gen = sub.add_parser("generate", help="write a deterministic demo dataset")
    gen.add_argument("--jobs", type=int, default=3000, help="number of jobs (default 3000)")
    gen.add_argument("--collectors", type=int, default=36, help="number of collectors (default 36)")
    gen.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    gen.add_argument("--end", help="ISO instant the 60 days end at (default now)")
    gen.add_argument("--out", required=True, help="output file (Extended JSON)")
    gen.set_defaults(run=_generate)

    export = sub.add_parser("export-schema", help="write the GraphQL SDL")
    export.add_argument("--out", default="schema/schema.graphql", help="output file, or - for stdout")
    export.set_defaults(run=_export_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "jobs", 1) < 0:
        print("job-gateway: --jobs must not be negative", file=sys.stderr)
        return 2
    try:
        return args.run(args)
    except (SettingsError, DataFileError, ValueError) as exc:
        print(f"job-gateway: {exc}", file=sys.stderr)
        return 2
