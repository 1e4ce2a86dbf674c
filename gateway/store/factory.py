"""Open the store the settings ask for: MongoDB when a URI is given, else the
embedded engine loaded with data files or the demo data."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from gateway.demo import fixture_path, generate_dataset
from gateway.settings import Settings
from gateway.store.base import COLLECTOR, JOB, JobStore
from gateway.store.datafile import read_data_file
from gateway.store.memory import MemoryJobStore
from gateway.store.mongo import MongoJobStore

log = logging.getLogger("gateway")


def collection_names(settings: Settings) -> dict[str, str]:
    return {JOB: settings.job_collection, COLLECTOR: settings.collector_collection}


def memory_store(settings: Settings) -> MemoryJobStore:
    store = MemoryJobStore(collection_names(settings), max_time_ms=settings.max_time_ms)  # type: ignore[arg-type]
    if settings.data_files:
        for path in settings.data_files:
            loaded = read_data_file(path)
            counts = {name: store.insert(name, docs) for name, docs in loaded.items()}
            log.info("loaded %s: %d jobs, %d collectors", path, counts[JOB], counts[COLLECTOR])
        return store
    for name, docs in read_data_file(fixture_path()).items():
        store.insert(name, docs)
    demo = generate_dataset(settings.demo_jobs, end=datetime.now(UTC))
    for name, docs in demo.items():
        store.insert(name, docs)
    log.info("embedded store: published example + %d generated demo jobs", settings.demo_jobs)
    return store


def open_store(settings: Settings) -> JobStore:
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
