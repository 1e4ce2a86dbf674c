"""The `job-gateway` command: serve | generate | export-schema | export-documents | create-indexes |
dev-token."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from bson import json_util
from bson.json_util import RELAXED_JSON_OPTIONS

from gateway import __version__
from gateway.display import counted, json_text
from gateway.logs import configure_logging, text_logs
from gateway.settings import SettingRow, Settings, SettingsError, settings_table
from gateway.store.datafile import DataFileError
from gateway.store.factory import LoadProgress


def _progress(stream: TextIO = sys.stderr) -> LoadProgress:
    """Progress on a terminal: a bar redrawn in place for counted steps, "..." then
    "done" for a step of one."""
    started: dict[str, float] = {}

    def show(what: str, done: int, total: int) -> None:
        if total == 1:
            started.setdefault(what, time.monotonic())
            end = f" done ({time.monotonic() - started[what]:.1f} s)\n" if done else " ..."
            print(("" if done else what) + end, end="", file=stream, flush=True)
            return
        width = 30
        filled = width * done // max(total, 1)
        print(
            f"\r{what} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}",
            end="\n" if done >= total else "",
            file=stream,
            flush=True,
        )

    return show


def _serve(args: argparse.Namespace) -> int:
    from gateway.server import run

    # Flags and environment merge here, once; every worker process receives this object.
    flags = {row.name: getattr(args, row.name) for row in settings_table() if row.flag}
    settings = Settings.from_environ(os.environ, **flags)
    configure_logging(settings.log_level, settings.log_format)
    progress = _progress() if text_logs(settings.log_format) and sys.stderr.isatty() else None
    return run(settings, progress=progress)


def _write(flag: str, path: Path, text: str) -> None:
    """``text`` into the file ``path`` that ``flag`` names; ``SettingsError`` (one line)
    when it cannot be written (a directory, a missing folder, no permission)."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"{flag} {path}: cannot write: {exc.strerror or exc}") from None


def _folder(flag: str, name: str) -> Path:
    """The existing folder ``flag`` names; ``SettingsError`` (one line) otherwise."""
    path = Path(name)
    if not path.is_dir():
        raise SettingsError(f"{flag} {name}: " + ("not a folder" if path.exists() else "no such folder"))
    return path


def _instant(flag: str, text: str) -> datetime:
    """The ISO 8601 date or instant ``flag`` gives (UTC when it names no offset)."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise SettingsError(
            f"{flag} must be an ISO 8601 date or instant (2024-06-01, 2024-06-01T12:00:00Z), got {json_text(text)}"
        ) from None


def _generate(args: argparse.Namespace) -> int:
    from gateway.demo import generate_dataset

    if args.jobs < 0:
        raise SettingsError(f"--jobs must not be negative, got {args.jobs}")
    if args.collectors < 1:
        raise SettingsError(f"--collectors must be at least 1, got {args.collectors}")
    end = _instant("--end", args.end) if args.end else datetime.now(UTC)
    show = None
    if args.jobs >= 10_000 and sys.stderr.isatty():
        bar = _progress()

        def show(done: int, total: int) -> None:
            bar("generating jobs", done, total)

    data = generate_dataset(args.jobs, end=end, seed=args.seed, collectors=args.collectors, progress=show)
    _write("--out", Path(args.out), json_util.dumps({"collections": data}, json_options=RELAXED_JSON_OPTIONS))
    jobs, collectors = counted(len(data["job"]), "job"), counted(len(data["collector"]), "collector")
    print(f"wrote {jobs} and {collectors} to {args.out}")
    return 0


def _export_schema(args: argparse.Namespace) -> int:
    from gateway.graphql.schema import export_sdl

    sdl = export_sdl()
    if args.out == "-":
        sys.stdout.write(sdl)
    else:
        _write("--out", Path(args.out), sdl)
        print(f"wrote {args.out}")
    return 0


def _export_documents(args: argparse.Namespace) -> int:
    from gateway.http.documents import export_documents

    operations, out = _folder("--operations", args.operations), _folder("--out", args.out)
    for name, text in export_documents(operations).items():
        _write("--out", out / name, text)
        print(f"wrote {out / name}")
    return 0


def _create_indexes(args: argparse.Namespace) -> int:
    import asyncio

    from pymongo.errors import PyMongoError

    from gateway.errors import GatewayError
    from gateway.store.factory import collection_names
    from gateway.store.indexes import ensure_indexes
    from gateway.store.mongo import MongoJobStore

    # It serves no caller: serving's authentication requirement does not apply.
    settings = Settings.from_environ(os.environ, insecure_no_auth=True)
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


def _dev_token(args: argparse.Namespace) -> int:
    from gateway.devtoken import dev_token

    if os.environ.get("MONGODB_URI"):
        raise SettingsError(
            "dev-token makes tokens for trying the gateway locally and refuses to run with MONGODB_URI set: "
            "a real inventory takes the tokens of SpaceONE's identity service"
        )
    token, written = dev_token(args.domain, args.projects, Path(args.keys), hours=args.hours)
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    print(f"serve with: JOB_GATEWAY_JWT_PUBLIC_KEYS={shlex.quote(args.keys)} {_invoked()} serve", file=sys.stderr)
    print(token)
    return 0


def _invoked() -> str:
    """How this command was started, to repeat in a hint: ``.venv/bin/job-gateway``
    (relative to the working directory when under it), or ``python -m gateway``."""
    program = sys.argv[0] if sys.argv and sys.argv[0] else "job-gateway"
    if Path(program).name == "__main__.py":
        return "python -m gateway"
    if "/" not in program:
        return shlex.quote(program)
    relative = os.path.relpath(program)
    return shlex.quote(program if relative.startswith("..") else relative)


def _environment(rows: Sequence[SettingRow]) -> str:
    """The epilog of a subcommand's --help: the variables that affect it, with defaults."""
    if not rows:
        return "No environment variable affects this command."
    width = max(len(row.env) for row in rows)
    shown = max(len(row.shown_default) for row in rows)
    lines = ["environment (flags win over it; an empty value counts as unset):"]
    lines.append(f"  {'variable':<{width}}  {'default':<{shown}}  meaning")
    for row in rows:
        accepts = f" ({row.accepts})" if row.choices else ""
        lines.append(f"  {row.env:<{width}}  {row.shown_default:<{shown}}  {row.meaning}{accepts}")
    return "\n".join(lines)


