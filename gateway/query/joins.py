"""Joining a job's collector inside a pipeline (statistics, and lists sorted by a
collector field)."""

from __future__ import annotations

from typing import Any

from gateway.query.paths import COLLECTOR_INFO


def collector_join(collector_collection: str) -> list[dict[str, Any]]:
    """`collector_info` on each job: its collector by `collector_id`, or by the old
    `collector` reference, and only a collector of the job's own domain."""
    candidates = {"$concatArrays": ["$_by_id", "$_by_ref"]}
    same_domain = {"$filter": {"input": candidates, "as": "c", "cond": {"$eq": ["$$c.domain_id", "$domain_id"]}}}
    return [
        {
            "$lookup": {
                "from": collector_collection,
                "localField": "collector_id",
                "foreignField": "collector_id",
                "as": "_by_id",
            }
        },
        {"$lookup": {"from": collector_collection, "localField": "collector", "foreignField": "_id", "as": "_by_ref"}},
        {"$addFields": {COLLECTOR_INFO: {"$arrayElemAt": [same_domain, 0]}}},
        {"$project": {"_by_id": 0, "_by_ref": 0}},
    ]
