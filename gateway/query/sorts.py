"""Sort keys (``spaceone.api.core.v1.Sort``, ``AggregateSort``): the one reading of a
sort, for a list's ``sort`` and a statistics ``sort`` stage.

As the reference server reads it (cloudforet-io/python-core, ``MongoModel``): ``key``
when it is set, else ``keys``; an unset ``key`` (``""``) and an empty ``keys`` are
absent (proto3 defaults), so ``{"desc": true}`` alone names no key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.display import json_text
from gateway.errors import InvalidQuery, RequiredParameter
from gateway.query.fields import KeyReader

SortKeys = list[tuple[str, int]]


def read_sort(
    sort: Mapping[str, Any] | None, where: str, path: KeyReader, *, keys_at: str | None = None
) -> SortKeys | None:
    """``[(path, 1 | -1), ...]`` from a canonical ``Sort`` message (its keys bounded by
    the reader, ``max_sort_keys``), each key read by ``path`` (which checks it); None
    when the sort names no key. Errors name the entries of ``keys`` at ``keys_at``
    (default ``{where}.keys``: the client's spelling of them, ``query.sort`` for the
    contract's list form).

    Raises ``RequiredParameter`` for an entry of ``keys`` without a key,
    ``InvalidQuery`` for a key given twice."""
    if not sort:
        return None
    if "key" in sort:
        return [(path(sort["key"], f"{where}.key"), -1 if sort.get("desc") else 1)]
    entries = sort.get("keys")
    if not entries:
        return None
    at = keys_at or f"{where}.keys"
    keys: SortKeys = []
    for i, entry in enumerate(entries):
        if "key" not in entry:
            raise RequiredParameter(f"{at}[{i}] has no key.")
        key = path(entry["key"], f"{at}[{i}].key")
        if any(key == seen for seen, _ in keys):
            raise InvalidQuery(f"{at}[{i}]: the key {json_text(key)} is given twice.")
        keys.append((key, -1 if entry.get("desc") else 1))
    return keys
