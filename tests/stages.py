"""StatisticsQuery stages written briefly in tests (section 4.2): a ``group`` stage and
the ``count`` field."""

from __future__ import annotations

from typing import Any


def group(keys: list[dict] | None = None, fields: list[dict] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if keys is not None:
        spec["keys"] = keys
    if fields is not None:
        spec["fields"] = fields
    return {"group": spec}


COUNT = {"name": "count", "operator": "count"}
