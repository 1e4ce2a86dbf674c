"""Dotted field paths over stored documents, by MongoDB's two sets of rules.

- In a query predicate (``find``, ``$match``) a path reaches into arrays: ``a.b`` over
  ``{a: [{b: 1}, {b: 2}]}`` gives both 1 and 2 as candidates, and a numeric part also
  indexes the array (https://www.mongodb.com/docs/manual/tutorial/query-array-of-documents/).
  Where a path finds no value - a missing field, a parent that is null or a scalar, an
  element without the field, an empty array, an array of scalars - that branch gives
  ``MISSING``, which equality to null matches: "a dotted path that does not resolve to
  a non-null value evaluates as null"
  (https://www.mongodb.com/docs/manual/release-notes/9.0-compatibility/, "Null
  Comparisons on Dotted Paths That Traverse Arrays"). The leaf value is given as is;
  operators look into a leaf array themselves.
- In an aggregation expression (``"$a.b"``) a path over an array gives the array of
  the values its elements hold, elements without the field left out, nested arrays kept
  nested, and numeric parts are field names, never indexes
  (https://www.mongodb.com/docs/manual/core/field-paths/ ,
  https://www.mongodb.com/docs/manual/reference/operator/aggregation/push/ examples).
- In a sort key (``find(...).sort``, ``$sort``) a path reaches into arrays as in a
  query, except that a numeric part over an array only indexes it: ``a.0.b`` is the
  ``b`` of ``a``'s first element alone, and an array found as that element is one value,
  compared whole, not by its elements (MongoDB's jstests
  ``jstests/core/query/sort/sort_dotted_paths_numeric.js``; the sort key is the index
  key, https://www.mongodb.com/docs/manual/core/indexes/index-types/index-multikey/).
- Everywhere a numeric part written with a leading zero (``a.00``) is a field name,
  never an index (jstests ``match_numeric_components.js``; SERVER-31977).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.store.bsonorder import MISSING

Document = dict[str, Any]


def query_values(path: str) -> Callable[[Any], list[Any]]:
    """A function giving the candidate values of ``path`` in a document, for queries."""
    parts = tuple(path.split("."))
    if len(parts) == 1:
        (name,) = parts

        def top(doc: Any) -> list[Any]:
            return [doc.get(name, MISSING)] if isinstance(doc, dict) else [MISSING]

        return top

    def values(doc: Any) -> list[Any]:
        out: list[Any] = []
        _collect(doc, parts, 0, out)
        return out

    return values


def _collect(value: Any, parts: tuple[str, ...], i: int, out: list[Any]) -> None:
    if i == len(parts):
        out.append(value)
        return
    part = parts[i]
    if isinstance(value, dict):
        if part in value:
            _collect(value[part], parts, i + 1, out)
        else:
            out.append(MISSING)
        return
    if isinstance(value, list):
        found = len(out)
        scalar = False
        for element in value:
            if isinstance(element, dict):
                _collect(element, parts, i, out)
            else:
                scalar = True  # a scalar or a nested array: no value here
        if 0 <= _index(part) < len(value):
            _collect(value[int(part)], parts, i + 1, out)
        elif scalar or len(out) == found:
            out.append(MISSING)  # an empty array, or elements that hold no such field
        return
    out.append(MISSING)


def _index(part: str) -> int:
    """The array index a path part names (digits, no leading zero); -1 for none."""
    if part.isascii() and part.isdigit() and (part == "0" or part[0] != "0"):
        return int(part)
    return -1


class Whole:
    """An array that is one sort-key value (an array's element reached by index)."""

    __slots__ = ("value",)

    def __init__(self, value: list[Any]) -> None:
        self.value = value


def sort_values(path: str) -> Callable[[Any], list[Any]]:
    """A function giving the values ``path`` contributes to a document's sort key:
    as ``query_values``, but a numeric part over an array only indexes it, and an
    array reached so is given as ``Whole`` (see the module's sort-key rule)."""
    parts = tuple(path.split("."))
    if not any(_index(part) >= 0 for part in parts):
        return query_values(path)

    def values(doc: Any) -> list[Any]:
        out: list[Any] = []
        _sort_collect(doc, parts, 0, out, False)
        return out

    return values


def _sort_collect(value: Any, parts: tuple[str, ...], i: int, out: list[Any], element: bool) -> None:
    if i == len(parts):
        out.append(Whole(value) if element and isinstance(value, list) else value)
        return
    part = parts[i]
    if isinstance(value, dict):
        if part in value:
            _sort_collect(value[part], parts, i + 1, out, False)
        else:
            out.append(MISSING)
        return
    if isinstance(value, list):
        index = _index(part)
        if index >= 0:
            if index < len(value):
                _sort_collect(value[index], parts, i + 1, out, True)
            else:
                out.append(MISSING)
            return
        found = len(out)
        scalar = False
        for item in value:
            if isinstance(item, dict):
                _sort_collect(item, parts, i, out, False)
            else:
                scalar = True
        if scalar or len(out) == found:
            out.append(MISSING)
        return
    out.append(MISSING)


def exists(values: list[Any]) -> bool:
    """Whether any candidate is an actual value (``$exists: true``)."""
    return any(v is not MISSING for v in values)


def expression_value(doc: Any, parts: tuple[str, ...]) -> Any:
    """The value of the field path ``parts`` in ``doc`` for aggregation expressions."""
    value = doc
    for i, part in enumerate(parts):
        if isinstance(value, dict):
            value = value.get(part, MISSING)
            if value is MISSING:
                return MISSING
        elif isinstance(value, list):
            return _through_array(value, parts[i:])
        else:
            return MISSING
    return value


def _through_array(array: list[Any], parts: tuple[str, ...]) -> list[Any]:
    out = []
    for element in array:
        if isinstance(element, dict):
            value = expression_value(element, parts)
        elif isinstance(element, list):
            value = _through_array(element, parts)
        else:
            continue
        if value is not MISSING:
            out.append(value)
    return out
