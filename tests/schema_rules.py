"""graphql-schema-linter's rules, in Python over a built schema: each rule is one small
function named as the linter names it (``RULES``), and every rule that is off says why
(``DISABLED``). Checked by test_schema_lint; test_typescript checks that the linter's
own configuration (schema/typescript/.graphql-schema-linterrc) holds these rules."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
)

Problems = Iterator[str]
BUILT_IN = re.compile(r"^(__|String$|Int$|Float$|Boolean$|ID$)")


def _types(schema: GraphQLSchema) -> list[GraphQLNamedType]:
    return [t for name, t in schema.type_map.items() if not BUILT_IN.match(name)]


def _fields(schema: GraphQLSchema) -> Iterator[tuple[str, GraphQLField]]:
    for t in _types(schema):
        if isinstance(t, GraphQLObjectType | GraphQLInterfaceType):
            for name, field in t.fields.items():
                yield f"{t.name}.{name}", field


def types_have_descriptions(schema: GraphQLSchema) -> Problems:
    yield from (t.name for t in _types(schema) if not t.description)


def fields_have_descriptions(schema: GraphQLSchema) -> Problems:
    yield from (where for where, field in _fields(schema) if not field.description)


def arguments_have_descriptions(schema: GraphQLSchema) -> Problems:
    for where, field in _fields(schema):
        yield from (f"{where}({name}:)" for name, arg in field.args.items() if not arg.description)


def input_object_values_have_descriptions(schema: GraphQLSchema) -> Problems:
    for t in _types(schema):
        if isinstance(t, GraphQLInputObjectType):
            yield from (f"{t.name}.{name}" for name, f in t.fields.items() if not f.description)


def enum_values_have_descriptions(schema: GraphQLSchema) -> Problems:
    for t in _types(schema):
        if isinstance(t, GraphQLEnumType):
            yield from (f"{t.name}.{name}" for name, v in t.values.items() if not v.description)


def enum_values_all_caps(schema: GraphQLSchema) -> Problems:
    for t in _types(schema):
        if isinstance(t, GraphQLEnumType):
            yield from (f"{t.name}.{name}" for name in t.values if not re.fullmatch(r"[A-Z][A-Z0-9_]*", name))


def types_are_capitalized(schema: GraphQLSchema) -> Problems:
    yield from (t.name for t in _types(schema) if not t.name[0].isupper())


def fields_are_camel_cased(schema: GraphQLSchema) -> Problems:
    names = [where for where, _ in _fields(schema)]
    for t in _types(schema):
        if isinstance(t, GraphQLInputObjectType):
            names += [f"{t.name}.{name}" for name in t.fields]
    yield from (n for n in names if not re.fullmatch(r"[a-z][a-zA-Z0-9]*", n.split(".")[1]))


def descriptions_are_capitalized(schema: GraphQLSchema) -> Problems:
    described: list[tuple[str, str | None]] = [(t.name, t.description) for t in _types(schema)]
    described += [(where, field.description) for where, field in _fields(schema)]
    for where, text in described:
        if text and not (text[0].isupper() or text[0] in "`*"):
            yield f"{where}: {text[:30]!r}"


def deprecations_have_a_reason(schema: GraphQLSchema) -> Problems:
    for t in _types(schema):
        fields = getattr(t, "fields", {})
        for name, f in fields.items():
            if f.deprecation_reason is not None and len(f.deprecation_reason.strip()) < 20:
                yield f"{t.name}.{name}"


def defined_types_are_used(schema: GraphQLSchema) -> Problems:
    used: set[str] = set()
    roots = [r for r in (schema.query_type, schema.mutation_type, schema.subscription_type) if r]
    for t in _types(schema):
        if isinstance(t, GraphQLObjectType):
            used.update(i.name for i in t.interfaces)
        if isinstance(t, GraphQLUnionType):
            used.update(m.name for m in t.types)
        for f in getattr(t, "fields", {}).values():
            used.add(get_named_type(f.type).name)
            used.update(get_named_type(a.type).name for a in getattr(f, "args", {}).values())
    for t in _types(schema):
        if isinstance(t, GraphQLObjectType) and any(i.name in used for i in t.interfaces):
            used.add(t.name)  # reachable through an interface (node)
    yield from (t.name for t in _types(schema) if t.name not in used and t not in roots)


def relay_connection_types_spec(schema: GraphQLSchema) -> Problems:
    for t in _types(schema):
        if isinstance(t, GraphQLObjectType) and t.name.endswith("Connection"):
            edges, page_info = t.fields.get("edges"), t.fields.get("pageInfo")
            if edges is None or not isinstance(_nullable(edges.type), GraphQLList):
                yield f"{t.name}: needs `edges: [...Edge]`"
            if page_info is None or not isinstance(page_info.type, GraphQLNonNull):
                yield f"{t.name}: needs `pageInfo: PageInfo!`"
            elif get_named_type(page_info.type).name != "PageInfo":
                yield f"{t.name}: pageInfo must be a PageInfo"


def relay_connection_arguments_spec(schema: GraphQLSchema) -> Problems:
    for where, field in _fields(schema):
        if get_named_type(field.type).name.endswith("Connection"):
            forward, backward = {"first", "after"} <= set(field.args), {"last", "before"} <= set(field.args)
            if not (forward or backward):
                yield f"{where}: needs first/after or last/before"


def relay_page_info_spec(schema: GraphQLSchema) -> Problems:
    page_info = schema.type_map.get("PageInfo")
    if page_info is None:
        return
    assert isinstance(page_info, GraphQLObjectType)
    for name, kind in (("hasNextPage", "Boolean"), ("hasPreviousPage", "Boolean")):
        f = page_info.fields.get(name)
        if f is None or not isinstance(f.type, GraphQLNonNull) or get_named_type(f.type).name != kind:
            yield f"PageInfo.{name}: must be {kind}!"
    for name in ("startCursor", "endCursor"):
        if name not in page_info.fields:
            yield f"PageInfo.{name}: missing"


def _nullable(t: object) -> object:
    return t.of_type if isinstance(t, GraphQLNonNull) else t


RULES: dict[str, Callable[[GraphQLSchema], Problems]] = {
    "types-have-descriptions": types_have_descriptions,
    "fields-have-descriptions": fields_have_descriptions,
    "arguments-have-descriptions": arguments_have_descriptions,
    "input-object-values-have-descriptions": input_object_values_have_descriptions,
    "enum-values-have-descriptions": enum_values_have_descriptions,
    "enum-values-all-caps": enum_values_all_caps,
    "types-are-capitalized": types_are_capitalized,
    "fields-are-camel-cased": fields_are_camel_cased,
    "descriptions-are-capitalized": descriptions_are_capitalized,
    "deprecations-have-a-reason": deprecations_have_a_reason,
    "defined-types-are-used": defined_types_are_used,
    "relay-connection-types-spec": relay_connection_types_spec,
    "relay-connection-arguments-spec": relay_connection_arguments_spec,
    "relay-page-info-spec": relay_page_info_spec,
}

# graphql-schema-linter's rules that are off, each with its reason.
DISABLED = {
    "type-fields-sorted-alphabetically": "fields follow the published JobInfo's order (contract section 3), "
    "which is also the order REST writes and readers know",
    "enum-values-sorted-alphabetically": "JobStatus values follow a job's life (CREATED ... TIMEOUT), as published",
    "input-object-fields-sorted-alphabetically": "inputs mirror the published Query language's field order",
    "input-enum-values-sorted-alphabetically": "as enum-values-sorted-alphabetically: the published order",
    "interface-fields-sorted-alphabetically": "Node has one field; the rule would only add noise",
}
