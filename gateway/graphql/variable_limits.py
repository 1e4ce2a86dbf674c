"""Every list in a request's variables bounded before graphql-core coerces them.

graphql-core coerces variables item by item, in Python (each input object field by
field): a 780 KB variable of 60,000 stages took seconds of the event loop before the
compiler refused it for ``max_stages``. ``VariableLimits`` walks the variables as sent,
along the types their definitions declare, and refuses the first list longer than its
limit before any of its items is looked at - the same named limit the published
reader (``gateway.query.messages``) applies to the same list, so that GraphQL and REST
refuse alike (a 400 ``ERROR_LIMIT_EXCEEDED`` naming the limit):

- a list of input objects or enums, by what its items are (``ITEM_LIMITS``: a list of
  ``StageInput`` is bounded by ``max_stages`` wherever it appears);
- a list of scalars, by the input field it is (``FIELD_LIMITS``: ``only``), else by
  ``max_list_values``, the limit of every list of plain values (``in``, ``jobId``,
  ``ids``).

What a ``JSON`` scalar holds is not walked: graphql-core takes it whole, and the
compiler bounds it (``check_value``). Inline literals are bounded by the document's
token limit. The walk costs one step per item it accepts, so the refusal of any list,
however long, is immediate.

The lists bounded one by one still multiply (30 stages of 20 group fields of 50
conditions): the variables as a whole hold at most ``max_variable_values`` values -
list items and input object fields, each a step of graphql-core's coercion - which
bounds the time coercion takes. A GraphQL limit, as ``max_tokens`` bounds the document:
values given as ``JSON`` (a condition's ``value``) are taken whole and not counted.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLSchema,
    OperationDefinitionNode,
    VariableDefinitionNode,
    is_leaf_type,
    type_from_ast,
)
from strawberry.extensions import SchemaExtension

from gateway.errors import LimitExceeded
from gateway.query.limits import Limits

# A list of these is bounded by the limit of the published list it stands for.
ITEM_LIMITS: dict[str, str] = {
    "ConditionInput": "max_conditions",  # filter, filterOr, a group field's conditions
    "JobWhere": "max_conditions",  # and, or (the condition tree's lists)
    "FreeFormComparison": "max_conditions",  # conditions below a free-form object
    "SortKeyInput": "max_sort_keys",
    "JobOrderBy": "max_sort_keys",
    "StageInput": "max_stages",
    "GroupKeyInput": "max_group_keys",
    "JobCountKey": "max_group_keys",
    "GroupFieldInput": "max_group_fields",
    "PushFieldInput": "max_group_fields",
    "ProjectFieldInput": "max_project_fields",
}
# Lists of scalars whose limit is not max_list_values: by input type and field.
FIELD_LIMITS: dict[tuple[str, str], str] = {
    ("JobQueryInput", "only"): "max_only_fields",
    ("ProjectFieldInput", "fields"): "max_project_fields",
}
PLAIN_LIST_LIMIT = "max_list_values"


def list_limit(item_type: GraphQLNamedType, owner: str | None, field: str | None) -> str:
    """The name of the limit bounding a list of ``item_type`` given as the input field
    ``owner.field`` (None, None: a variable or an argument)."""
    if item_type.name in ITEM_LIMITS:
        return ITEM_LIMITS[item_type.name]
    if owner is not None and field is not None:
        return FIELD_LIMITS.get((owner, field), PLAIN_LIST_LIMIT)
    return PLAIN_LIST_LIMIT


def _named(type_: GraphQLInputType) -> GraphQLNamedType:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def _path(steps: tuple[str | int, ...]) -> str:
    return "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps)


Steps = tuple[str | int, ...]


def _refusal(message: str, definition: VariableDefinitionNode | None) -> GraphQLError:
    fault = LimitExceeded(message)
    return GraphQLError(fault.message, nodes=definition, original_error=fault)


def check_variables(
    schema: GraphQLSchema,
    definitions: Sequence[VariableDefinitionNode],
    variables: Mapping[str, Any],
    limits: Limits,
    max_values: int,
) -> None:
    """Raise a ``GraphQLError`` (located at the variable's definition, its original
    error a ``LimitExceeded`` naming the limit) at the first list of a variable longer
    than its limit (see the module docstring), or once the variables hold more than
    ``max_values`` values (list items and input object fields: each a step of
    graphql-core's coercion). A value that does not fit its type is left for
    graphql-core to report. Iterative: the body reader bounds the nesting."""
    seen = 0
    for definition in definitions:
        name = definition.variable.name.value
        declared = type_from_ast(schema, definition.type)
        if name not in variables or declared is None:
            continue
        stack: list[tuple[Any, GraphQLInputType, Steps, str | None, str | None]] = [
            (variables[name], declared, (), None, None)  # type: ignore[list-item]
        ]
        while stack:
            value, type_, steps, owner, field = stack.pop()
            if isinstance(type_, GraphQLNonNull):
                type_ = type_.of_type
            if isinstance(type_, GraphQLList):
                if not isinstance(value, list):
                    stack.append((value, type_.of_type, steps, owner, field))  # one item, as graphql-core reads it
                    continue
                item_type = type_.of_type
                limit = list_limit(_named(item_type), owner, field)
                most = getattr(limits, limit)
                if len(value) > most:
                    where = f" at {_path(steps)}" if steps else ""
                    raise _refusal(
                        f'Variable "${name}"{where} has {len(value)} items; the limit {limit} is {most}.', definition
                    )
                seen += len(value)
                if not is_leaf_type(getattr(item_type, "of_type", item_type)):
                    stack.extend((item, item_type, (*steps, i), None, None) for i, item in enumerate(value))
            elif isinstance(type_, GraphQLInputObjectType) and isinstance(value, Mapping):
                seen += len(value)
                fields = type_.fields
                for key, item in value.items():
                    if key in fields:
                        stack.append((item, fields[key].type, (*steps, key), type_.name, key))
            if seen > max_values:
                raise _refusal(
                    f"The variables hold more than {max_values} values (list items and input fields); "
                    f"the limit max_variable_values is {max_values}.",
                    definition,
                )


class VariableLimits(SchemaExtension):
    """Checks the variables of every operation (``check_variables``) before they are
    coerced: a refusal is the operation's error, as a coercion error would be."""

    def __init__(self, max_values: int) -> None:
        super().__init__()
        self.max_values = max_values

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        document, variables = ctx.graphql_document, ctx.variables
        service = getattr(ctx.context, "service", None)
        if document is not None and variables and service is not None:
            schema: GraphQLSchema = ctx.schema._schema  # as GatewayErrors reads it (no public accessor)
            for operation in document.definitions:
                if isinstance(operation, OperationDefinitionNode):
                    definitions = operation.variable_definitions or ()
                    check_variables(schema, definitions, variables, service.limits, self.max_values)
        yield