def _flag(parser: argparse.ArgumentParser, row: SettingRow) -> None:
    """The `serve` flag of a setting, its help from the settings table."""
    assert row.flag is not None
    text = f"{row.meaning} (default {row.shown_default}; {row.env})"
    if row.kind == "bool":
        parser.add_argument(row.flag, dest=row.name, action="store_const", const=True, help=text)
    elif row.kind == "paths":
        text = f"load this data file into the embedded engine (repeatable; default {row.shown_default}; {row.env})"
        parser.add_argument(row.flag, dest=row.name, action="append", metavar="FILE", help=text, type=str)
    else:
        parser.add_argument(row.flag, dest=row.name, type=int if row.kind == "int" else str, help=text)


def _command(sub: Any, name: str, summary: str, rows: Sequence[SettingRow] = ()) -> argparse.ArgumentParser:
    return sub.add_parser(
        name,
        help=summary,
        description=summary,
        epilog=_environment(rows),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def build_parser() -> argparse.ArgumentParser:
    """The command line: one subcommand each; every --help lists its flags and the
    environment variables that affect it, with defaults, from the settings table."""
    parser = argparse.ArgumentParser(prog="job-gateway", description=__doc__)
    parser.add_argument("--version", action="version", version=f"job-gateway {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    table = settings_table()
    by_env = {row.env: row for row in table}

    serve = _command(sub, "serve", "serve GraphQL and REST (embedded demo data unless MONGODB_URI is set)", table)
    for row in table:
        if row.flag:
            _flag(serve, row)
    serve.set_defaults(run=_serve)

    gen = _command(sub, "generate", "write a deterministic demo dataset")
    gen.add_argument("--jobs", type=int, default=3000, help="number of jobs (default 3000)")
    gen.add_argument("--collectors", type=int, default=36, help="number of collectors (default 36)")
    gen.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    gen.add_argument("--end", help="ISO instant the 60 days end at (default now)")
    gen.add_argument("--out", required=True, help="output file (Extended JSON)")
    gen.set_defaults(run=_generate)

    export = _command(sub, "export-schema", "write the GraphQL SDL")
    export.add_argument("--out", default="schema/schema.graphql", help="output file, or - for stdout")
    export.set_defaults(run=_export_schema)

    documents = _command(
        sub, "export-documents", "write the trusted-documents manifest and GraphiQL's examples from the operations"
    )
    documents.add_argument("--operations", default="schema/operations", help="folder of *.graphql operations")
    documents.add_argument("--out", default="gateway/http", help="output folder")
    documents.set_defaults(run=_export_documents)

    index_rows = [by_env[env] for env in _CREATE_INDEXES_ENV]
    indexes = _command(sub, "create-indexes", "create the MongoDB indexes the queries need (idempotent)", index_rows)
    indexes.set_defaults(run=_create_indexes)

    token = _command(
        sub,
        "dev-token",
        "print a signed token for trying authentication locally (writes a key file once; refuses MONGODB_URI)",
        [by_env["MONGODB_URI"]],
    )
    token.add_argument("--domain", required=True, help="the domain id the token names (did)")
    token.add_argument("--projects", nargs="+", metavar="PROJECT", help="scope the token to these projects")
    token.add_argument(
        "--keys",
        default="dev-keys.json",
        help="public keys file to write (default dev-keys.json)",
    )
    token.add_argument(
        "--hours", type=float, default=12.0, help="hours the token is valid, above 0, at most 8784 (default 12)"
    )
    token.set_defaults(run=_dev_token)
    return parser


_CREATE_INDEXES_ENV = (
    "MONGODB_URI",
    "JOB_GATEWAY_DATABASE",
    "JOB_GATEWAY_JOB_COLLECTION",
    "JOB_GATEWAY_COLLECTOR_COLLECTION",
    "JOB_GATEWAY_SERVER_SELECTION_TIMEOUT_MS",
)


# The shell's status for a command stopped by SIGINT (128 + 2).
INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    """The ``job-gateway`` command (also ``python -m gateway``): runs the subcommand
    ``argv`` names (``sys.argv[1:]`` when None) and returns its exit status: 0; 2 when
    a bad setting, data file or value stops it (one line on stderr, never a
    traceback); 130 when Ctrl-C stops it before it serves (loading data, generating;
    one line)."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (SettingsError, DataFileError, ValueError) as exc:
        print(f"job-gateway: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # On a terminal a progress bar may be half drawn: the line starts afresh.
        print(f"{chr(10) if sys.stderr.isatty() else ''}job-gateway: interrupted", file=sys.stderr)
        return INTERRUPTED
