"""``job-gateway serve --simulate``: the embedded demo made live, so that a new user sees
subscriptions work with no database. Every tick, new collection jobs may start (on a
random collector of a demo domain); created jobs start running; running jobs see
``remained_tasks`` count down; a job with no task left finishes - mostly ``SUCCESS``,
sometimes ``ERROR`` (with errors) or ``TIMEOUT`` - as the inventory service would write
them. Only the embedded engine is ever written to (settings refuse ``--simulate`` with
``MONGODB_URI``).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime

from gateway.demo import DEMO_DOMAINS, ERRORS
from gateway.store.base import COLLECTOR, JOB, Document
from gateway.store.memory import MemoryJobStore

log = logging.getLogger("gateway.demo")
OUTCOMES = {"SUCCESS": 75, "ERROR": 17, "TIMEOUT": 8}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Simulator:
    """Drives jobs on ``store`` every ``tick`` seconds (``run`` until cancelled)."""

    def __init__(
        self,
        store: MemoryJobStore,
        *,
        tick: float = 1.0,
        starts_per_tick: float = 0.5,
        seed: int | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.store = store
        self.tick = tick
        self.starts_per_tick = starts_per_tick
        self.rng = random.Random(seed)
        self.clock = clock
        self.running: dict[object, Document] = {}  # _id -> job, of the jobs it started

    async def run(self) -> None:
        """Run ``step`` every ``tick`` seconds until cancelled, over the demo domains'
        collectors (nothing when there are none); a failed step is logged and the next
        one runs."""
        collectors = [c for c in await self.store.find(COLLECTOR, {}) if c.get("domain_id") in DEMO_DOMAINS]
        if not collectors:
            log.warning("--simulate: no demo collector to run jobs with")
            return
        log.info("--simulate: demo jobs start, progress and finish every %.1f s", self.tick)
        while True:
            try:
                await self.step(collectors)
            except Exception:
                log.exception("--simulate: a step failed")
            await asyncio.sleep(self.tick)

    async def step(self, collectors: list[Document]) -> None:
        """One tick: start jobs, advance the running ones."""
        starts = int(self.starts_per_tick) + (self.rng.random() < self.starts_per_tick % 1)
        for _ in range(starts):
            job = await self.store.insert_one(JOB, self._new_job(self.rng.choice(collectors)))
            self.running[job["_id"]] = job
        for key, job in list(self.running.items()):
            changes = self._advance(job)
            updated = await self.store.update_one(JOB, key, changes)
            if updated is None or updated["status"] not in ("CREATED", "IN_PROGRESS"):
                self.running.pop(key, None)
            else:
                self.running[key] = updated

    def _new_job(self, collector: Document) -> Document:
        now, total = self.clock(), self.rng.randrange(3, 20)
        return {
            "job_id": f"job-{self.rng.getrandbits(48):012x}",
            "status": "CREATED",
            "filters": {},
            "total_tasks": total,
            "remained_tasks": total,
            "errors": [],
            "collector_id": collector["collector_id"],
            "project_id": None,
            "projects": [],
            "domain_id": collector["domain_id"],
            "created_at": now,
            "updated_at": now,
            "finished_at": None,
        }

    def _advance(self, job: Document) -> Document:
        now = self.clock()
        if job["status"] == "CREATED":
            return {"status": "IN_PROGRESS", "updated_at": now}
        remained = max(int(job.get("remained_tasks") or 0) - self.rng.randrange(1, 4), 0)
        if remained:
            return {"remained_tasks": remained, "updated_at": now}
        outcome = self.rng.choices(list(OUTCOMES), weights=list(OUTCOMES.values()))[0]
        errors = []
        if outcome != "SUCCESS":
            code, message = self.rng.choice(ERRORS)
            errors.append({"error_code": code, "message": message, "additional": {}})
        return {"status": outcome, "remained_tasks": 0, "errors": errors, "updated_at": now, "finished_at": now}
