"""Aggregation pipelines over lists of documents: the stages the compiler emits, with
MongoDB's semantics (https://www.mongodb.com/docs/manual/reference/operator/aggregation-pipeline/).

- ``$match``: ``matching.compile_filter``; ``$sort``: ``sorting``; ``$skip``/``$limit``.
- ``$project``: inclusion (``1``) and computed fields, ``_id`` kept unless excluded, a
  computed field that evaluates to missing left out; or exclusion (``0``).
- ``$addFields``: computed fields set, a missing result leaving the field out.
- ``$group``: one row per distinct ``_id`` value (BSON equality; a missing ``_id``
  expression is null, an object ``_id`` leaves its missing fields out), accumulators from
  ``accumulators``; no row when no document comes in.
- ``$count``: one row with the count, none when it is 0.
- ``$facet``: one row of each branch's results.
- ``$unwind``: a row per element; null, missing and empty arrays give no row.
- ``$lookup`` (``localField``/``foreignField``): the foreign documents whose field
  equals the local value or one of its elements; a missing local value matches
  foreign null or missing (https://www.mongodb.com/docs/manual/reference/operator/aggregation/lookup/).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from gateway.display import json_text
from gateway.errors import QueryRejected, UnsupportedByEngine
from gateway.store.accumulators import accumulator
from gateway.store.bsonorder import MISSING, NULL_KEY, sort_key
from gateway.store.budget import checked
from gateway.store.expressions import compile_expression
from gateway.store.fieldpaths import query_values
from gateway.store.matching import compile_filter, expand
from gateway.store.projection import compile_projection
from gateway.store.sorting import sort_key_function

Document = dict[str, Any]
Stage = Callable[[list[Document]], list[Document]]
NO_VARS: dict[str, Any] = {}  # the variables of a top-level expression: none (never written to)


class Foreign(Protocol):
    """A collection a ``$lookup`` reads: its documents by the keys of a field."""

    def index_on(self, path: str) -> Mapping[Any, list[Document]]:
        """Every document by the keys of its ``path`` values (each array element a key
        of its own, as ``$lookup``'s equality match reads an array)."""
        ...

    def position(self, doc: Document) -> int:
        """Where ``doc`` stands in the collection's natural order."""
        ...


Resolve = Callable[[str], Foreign]


def run_pipeline(docs: list[Document], stages: Iterable[Mapping[str, Any]], resolve: Resolve) -> list[Document]:
    """The pipeline's output over ``docs`` (input documents are never changed)."""
    for stage in compile_pipeline(stages, resolve):
        docs = stage(docs)
    return docs


def compile_pipeline(stages: Iterable[Mapping[str, Any]], resolve: Resolve) -> list[Stage]:
    """One function per stage (documents in, documents out), ``$lookup`` sources found
    through ``resolve``. Raises ``QueryRejected`` for a stage that is not a one-field
    object (MongoDB's error too), ``UnsupportedByEngine`` for a stage the engine does
    not implement, and what each stage's own compiler raises."""
    compiled = []
    for stage in stages:
        if not isinstance(stage, Mapping) or len(stage) != 1:
            raise QueryRejected("the database rejected the query: a pipeline stage must hold exactly one field.")
        ((name, spec),) = stage.items()
        if name not in _STAGES:
            raise UnsupportedByEngine(f"the embedded engine does not implement the stage {name}.")
        compiled.append(_STAGES[name](spec, resolve))
    return compiled


def _match(spec: Any, resolve: Resolve) -> Stage:
    predicate = compile_filter(spec)
    return lambda docs: [d for d in checked(docs) if predicate(d)]


def _sort(spec: Any, resolve: Resolve) -> Stage:
    if not isinstance(spec, Mapping) or not spec:
        raise QueryRejected("the database rejected the query: $sort needs a non-empty object.")
    key = sort_key_function([(k, int(v)) for k, v in spec.items()])
    return lambda docs: sorted(checked(docs), key=key)


def _count_arg(spec: Any, name: str) -> int:
    if isinstance(spec, bool) or not isinstance(spec, int) or spec < 0:
        raise QueryRejected(f"the database rejected the query: {name} must be a non-negative integer.")
    return spec


def _skip(spec: Any, resolve: Resolve) -> Stage:
    n = _count_arg(spec, "$skip")
    return lambda docs: docs[n:]


def _limit(spec: Any, resolve: Resolve) -> Stage:
    n = _count_arg(spec, "$limit")
    if n == 0:
        raise QueryRejected("the database rejected the query: the limit must be positive.")
    return lambda docs: docs[:n]


def _project(spec: Any, resolve: Resolve) -> Stage:
    if not isinstance(spec, Mapping) or not spec:
        raise QueryRejected("the database rejected the query: $project needs a non-empty object.")
    flags = {k: v for k, v in spec.items() if isinstance(v, bool | int) and not isinstance(v, float)}
    computed = {k: compile_expression(v) for k, v in spec.items() if k not in flags}
    if any("." in k for k in computed):
        raise UnsupportedByEngine("the embedded engine does not implement computed dotted fields in $project.")
    included = {k: v for k, v in flags.items() if k != "_id"}
    if not computed and (included or not flags.get("_id", True)) and not any(included.values()):
        exclude = compile_projection(flags)
        return lambda docs: [exclude(d) for d in checked(docs)]
    if not all(included.values()):
        raise QueryRejected("the database rejected the query: cannot do exclusion in an inclusion projection.")
    keep_id = bool(flags.get("_id", True))
    include = compile_projection({**dict.fromkeys(included, 1), "_id": int(keep_id)}) if included else None

    def project(doc: Document) -> Document:
        out = include(doc) if include else ({"_id": doc["_id"]} if keep_id and "_id" in doc else {})
        for name, expr in computed.items():
            value = expr(doc, NO_VARS)
            if value is not MISSING:
                out[name] = value
        return out

    return lambda docs: [project(d) for d in checked(docs)]


def _add_fields(spec: Any, resolve: Resolve) -> Stage:
    if not isinstance(spec, Mapping):
        raise QueryRejected("the database rejected the query: $addFields needs an object.")
    fields = [(k.split("."), compile_expression(v)) for k, v in spec.items()]

    def add(doc: Document) -> Document:
        out = dict(doc)
        for parts, expr in fields:
            _set(out, parts, expr(doc, NO_VARS))
        return out

    return lambda docs: [add(d) for d in checked(docs)]


def _set(doc: Document, parts: list[str], value: Any) -> None:
    for part in parts[:-1]:
        child = doc.get(part)
        child = dict(child) if isinstance(child, dict) else {}
        doc[part] = child
        doc = child
    if value is MISSING:
        doc.pop(parts[-1], None)
    else:
        doc[parts[-1]] = value


def _group(spec: Any, resolve: Resolve) -> Stage:
    if not isinstance(spec, Mapping) or "_id" not in spec:
        raise QueryRejected("the database rejected the query: a group specification must include an _id.")
    key_of = _group_key(spec["_id"])
    fields = []
    for name, acc in spec.items():
        if name == "_id":
            continue
        if not isinstance(acc, Mapping) or len(acc) != 1:
            raise QueryRejected(
                f"the database rejected the query: the field {json_text(name)} must be an accumulator object."
            )
        ((op, arg),) = acc.items()
        fields.append((name, accumulator(op), compile_expression(arg)))

    factories = [factory for _, factory, _ in fields]
    exprs = [expr for _, _, expr in fields]

    def group(docs: list[Document]) -> list[Document]:
        groups: dict[Any, tuple[Any, list[Any]]] = {}
        for doc in checked(docs):
            value, key = key_of(doc)
            entry = groups.get(key)
            if entry is None:
                entry = groups[key] = (value, [factory() for factory in factories])
            for acc, expr in zip(entry[1], exprs):  # noqa: B905 - one accumulator per expression by construction
                acc.add(expr(doc, NO_VARS))
        return [
            {"_id": value, **{name: acc.result() for acc, (name, _, _) in zip(accs, fields, strict=True)}}
            for value, accs in groups.values()
        ]

    return group


def _group_key(spec: Any) -> Callable[[Document], tuple[Any, Any]]:
    """A document's group: its ``_id`` value and a key equal for BSON-equal values. An
    object ``_id`` is keyed field by field (in order, missing fields left out), which
    is how its sort key compares, without building that key from the object."""
    if isinstance(spec, Mapping) and spec and not any(str(k).startswith("$") for k in spec):
        fields = [(name, compile_expression(e)) for name, e in spec.items()]

        def object_key(doc: Document) -> tuple[Any, Any]:
            value, key = {}, []
            for name, expr in fields:
                item = expr(doc, NO_VARS)
                if item is not MISSING:
                    value[name] = item
                    key.append((name, sort_key(item)))
            return value, tuple(key)

        return object_key
    expr = compile_expression(spec)

    def key_of(doc: Document) -> tuple[Any, Any]:
        value = expr(doc, NO_VARS)
        value = None if value is MISSING else value
        return value, sort_key(value)

    return key_of


def _count(spec: Any, resolve: Resolve) -> Stage:
    if not isinstance(spec, str) or not spec or spec.startswith("$") or "." in spec:
        raise QueryRejected("the database rejected the query: $count needs a field name.")
    return lambda docs: [{spec: len(docs)}] if docs else []


def _facet(spec: Any, resolve: Resolve) -> Stage:
    if not isinstance(spec, Mapping) or not spec:
        raise QueryRejected("the database rejected the query: $facet needs an object of pipelines.")
    branches = {name: compile_pipeline(sub, resolve) for name, sub in spec.items()}

    def facet(docs: list[Document]) -> list[Document]:
        out: Document = {}
        for name, stages in branches.items():
            rows = docs
            for stage in stages:
                rows = stage(rows)
            out[name] = rows
        return [out]

    return facet


def _unwind(spec: Any, resolve: Resolve) -> Stage:
    options = spec if isinstance(spec, Mapping) else {"path": spec}
    path = options.get("path")
    if not isinstance(path, str) or not path.startswith("$") or len(path) < 2:
        raise QueryRejected("the database rejected the query: $unwind needs a field path starting with '$'.")
    if set(options) - {"path"}:
        raise UnsupportedByEngine("the embedded engine implements $unwind's path option only.")
    parts = path[1:].split(".")

    def unwind(docs: list[Document]) -> list[Document]:
        out = []
        for doc in checked(docs):
            value = _document_value(doc, parts)
            if isinstance(value, list):
                for element in value:
                    row = dict(doc)
                    _set(row, parts, element)
                    out.append(row)
            elif value is not None and value is not MISSING:
                out.append(doc)
        return out

    return unwind


def _document_value(doc: Any, parts: list[str]) -> Any:
    for part in parts:
        if not isinstance(doc, dict):
            return MISSING
        doc = doc.get(part, MISSING)
    return doc


def _lookup(spec: Any, resolve: Resolve) -> Stage:
    if not isinstance(spec, Mapping) or set(spec) != {"from", "localField", "foreignField", "as"}:
        raise UnsupportedByEngine("the embedded engine implements $lookup with from, localField, foreignField, as.")
    local = query_values(spec["localField"])
    foreign_path, name = spec["foreignField"], spec["as"]
    source = spec["from"]

    def lookup(docs: list[Document]) -> list[Document]:
        foreign = resolve(source)
        index = foreign.index_on(foreign_path)
        out = []
        for doc in checked(docs):
            matched: dict[int, Document] = {}
            for value in _local_values(local(doc)):
                for found in index.get(NULL_KEY if value is None else sort_key(value), ()):
                    matched.setdefault(id(found), found)
            row = dict(doc)
            _set(row, name.split("."), sorted(matched.values(), key=foreign.position))
            out.append(row)
        return out

    return lookup


def _local_values(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if value is MISSING:
            out.append(None)
        elif type(value) is list:
            out.extend(value)
        else:
            out.append(value)
    return out


def lookup_keys(values: list[Any]) -> set[Any]:
    """The keys a foreign document is found under for its field's candidate values."""
    keys = set()
    for value in expand(values):
        keys.add(NULL_KEY if value is MISSING or value is None else sort_key(value))
    return keys


_STAGES: dict[str, Callable[[Any, Resolve], Stage]] = {
    "$match": _match,
    "$sort": _sort,
    "$skip": _skip,
    "$limit": _limit,
    "$project": _project,
    "$addFields": _add_fields,
    "$set": _add_fields,
    "$group": _group,
    "$count": _count,
    "$facet": _facet,
    "$unwind": _unwind,
    "$lookup": _lookup,
}
