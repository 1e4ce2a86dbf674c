"""Data files of the fixture's shape: ``{"collections": {"job": [...], "collector": [...]}}``
in MongoDB Extended JSON (relaxed or canonical)."""

from __future__ import annotations

from pathlib import Path

from bson import json_util

from gateway.store.base import COLLECTOR, JOB, Collection, Document


class DataFileError(ValueError):
    """A data file that cannot be loaded; the message names the file."""


def read_data_file(path: str | Path) -> dict[Collection, list[Document]]:
    try:
        data = json_util.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataFileError(f"{path}: cannot read data file: {exc}") from None
    collections = data.get("collections") if isinstance(data, dict) else None
    if not isinstance(collections, dict):
        raise DataFileError(f"{path}: expected an object with a 'collections' object")
    loaded: dict[Collection, list[Document]] = {}
    for name in (JOB, COLLECTOR):
        docs = collections.get(name, [])
        if not isinstance(docs, list) or not all(isinstance(d, dict) for d in docs):
            raise DataFileError(f"{path}: collections.{name} must be a list of objects")
        loaded[name] = docs
    return loaded
