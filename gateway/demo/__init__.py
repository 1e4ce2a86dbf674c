"""Demo data: the published example plus a deterministic generated inventory.

The generator is seeded and anchored to an end instant, so the same arguments always
give the same documents; `serve` anchors it to now so that "last 7 days" dashboards
have data.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path

from bson import ObjectId

from gateway.store.base import COLLECTOR, JOB, Collection, Document

DEMO_DOMAINS = ("domain-58010aa2e451", "domain-c0ffee000002")
STATUS_WEIGHTS = {
    "SUCCESS": 55,
    "ERROR": 12,
    "TIMEOUT": 5,
    "CANCELED": 5,
    "IN_PROGRESS": 10,
    "CREATED": 13,
}
PROVIDERS = {
    "aws": ("plugin-aws-ec2-inven-collector", "aws_access_key"),
    "google_cloud": ("plugin-google-cloud-inven-collector", "google_oauth2_credentials"),
    "azure": ("plugin-azure-inven-collector", "azure_client_secret"),
    "openstack": ("plugin-openstack-inven-collector", "openstack_credentials"),
}
ERRORS = (
    ("ERROR_AUTHENTICATE_FAILURE", "Authentication failed: the secret has expired."),
    ("ERROR_COLLECTOR_STATE", "Collector plugin crashed while listing resources."),
    ("ERROR_GRPC_CONNECTION", "Plugin endpoint is not reachable."),
    ("ERROR_TASK_TIMEOUT", "Task did not finish within 3600 seconds."),
)
REGIONS = ("us-east-1", "ap-northeast-2", "eu-west-1", "asia-northeast3", "koreacentral")

Progress = Callable[[int, int], None]


def fixture_path() -> Path:
    """The published example, shipped with the package."""
    return Path(str(resources.files("gateway.demo").joinpath("seed_jobs.json")))


def _hex(rng: random.Random, digits: int = 12) -> str:
    return f"{rng.getrandbits(digits * 4):0{digits}x}"


def generate_collectors(rng: random.Random, count: int, end: datetime) -> list[Document]:
    """``count`` collector documents shaped as the inventory service stores them,
    drawn from ``rng`` (the same seed gives the same ones), created 90 to 390 days
    before ``end`` (naive UTC): providers cycle fastest, then the demo domains."""
    collectors = []
    for i in range(count):
        provider = list(PROVIDERS)[i % len(PROVIDERS)]
        plugin_id, schema = PROVIDERS[provider]
        created = end - timedelta(days=90 + rng.randrange(300), seconds=rng.randrange(86400))
        collectors.append(
            {
                "_id": ObjectId(_hex(rng, 24)),
                "collector_id": f"collector-{_hex(rng)}",
                "name": f"{provider}-collector-{i:02d}",
                "state": "DISABLED" if i % 9 == 8 else "ENABLED",
                "plugin_info": {
                    "plugin_id": plugin_id,
                    "version": f"1.{rng.randrange(20)}.{rng.randrange(10)}",
                    "options": {},
                    "secret_id": f"secret-{_hex(rng)}",
                    "provider": provider,
                    "metadata": {},
                    "upgrade_mode": ("AUTO", "MANUAL", "NONE")[i % 3],
                },
                "priority": 10,
                "tags": {"team": ("platform", "security", "finops")[i % 3]},
                "provider": provider,
                "capability": {"supported_schema": [schema]},
                "is_public": i % 4 != 3,
                "project_id": None,
                # Every provider in every domain: providers cycle fastest.
                "domain_id": DEMO_DOMAINS[(i // len(PROVIDERS)) % len(DEMO_DOMAINS)],
                "created_at": created,
                "last_collected_at": end - timedelta(minutes=rng.randrange(600)),
            }
        )
    return collectors


def _job(rng: random.Random, collector: Document, created: datetime, projects: list[str]) -> Document:
    status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
    total = rng.randrange(1, 40)
    remained = {"CREATED": total, "IN_PROGRESS": rng.randrange(1, total + 1)}.get(status, 0)
    if status in ("ERROR", "TIMEOUT", "CANCELED"):
        remained = rng.randrange(0, total + 1)
    errors = []
    if status in ("ERROR", "TIMEOUT"):
        for _ in range(rng.randrange(1, 4)):
            code, message = rng.choice(ERRORS)
            errors.append({"error_code": code, "message": message, "additional": {"task_id": f"task-{_hex(rng)}"}})
    finished = None
    if status not in ("CREATED", "IN_PROGRESS"):
        finished = created + timedelta(seconds=rng.randrange(5, 3600), milliseconds=rng.randrange(1000))
    touched = rng.sample(projects, rng.randrange(0, 3))
    return {
        "job_id": f"job-{_hex(rng)}",
        "status": status,
        "filters": {"region_name": rng.choice(REGIONS)} if rng.random() < 0.3 else {},
        "total_tasks": total,
        "remained_tasks": remained,
        "errors": errors,
        "collector_id": collector["collector_id"],
        "project_id": touched[0] if touched and rng.random() < 0.5 else None,
        "projects": touched,
        "domain_id": collector["domain_id"],
        "created_at": created,
        "updated_at": finished or created,
        "finished_at": finished,
    }


def generate_dataset(
    jobs: int,
    *,
    end: datetime,
    seed: int = 7,
    collectors: int = 36,
    days: int = 60,
    progress: Progress | None = None,
) -> dict[Collection, list[Document]]:
    """`jobs` jobs over `collectors` collectors, two domains, `days` days up to `end`.

    About 2% of jobs use the old `collector` reference (the collector's `_id`) and
    about 1% point at a collector that no longer exists.
    """
    rng = random.Random(seed)
    end = end.replace(tzinfo=None)
    cols = generate_collectors(rng, collectors, end)
    projects = {d: [f"project-{_hex(rng)}" for _ in range(6)] for d in DEMO_DOMAINS}
    out: list[Document] = []
    for i in range(jobs):
        collector = cols[rng.randrange(len(cols))]
        created = end - timedelta(seconds=rng.randrange(days * 86400), milliseconds=rng.randrange(1000))
        job = _job(rng, collector, created, projects[collector["domain_id"]])
        roll = rng.random()
        if roll < 0.02:
            del job["collector_id"]
            job["collector"] = collector["_id"]
        elif roll < 0.03:
            job["collector_id"] = f"collector-{_hex(rng)}"  # deleted since
        out.append(job)
        if progress is not None and (i + 1) % 1000 == 0:
            progress(i + 1, jobs)
    if progress is not None:
        progress(jobs, jobs)
    return {JOB: out, COLLECTOR: cols}
