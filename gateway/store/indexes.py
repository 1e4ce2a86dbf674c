"""The indexes the gateway's query patterns need, and an idempotent way to create them.

An index is looked for by its key pattern, whatever its name, so running this against
a SpaceONE database that already indexes `job_id` (under its own name) is a no-op.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.store.base import COLLECTOR, JOB, Collection


@dataclass(frozen=True)
class IndexSpec:
    collection: Collection
    keys: tuple[tuple[str, int], ...]
    name: str
    unique: bool = False
    why: str = ""


INDEXES = (
    IndexSpec(JOB, (("job_id", 1),), "job_id_unique", unique=True, why="job(jobId), job_id filters"),
    IndexSpec(
        JOB, (("domain_id", 1), ("created_at", -1)), "domain_created_at", why="every list's scope and default sort"
    ),
    IndexSpec(
        JOB,
        (("domain_id", 1), ("status", 1), ("created_at", -1)),
        "domain_status_created_at",
        why="status filters and per-status statistics",
    ),
    IndexSpec(JOB, (("collector_id", 1),), "collector_id", why="collector_info.* conditions"),
    IndexSpec(JOB, (("projects", 1),), "projects", why="project-scoped callers"),
    IndexSpec(COLLECTOR, (("collector_id", 1),), "collector_id", why="collector lookups and the stat join"),
)


async def ensure_indexes(database: Any, names: Mapping[Collection, str]) -> list[str]:
    """Create the missing indexes; return one line per index saying what was done."""
    report = []
    for spec in INDEXES:
        collection = database.get_collection(names[spec.collection])
        existing = await collection.index_information()
        same = [name for name, info in existing.items() if tuple(tuple(k) for k in info["key"]) == spec.keys]
        keys = ", ".join(f"{field} {'asc' if order == 1 else 'desc'}" for field, order in spec.keys)
        where = f"{names[spec.collection]} ({keys})"
        if same:
            report.append(f"exists   {where} as {same[0]}")
            continue
        await collection.create_index(list(spec.keys), name=spec.name, unique=spec.unique)
        report.append(f"created  {where} as {spec.name}{' unique' if spec.unique else ''}: {spec.why}")
    return report
