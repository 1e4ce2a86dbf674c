"""Plans of plain-data operations: what ``gateway.graphql.planning`` runs without
graphql-core's per-field executor.

An operation is plannable when it is a query whose root fields are ``jobs``, ``job``,
``jobConnection``, ``jobCounts``, ``jobStat`` (or ``__typename``), and every
field below them is a plain field of the job types - a stored field read by its reader
(``types.READERS``), or an attribute of a page, connection, edge or page info - with
only ``@skip``/``@include`` as directives. Anything else (introspection, ``node``,
other directives) is left to graphql-core.

A plan is made once per document, operation and value of the variables its
``@skip``/``@include`` read, and cached with it. It holds, for each planned root field,
the tree of fields the response holds, already collected as GraphQL collects them
(fragments and inline fragments followed, directives applied, fields of one response
key merged, in first-seen order), each with what reads it, how its value is
serialized, and whether it may be null.

Only public graphql-core APIs are used: the AST, the type system, ``is_sub_type``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from operator import attrgetter
from typing import Any

from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
)
from strawberry.types.nodes import SelectedField

from gateway.graphql.compiled import SLOW, compile_object
from gateway.graphql.connection import JobConnection, JobEdge, PageInfo
from gateway.graphql.stored import INT_MAX, INT_MIN
from gateway.graphql.types import PLAIN, READERS, JobsInfo

PLANNED_ROOTS = frozenset({"jobs", "job", "jobConnection", "jobCounts", "jobStat"})
TYPENAME = "__typename"
# Output types whose fields are attributes of the Python object (set by the resolvers).
CONTAINERS: Mapping[str, type] = {c.__name__: c for c in (JobsInfo, JobConnection, JobEdge, PageInfo)}


class NotPlannable(Exception):
    """The operation is left to graphql-core (the reason is the message)."""


@dataclass(frozen=True)
class FieldPlan:
    """One response key of an object: how to read it from the object, how to complete
    its value (``serialize`` for a leaf, ``fields`` for an object), and its nullability
    (of the field and, for a list, of its items)."""

    key: str
    name: str
    parent: str  # the object type's name (for errors, and the value of __typename)
    nodes: tuple[FieldNode, ...]
    read: Callable[[Any], Any] | None  # None: __typename
    nullable: bool = True
    is_list: bool = False
    item_nullable: bool = True
    serialize: Callable[[Any], Any] | None = None
    fields: tuple[FieldPlan, ...] = ()
    # A plain stored field (types.PLAIN: stored key, kind): its serialized value read
    # straight from the source's document, or SLOW when the reader must decide; for an
    # enum, the serialized name of each stored value.
    plain: tuple[str, str] | None = None
    fast: Callable[[Any], Any] | None = None
    names: Mapping[Any, str] | None = None
    # The compiled completion of an object (gateway.graphql.compiled), None: generic.
    compiled: Callable[[Any], Any] | None = None

    @cached_property
    def selected(self) -> SelectedField:
        """``selection()``, made once."""
        return self.selection()

    def selection(self) -> SelectedField:
        """This field as Strawberry's ``info.selected_fields`` shows a field (so the
        resolvers read the same selection on either path)."""
        return SelectedField(
            name=self.name,
            directives={},
            arguments={},
            selections=[f.selection() for f in self.fields],
            alias=self.key if self.key != self.name else None,
        )


@dataclass(frozen=True)
class OperationPlan:
    """An operation's root fields in response order: ``__typename`` keys, and the
    planned root fields (``roots``, by key) with their field definitions (to coerce
    their arguments)."""

    operation: OperationDefinitionNode
    keys: tuple[str, ...]
    roots: dict[str, FieldPlan]
    definitions: dict[str, GraphQLField]
    nullable_roots: frozenset[str] = field(default=frozenset())
    query_type: str = "Query"


def _fast(key: str, kind: str, named: GraphQLScalarType | GraphQLEnumType) -> Callable[[Any], Any]:
    """The read of a plain stored field (``types.PLAIN``): its serialized value when the
    stored value is null, missing or of the kind's type (what the reader returns
    unchanged), else SLOW."""
    serialize = named.serialize
    if kind == "enum":
        assert isinstance(named, GraphQLEnumType)
        names = {v.value: name for name, v in named.values.items()}
        return lambda source: names.get(value, SLOW) if (value := source.doc.get(key)) is not None else None
    if kind == "json":
        return lambda source: None if (value := source.doc.get(key)) is None else serialize(value)
    if kind == "instant":
        return lambda source: (
            None
            if (value := source.doc.get(key)) is None
            else serialize(value)
            if value.__class__ is datetime
            else SLOW
        )
    if kind == "integer":
        return lambda source: (
            value
            if (value := source.doc.get(key)) is None or (value.__class__ is int and INT_MIN <= value <= INT_MAX)
            else SLOW
        )
    plain = {"string": str, "boolean": bool}[kind]
    return lambda source: value if (value := source.doc.get(key)) is None or value.__class__ is plain else SLOW


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _reader(parent: GraphQLObjectType, name: str) -> Callable[[Any], Any]:
    reader = READERS.get((parent.name, name))
    if reader is not None:
        return reader
    container = CONTAINERS.get(parent.name)
    attribute = _snake(name)
    if container is None or attribute not in {f.name for f in dataclasses.fields(container)}:
        raise NotPlannable(f"{parent.name}.{name} has no reader")
    return attrgetter(attribute)


def _leaf(named: GraphQLScalarType | GraphQLEnumType) -> Callable[[Any], Any]:
    """A leaf type's serialize, with the built-in scalars' identity for values that are
    already of their type (what their serialize would return)."""
    serialize = named.serialize
    if named is GraphQLString or named is GraphQLID:
        return lambda value: value if value.__class__ is str else serialize(value)
    if named is GraphQLInt:
        return lambda value: value if value.__class__ is int else serialize(value)
    if named is GraphQLBoolean:
        return lambda value: value if value.__class__ is bool else serialize(value)
    if isinstance(named, GraphQLEnumType):
        # Strawberry's enum types hold the Python enum's values; a member serializes by its value's name.
        names = {v.value: name for name, v in named.values.items()}
        return lambda value: names.get(getattr(value, "value", value)) or serialize(value)
    return serialize


class _Planner:
    def __init__(
        self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode], booleans: Mapping[str, bool]
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.booleans = booleans

    def included(self, node: FieldNode | InlineFragmentNode | FragmentSpreadNode) -> bool:
        for directive in node.directives or ():
            name = directive.name.value
            if name not in ("skip", "include"):
                raise NotPlannable(f"directive @{name}")
            (argument,) = directive.arguments or ()
            value = argument.value
            if isinstance(value, VariableNode):
                flag = self.booleans[value.name.value]
            elif isinstance(value, BooleanValueNode):
                flag = value.value
            else:
                raise NotPlannable("a directive argument that is not a boolean")
            if flag == (name == "skip"):
                return False
        return True

    def applies(self, condition: str | None, parent: GraphQLObjectType) -> bool:
        if condition is None or condition == parent.name:
            return True
        abstract = self.schema.get_type(condition)
        return (
            abstract is not None
            and not isinstance(abstract, GraphQLObjectType)
            and self.schema.is_sub_type(
                abstract,  # type: ignore[arg-type]
                parent,
            )
        )

    def collect(
        self, parent: GraphQLObjectType, selection_sets: Iterable[SelectionSetNode]
    ) -> dict[str, list[FieldNode]]:
        """GraphQL's CollectFields over several selection sets (fields of one key merged)."""
        grouped: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()

        def walk(selection_set: SelectionSetNode) -> None:
            for selection in selection_set.selections:
                if not self.included(selection):  # type: ignore[arg-type]
                    continue
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    grouped.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    condition = selection.type_condition.name.value if selection.type_condition else None
                    if self.applies(condition, parent):
                        walk(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    if name in visited:
                        continue
                    visited.add(name)
                    fragment = self.fragments[name]
                    if self.applies(fragment.type_condition.name.value, parent):
                        walk(fragment.selection_set)

        for selection_set in selection_sets:
            walk(selection_set)
        return grouped

    def object_fields(self, parent: GraphQLObjectType, nodes: Sequence[FieldNode]) -> tuple[FieldPlan, ...]:
        sets = [n.selection_set for n in nodes if n.selection_set is not None]
        return tuple(self.field(parent, key, group) for key, group in self.collect(parent, sets).items())

    def field(self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode]) -> FieldPlan:
        name = nodes[0].name.value
        if name == TYPENAME:
            return FieldPlan(key=key, name=name, parent=parent.name, nodes=tuple(nodes), read=None, nullable=False)
        definition: GraphQLField | None = parent.fields.get(name)
        if definition is None or definition.args or any(n.arguments for n in nodes):
            raise NotPlannable(f"{parent.name}.{name}")
        return self.typed(parent, nodes, definition.type, key=key, read=_reader(parent, name))

    def typed(
        self,
        parent: GraphQLObjectType,
        nodes: list[FieldNode],
        of_type: GraphQLOutputType,
        *,
        key: str,
        read: Callable[[Any], Any] | None,
    ) -> FieldPlan:
        """The plan of a field of type ``of_type`` (``T``, ``T!``, ``[T]``, ``[T!]!``...)."""
        name = nodes[0].name.value
        nullable = not isinstance(of_type, GraphQLNonNull)
        inner = of_type.of_type if isinstance(of_type, GraphQLNonNull) else of_type
        is_list = isinstance(inner, GraphQLList)
        item_nullable = True
        if isinstance(inner, GraphQLList):
            item = inner.of_type
            item_nullable = not isinstance(item, GraphQLNonNull)
            inner = item.of_type if isinstance(item, GraphQLNonNull) else item
            if isinstance(inner, GraphQLList | GraphQLNonNull):
                raise NotPlannable("a list of lists")
        serialize = fast = plain = names = compiled = None
        fields: tuple[FieldPlan, ...] = ()
        if isinstance(inner, GraphQLScalarType | GraphQLEnumType):
            serialize = _leaf(inner)
            plain = PLAIN.get((parent.name, name)) if not is_list else None
            if plain is not None:
                fast = _fast(*plain, inner)
                if isinstance(inner, GraphQLEnumType):
                    names = {v.value: n for n, v in inner.values.items()}
        elif isinstance(inner, GraphQLObjectType):
            fields = self.object_fields(inner, nodes)
            compiled = compile_object(fields)
        else:
            raise NotPlannable(f"{parent.name}.{name} of an abstract type")
        return FieldPlan(
            key=key,
            name=name,
            parent=parent.name,
            nodes=tuple(nodes),
            read=read,
            nullable=nullable,
            is_list=is_list,
            item_nullable=item_nullable,
            serialize=serialize,
            fields=fields,
            plain=plain,
            fast=fast,
            names=names,
            compiled=compiled,
        )


