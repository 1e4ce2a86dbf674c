"""The `job-gateway` command: serve | generate | export-schema | export-documents | create-indexes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bson import json_util
from bson.json_util import RELAXED_JSON_OPTIONS

from gateway import __version__
from gateway.demo import Progress
from gateway.logs import configure_logging
from gateway.settings import Settings, SettingsError
from gateway.store.datafile import DataFileError


def _progress(stream: TextIO = sys.stderr) -> Progress:
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
    from gateway.server import run

    # Flags and environment merge here, once; every worker process receives this object.
    settings = Settings.from_environ(
        os.environ,
        host=args.host,
        port=args.port,
        data_files=tuple(args.data) if args.data else None,
        workers=args.workers,
        insecure_no_auth=True if args.insecure_no_auth else None,
    )
    configure_logging(settings.log_level)
    return run(settings)


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


def _export_documents(args: argparse.Namespace) -> int:
    from gateway.http.documents import export_documents

    for name, text in export_documents(Path(args.operations)).items():
        path = Path(args.out) / name
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


def _create_indexes(args: argparse.Namespace) -> int:
    import asyncio

    from pymongo.errors import PyMongoError

    from gateway.errors import GatewayError
    from gateway.store.factory import collection_names
    from gateway.store.indexes import ensure_indexes
    from gateway.store.mongo import MongoJobStore

    settings = Settings.from_environ(os.environ)
    if not settings.mongodb_uri:
        raise SettingsError("create-indexes needs MONGODB_URI (the embedded store needs no indexes)")

    async def run() -> list[str]:
        store = MongoJobStore(
            settings.mongodb_uri or "",
            database=settings.database,
            server_selection_timeout_ms=settings.server_selection_timeout_ms,
            timeout_ms=0,  # an index build takes as long as it takes: no request budget here
        )
        try:
            await store.ping()
            return await ensure_indexes(store.database, collection_names(settings))  # type: ignore[arg-type]
        finally:
            await store.close()

    try:
        lines = asyncio.run(run())
    except (GatewayError, PyMongoError) as exc:
        print(f"job-gateway: create-indexes failed: {exc}", file=sys.stderr)
        return 1
    print("\n".join(lines))
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
    serve.add_argument(
        "--insecure-no-auth",
        action="store_true",
        help="serve a MongoDB without authentication (every caller may read any domain it names)",
    )
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

    documents = sub.add_parser(
        "export-documents", help="write the trusted-documents manifest and GraphiQL's examples from the operations"
    )
    documents.add_argument("--operations", default="schema/operations", help="folder of *.graphql operations")
    documents.add_argument("--out", default="gateway/http", help="output folder")
    documents.set_defaults(run=_export_documents)

    indexes = sub.add_parser("create-indexes", help="create the MongoDB indexes the queries need (idempotent)")
    indexes.set_defaults(run=_create_indexes)
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
