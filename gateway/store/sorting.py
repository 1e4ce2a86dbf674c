"""Sort keys for ``find(...).sort`` and ``$sort``, as MongoDB orders documents.

A field's key is the smallest of its values for an ascending sort and the largest for
a descending one: an array contributes its elements, an empty array sorts below null
and missing, and missing sorts as null; a path through an array of sub-documents
contributes each element's value, null where an element lacks the field
(https://www.mongodb.com/docs/manual/reference/bson-type-comparison-order/#arrays ,
.../reference/method/cursor.sort/#sort-consistency). A numeric part over an array
indexes it and nothing else, and an array found at that index is one value
(``fieldpaths.sort_values``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from gateway.store.bsonorder import EMPTY_ARRAY_SORT_KEY, MISSING, sort_key
from gateway.store.fieldpaths import Whole, sort_values

SortSpec = Sequence[tuple[str, int]]


class Descending:
    """A key ordered in reverse (for a descending field inside a tuple key)."""

    __slots__ = ("key",)

    def __init__(self, key: Any) -> None:
        self.key = key

    def __lt__(self, other: Descending) -> bool:
        return bool(other.key < self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Descending) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)


def field_keys(values: list[Any]) -> list[tuple[Any, ...]]:
    """The sort keys a field's candidate values contribute."""
    keys: list[tuple[Any, ...]] = []
    for value in values:
        if type(value) is Whole:
            keys.append(sort_key(value.value))
        elif type(value) is list:
            if value:
                keys.extend(sort_key(v) for v in value)
            else:
                keys.append(EMPTY_ARRAY_SORT_KEY)
        else:
            keys.append(sort_key(None if value is MISSING else value))
    return keys


def sort_key_function(spec: SortSpec) -> Callable[[Any], tuple[Any, ...]]:
    """A key function ordering documents by ``spec`` ((path, 1 | -1) pairs)."""
    fields = [(sort_values(path), direction) for path, direction in spec]

    def key(doc: Any) -> tuple[Any, ...]:
        out: list[Any] = []
        for values, direction in fields:
            keys = field_keys(values(doc))
            out.append(min(keys) if direction > 0 else Descending(max(keys)))
        return tuple(out)

    return key