def directive_variables(operation: OperationDefinitionNode, fragments: Iterable[FragmentDefinitionNode]) -> list[str]:
    """The variables ``@skip``/``@include`` read anywhere in the operation (or its
    fragments): a plan is made for each set of their values."""
    found: list[str] = []

    def visit(selection_set: SelectionSetNode | None) -> None:
        for selection in selection_set.selections if selection_set else ():
            for directive in selection.directives or ():
                for argument in directive.arguments or ():
                    if isinstance(argument.value, VariableNode) and argument.value.name.value not in found:
                        found.append(argument.value.name.value)
            visit(getattr(selection, "selection_set", None))

    visit(operation.selection_set)
    for fragment in fragments:
        visit(fragment.selection_set)
    return found


def booleans(operation: OperationDefinitionNode, names: Sequence[str], variables: Mapping[str, Any]) -> dict[str, bool]:
    """The values of the directive variables ``names``: given, else their defaults;
    ``NotPlannable`` for anything that is not a boolean (graphql-core reports it)."""
    defaults = {
        d.variable.name.value: d.default_value.value
        for d in operation.variable_definitions or ()
        if isinstance(d.default_value, BooleanValueNode)
    }
    values = {}
    for name in names:
        value = variables.get(name, defaults.get(name)) if variables else defaults.get(name)
        if not isinstance(value, bool):
            raise NotPlannable(f"${name} is not a boolean")
        values[name] = value
    return values


