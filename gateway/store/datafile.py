"""Data files of the fixture's shape: ``{"collections": {"job": [...], "collector": [...]}}``
in MongoDB Extended JSON (relaxed or canonical)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bson import json_util
from bson.errors import BSONError

from gateway.store.base import COLLECTOR, JOB, Collection, Document


class DataFileError(ValueError):
    """A data file that cannot be loaded; the message is one line naming the file, the
    position (line and column, or the document) and what is wrong."""


def read_data_file(path: str | Path) -> dict[Collection, list[Document]]:
    """The job and collector documents of the file at ``path`` (lists, possibly empty).

    Raises ``DataFileError`` when the file cannot be read, is not JSON, holds an
    Extended JSON value that does not convert (``{"$date": "soon"}``), or is not of
    the fixture's shape."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError(f"{path}: cannot read: {exc}") from None
    try:
        data = json_util.loads(text)
    except json.JSONDecodeError as exc:
        raise DataFileError(f"{path}: line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except (ValueError, TypeError, BSONError) as exc:
        raise DataFileError(f"{path}: {_where_extended_json_fails(text)}{exc}") from None
    collections = data.get("collections") if isinstance(data, dict) else None
    if not isinstance(collections, dict):
        raise DataFileError(f'{path}: expected an object {{"collections": {{"job": [...], "collector": [...]}}}}')
    loaded: dict[Collection, list[Document]] = {}
    for name in (JOB, COLLECTOR):
        docs = collections.get(name, [])
        if not isinstance(docs, list):
            raise DataFileError(f"{path}: collections.{name} must be a list of objects, got {_kind(docs)}")
        for i, doc in enumerate(docs):
            if not isinstance(doc, dict):
                raise DataFileError(f"{path}: collections.{name}[{i}] must be an object, got {_kind(doc)}")
        loaded[name] = docs
    return loaded


def _kind(value: Any) -> str:
    """The value as JSON, cut short."""
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:39] + "…"


def _where_extended_json_fails(text: str) -> str:
    """The document holding the first Extended JSON value that does not convert, as
    ``collections.job[17]: `` (empty when it cannot be told)."""
    try:
        collections = json.loads(text)["collections"]
        for name, docs in collections.items():
            for i, doc in enumerate(docs):
                try:
                    json_util.loads(json.dumps(doc))
                except (ValueError, TypeError, BSONError):
                    return f"collections.{name}[{i}]: "
    except (ValueError, TypeError, KeyError, AttributeError):
        pass
    return ""
