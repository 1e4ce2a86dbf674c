"""Open the store the settings ask for: MongoDB when a URI is given, else the
embedded engine loaded with data files or the demo data."""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bson import json_util
from pymongo.errors import PyMongoError

from gateway.demo import fixture_path, generate_dataset
from gateway.display import counted
from gateway.settings import Settings
from gateway.store.base import COLLECTOR, JOB, Collection, Document, JobStore
from gateway.store.datafile import DataFileError, read_data_file
from gateway.store.documents import NotStorable
from gateway.store.memory import MemoryJobStore
from gateway.store.mongo import MongoJobStore

log = logging.getLogger("gateway")


def collection_names(settings: Settings) -> dict[str, str]:
    """The database's names of the logical collections: ``{"job": ..., "collector": ...}``
    from ``JOB_GATEWAY_JOB_COLLECTION`` / ``JOB_GATEWAY_COLLECTOR_COLLECTION``."""
    return {JOB: settings.job_collection, COLLECTOR: settings.collector_collection}


# A loading step's progress: (what is being done, units done, units in all).
LoadProgress = Callable[[str, int, int], None]
_CHUNK = 10_000  # documents per insert: the unit of loading progress


@dataclass(frozen=True)
class LoadedData:
    """What the embedded engine holds, for the start-up banner."""

    source: str  # "the demo data (...)" or the data files
    jobs: int
    collectors: int
    domains: int


def load_memory_store(settings: Settings, progress: LoadProgress | None = None) -> tuple[MemoryJobStore, LoadedData]:
    """The embedded engine loaded with ``settings.data_files``, or with the published
    example plus ``settings.demo_jobs`` generated jobs; and what it holds.

    ``progress`` hears each step: reading a file (0 then 1 of 1), then inserting its
    documents (count so far of all). Raises ``DataFileError`` (one line) when a file
    cannot be loaded, a document's ``_id`` included twice among them."""
    # Loading allocates millions of objects that live as long as the process: the cyclic
    # garbage collector would scan them all, again and again, while they are made (it
    # tripled the load time) and at every full collection afterwards (a cost that grows
    # with the data, paid by requests). Paused while loading, then they are frozen out
    # of its reach (https://docs.python.org/3/library/gc.html#gc.freeze).
    gc.disable()
    try:
        store, data = _load_memory_store(settings, progress)
    finally:
        gc.enable()
    gc.freeze()
    return store, data


def _load_memory_store(settings: Settings, progress: LoadProgress | None) -> tuple[MemoryJobStore, LoadedData]:
    report = progress or (lambda what, done, total: None)
    store = MemoryJobStore(collection_names(settings), max_time_ms=settings.max_time_ms)  # type: ignore[arg-type]
    if settings.data_files:
        sources = [(path, _read(path, report)) for path in settings.data_files]
        source = ", ".join(settings.data_files)
    else:
        sources = [
            ("the published example", read_data_file(fixture_path())),
            ("the demo data", generate_dataset(settings.demo_jobs, end=datetime.now(UTC))),
        ]
        source = f"the published example + {settings.demo_jobs:,} generated demo jobs"
    domains: set[object] = set()
    for path, loaded in sources:
        for name, docs in loaded.items():
            _insert(store, path, name, docs, report)
        domains.update(job.get("domain_id") for job in loaded[JOB])
        counts = counted(len(loaded[JOB]), "job"), counted(len(loaded[COLLECTOR]), "collector")
        log.info("loaded %s: %s, %s", path, *counts)
    report("indexing", 0, 1)
    store.prepare()
    report("indexing", 1, 1)
    jobs = sum(len(loaded[JOB]) for _, loaded in sources)
    collectors = sum(len(loaded[COLLECTOR]) for _, loaded in sources)
    return store, LoadedData(source, jobs, collectors, len(domains))


def _read(path: str, report: LoadProgress) -> dict[Collection, list[Document]]:
    try:
        what = f"reading {path} ({Path(path).stat().st_size / 1e6:.1f} MB)"
    except OSError:  # read_data_file says what is wrong with it
        what = f"reading {path}"
    report(what, 0, 1)
    loaded = read_data_file(path)
    report(what, 1, 1)
    return loaded


def _insert(store: MemoryJobStore, path: str, name: Collection, docs: list[Document], report: LoadProgress) -> None:
    what = f"loading {name} documents of {path}"
    for start in range(0, len(docs), _CHUNK):
        chunk = docs[start : start + _CHUNK]
        try:
            store.insert(name, chunk)
        except PyMongoError as exc:
            raise DataFileError(f"{path}: collections.{name}{_insert_error(exc, chunk, start)}") from None
        except NotStorable as exc:
            at = f"collections.{name}[{start + (exc.index or 0)}]" + (f".{exc.where}" if exc.path else "")
            at = at.replace(".[", "[")
            raise DataFileError(f"{path}: {at}: {exc.problem}") from None
        if len(docs) > _CHUNK:
            report(what, min(start + _CHUNK, len(docs)), len(docs))


def _insert_error(exc: PyMongoError, chunk: list[Document], start: int) -> str:
    """``[index]: what is wrong`` of a refused insert (the index: the document of
    ``chunk`` whose ``_id`` was loaded before, in this chunk, an earlier one or file)."""
    details = getattr(exc, "details", None) or {}
    for error in details.get("writeErrors", []):
        if error.get("code") == 11000:
            key = error.get("op", {}).get("_id")
            found = [i for i, doc in enumerate(chunk) if doc.get("_id") == key]
            at = f"[{start + found[min(1, len(found) - 1)]}]" if found else ""
            return f"{at}: _id {json_util.dumps(key)} is loaded twice"
    return f": {exc}"


def memory_store(settings: Settings) -> MemoryJobStore:
    """``load_memory_store`` without progress: just the store."""
    return load_memory_store(settings)[0]


def open_store(settings: Settings) -> JobStore:
    """The store ``settings`` ask for: a ``MongoJobStore`` on ``mongodb_uri`` when one
    is given (no I/O yet; its budget ``max_time_ms`` ms), else the embedded engine
    loaded as ``load_memory_store`` does. Raises ``DataFileError`` when a data file
    cannot be loaded, pymongo's ``ConfigurationError`` for a URI it refuses."""
    if settings.mongodb_uri:
        return MongoJobStore(
            settings.mongodb_uri,
            database=settings.database,
            collection_names=collection_names(settings),  # type: ignore[arg-type]
            timeout_ms=settings.max_time_ms,
            server_selection_timeout_ms=settings.server_selection_timeout_ms,
            list_read_preference=settings.list_read_preference,
            stat_read_preference=settings.stat_read_preference,
        )
    return memory_store(settings)
