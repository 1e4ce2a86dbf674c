"""``find`` projections, and copies of stored documents.

Inclusion keeps the named paths in the document's own field order, ``_id`` too unless
excluded; a dotted path keeps that field inside each sub-document of an array (other
elements dropped) and keeps an embedded document even when the field is absent from
it; a path whose parent is a scalar or null is left out. Exclusion removes the named
paths (https://www.mongodb.com/docs/manual/tutorial/project-fields-from-query-results/).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from gateway.display import json_text
from gateway.errors import QueryRejected, UnsupportedByEngine

Document = dict[str, Any]
_Tree = dict[str, Any]  # field -> True (whole) or a sub-tree


def copy(value: Any) -> Any:
    """A copy of a stored value deep enough that no caller can change the store."""
    kind = type(value)
    if kind is dict:
        return {k: copy(v) for k, v in value.items()}
    if kind is list:
        return [copy(v) for v in value]
    return value


def compile_projection(spec: Mapping[str, Any] | None) -> Callable[[Document], Document]:
    """A function projecting a stored document by ``spec`` into a fresh copy."""
    if not spec:
        return copy
    include_id = True
    paths: dict[str, bool] = {}
    for path, value in spec.items():
        if isinstance(value, Mapping) or (isinstance(value, str) and value.startswith("$")):
            raise UnsupportedByEngine(
                f"the embedded engine does not implement projection expressions ({json_text(path)})."
            )
        if path == "_id":
            include_id = bool(value)
        else:
            paths[path] = bool(value)
    modes = set(paths.values())
    if len(modes) > 1:
        raise QueryRejected("the database rejected the query: cannot mix inclusion and exclusion in a projection.")
    if not paths or modes == {False}:
        excluded = [p.split(".") for p in paths]
        if not include_id:
            excluded.append(["_id"])
        return lambda doc: _exclude(copy(doc), excluded)
    tree: _Tree = {}
    for path in paths:
        node = tree
        *heads, last = path.split(".")
        for head in heads:
            child = node.setdefault(head, {})
            if child is True:
                break
            node = child
        else:
            node[last] = True
    return lambda doc: _include(doc, tree, include_id)


def _include(doc: Document, tree: _Tree, include_id: bool) -> Document:
    out: Document = {}
    if include_id and "_id" in doc:
        out["_id"] = copy(doc["_id"])
    for key, value in doc.items():
        node = tree.get(key)
        if node is None or key == "_id":
            continue
        if node is True:
            out[key] = copy(value)
        else:
            kept = _include_value(value, node)
            if kept is not None:
                out[key] = kept
    return out


def _include_value(value: Any, tree: _Tree) -> Any:
    if type(value) is dict:
        return _include(value, tree, include_id=False)
    if type(value) is list:
        return [
            kept for kept in (_include_value(v, tree) for v in value if type(v) in (dict, list)) if kept is not None
        ]
    return None


def _exclude(doc: Document, paths: list[list[str]]) -> Document:
    for parts in paths:
        _remove(doc, parts)
    return doc


def _remove(value: Any, parts: list[str]) -> None:
    if type(value) is list:
        for v in value:
            _remove(v, parts)
    elif type(value) is dict:
        if len(parts) == 1:
            value.pop(parts[0], None)
        elif parts[0] in value:
            _remove(value[parts[0]], parts[1:])