def select_operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode:
    """The operation to run (as graphql-core picks it); ``NotPlannable`` if ambiguous."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == operation_name]
    if len(operations) != 1:
        raise NotPlannable("no single operation")
    return operations[0]


def plan_operation(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    flags: Mapping[str, bool],
) -> OperationPlan:
    """The plan of ``operation`` for the directive variable values ``flags``; raises
    ``NotPlannable`` when graphql-core must run it."""
    if operation.operation is not OperationType.QUERY or operation.directives:
        raise NotPlannable("not a plain query")
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    planner = _Planner(schema, fragments, flags)
    query = schema.query_type
    assert query is not None
    roots: dict[str, FieldPlan] = {}
    definitions: dict[str, GraphQLField] = {}
    keys = []
    for key, nodes in planner.collect(query, [operation.selection_set]).items():
        name = nodes[0].name.value
        keys.append(key)
        if name == TYPENAME:
            continue
        if name not in PLANNED_ROOTS:
            raise NotPlannable(f"root field {name}")
        definitions[key] = query.fields[name]
        roots[key] = planner.typed(query, nodes, definitions[key].type, key=key, read=None)
    if not roots:
        raise NotPlannable("no planned root field")
    nullable = frozenset(k for k, d in definitions.items() if not isinstance(d.type, GraphQLNonNull))
    return OperationPlan(operation, tuple(keys), roots, definitions, nullable, query.name)
