"""A small, hand-made inventory whose every document is there to be matched or not
matched by some test. NOW is the clock the tests run the service with."""

from __future__ import annotations

from datetime import datetime

from bson import ObjectId

NOW = datetime(2024, 5, 15, 12, 0, 0)  # a Wednesday, UTC
D1 = "domain-aaaaaaaaaaaa"
D2 = "domain-bbbbbbbbbbbb"

OID_AWS = ObjectId("65f000000000000000000001")
OID_GCP = ObjectId("65f000000000000000000002")
OID_D2 = ObjectId("65f000000000000000000003")
OID_OLD = ObjectId("65f000000000000000000004")


def _collector(oid, cid, name, provider, state, domain, **extra):
    return {
        "_id": oid,
        "collector_id": cid,
        "name": name,
        "state": state,
        "plugin_info": {
            "plugin_id": f"plugin-{provider}",
            "version": "1.2.3",
            "options": {},
            "upgrade_mode": "AUTO",
            "provider": provider,
        },
        "priority": 10,
        "tags": {"team": "platform"},
        "provider": provider,
        "capability": {"supported_schema": [f"{provider}_key"]},
        "is_public": True,
        "project_id": None,
        "domain_id": domain,
        "created_at": datetime(2024, 1, 1),
        "last_collected_at": datetime(2024, 5, 15, 11, 0),
        **extra,
    }


COLLECTORS = [
    _collector(OID_AWS, "collector-aws000000001", "AWS prod", "aws", "ENABLED", D1),
    _collector(OID_GCP, "collector-gcp000000002", "Google Cloud", "google_cloud", "DISABLED", D1, is_public=False),
    _collector(OID_D2, "collector-aws000000003", "AWS other tenant", "aws", "ENABLED", D2),
    _collector(OID_OLD, "collector-old000000004", "Legacy OpenStack", "openstack", "ENABLED", D1),
]


def _job(job_id, status, created, **extra):
    doc = {
        "job_id": job_id,
        "status": status,
        "filters": {},
        "total_tasks": 1,
        "remained_tasks": 0,
        "errors": [],
        "collector_id": "collector-aws000000001",
        "project_id": None,
        "projects": [],
        "domain_id": D1,
        "created_at": created,
        "updated_at": created,
        "finished_at": None,
    }
    doc.update(extra)
    return doc


JOBS = [
    _job(
        "job-000000000001",
        "SUCCESS",
        datetime(2024, 5, 15, 10, 0),
        total_tasks=10,
        projects=["project-a"],
        project_id="project-a",
        filters={"region": "us-east-1"},
        finished_at=datetime(2024, 5, 15, 10, 5, 0, 123000),
    ),
    _job(
        "job-000000000002",
        "ERROR",
        datetime(2024, 5, 14, 8, 0),
        collector_id="collector-gcp000000002",
        total_tasks=5,
        remained_tasks=2,
        projects=["project-a", "project-b"],
        errors=[
            {"error_code": "ERROR_AUTH", "message": "Auth failed", "additional": {"task": "t1"}},
            {"error_code": "ERROR_QUOTA", "message": "Quota exceeded", "additional": {}},
        ],
        finished_at=datetime(2024, 5, 14, 8, 30),
    ),
    _job(
        "job-00000000abcd",
        "IN_PROGRESS",
        datetime(2024, 5, 10, 0, 0),
        total_tasks=3,
        remained_tasks=3,
    ),
    # An older database's job: no collector_id, the collector's _id instead.
    {
        **_job(
            "job-0000000old04",
            "TIMEOUT",
            datetime(2024, 4, 30, 23, 59, 59),
            projects=["project-b"],
            errors=[{"error_code": "ERROR_TIMEOUT", "message": "Took too long", "additional": {}}],
        ),
        "collector_id": None,
        "collector": OID_OLD,
    },
    # Its collector has been deleted.
    _job("job-00000000gone", "CANCELED", datetime(2024, 5, 1, 0, 0), collector_id="collector-deleted00000"),
    # `filters` holds a literal object that looks like an operator.
    _job("job-0000000000c6", "CREATED", datetime(2024, 5, 15, 11, 59), total_tasks=0, filters={"$ne": None}),
    # Same created_at as job-000000000001: ties are broken by _id.
    _job("job-000000000007", "SUCCESS", datetime(2024, 5, 15, 10, 0), total_tasks=7, tags_note="tie"),
    # Another tenant's job: never visible from D1.
    _job(
        "job-0000000000d8",
        "SUCCESS",
        datetime(2024, 5, 15, 9, 0),
        domain_id=D2,
        collector_id="collector-aws000000003",
        projects=["project-a"],
    ),
]

D1_JOB_IDS = {j["job_id"] for j in JOBS if j["domain_id"] == D1}
# Jobs the operator cases (tests/operator_cases.py) and their tests name.
J1, J2, JABCD, JOLD, JGONE, JC6, J7 = (
    "job-000000000001",
    "job-000000000002",
    "job-00000000abcd",
    "job-0000000old04",
    "job-00000000gone",
    "job-0000000000c6",
    "job-000000000007",
)


def dataset() -> dict[str, list[dict]]:
    """Fresh copies (stores may add `_id`s to what they insert)."""
    import copy

    jobs = copy.deepcopy(JOBS)
    for i, job in enumerate(jobs):
        job["_id"] = ObjectId(f"66a{i:021d}")
    return {"job": jobs, "collector": copy.deepcopy(COLLECTORS)}
