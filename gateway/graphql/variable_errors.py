"""Variables that do not fit their declared types, described in the API's words.

graphql-core reports such a variable with the value written by Python's ``repr``
(``String cannot represent a non string value: {'a': None}``, ``not to be None``,
``found: True``). Here the same faults are found again with graphql-core's public
``validate_input_value`` (the function graphql-core itself reports them with: same
walk, same paths), and each is described from the type and the value at its path, the
value shown as the JSON the client sent (``gateway.display``):

    Variable "$d": expected String (a string), got an object {"a":null}.
    Variable "$i" at [0]: expected ID! (a string or an integer), got null.
    Variable "$w": JobWhere has no field "bogus".
    Variable "$w" at .createdAt.gt: DateTime must be an ISO 8601 string, got true.

A scalar of ours that refuses a value with a ``GatewayError`` keeps its own message
(already in the API's words).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLSchema,
    VariableDefinitionNode,
    is_enum_type,
    is_input_object_type,
    is_list_type,
    is_non_null_type,
    is_required_input_field,
    type_from_ast,
)
from graphql.pyutils import Undefined, did_you_mean, suggestion_list
from graphql.utilities import validate_input_value

from gateway.display import got, json_text
from gateway.errors import GatewayError

INT32_RANGE = (-(2**31), 2**31 - 1)

# What each built-in scalar takes, in JSON's words (GraphQL spec, section 3.5).
_SCALARS = {
    "String": "a string",
    "Int": f"an integer from {INT32_RANGE[0]} to {INT32_RANGE[1]}",
    "Float": "a number",
    "Boolean": "true or false",
    "ID": "a string or an integer",
    "DateTime": "an ISO 8601 date-time string",
}
_MAX_ENUM_VALUES_SHOWN = 12

Path = Sequence[str | int]


def variable_definition(error: GraphQLError) -> VariableDefinitionNode | None:
    """The variable definition an error of variable coercion is located at, or None
    for any other error. graphql-core locates each such error at the variable's
    definition and keeps the fault it found as the ``original_error``."""
    nodes = error.nodes or ()
    fault = error.original_error
    if len(nodes) == 1 and isinstance(nodes[0], VariableDefinitionNode) and isinstance(fault, GraphQLError):
        return nodes[0]
    return None


def describe_variable(schema: GraphQLSchema, definition: VariableDefinitionNode, value: Any) -> list[str]:
    """One message per fault of ``value`` (the variable as sent; ``Undefined`` when
    not sent) against the type ``definition`` declares, in the order graphql-core
    finds them; faults of one input object are described once, together."""
    name = definition.variable.name.value
    declared = type_from_ast(schema, definition.type)
    if declared is None:  # the document did not validate: not a variable's fault
        return []
    if value is Undefined:
        return [f'Variable "${name}" of type {declared} was not provided.']
    messages: list[str] = []
    described: set[tuple[str | int, ...]] = set()

    def on_error(error: GraphQLError, path: list[str | int]) -> None:
        type_, found = _at(declared, value, path)
        if found is None and path and isinstance(path[-1], str):
            # The null member of a @oneOf object: a fault of the object.
            parent = _at(declared, value, path[:-1])
            if getattr(_nullable(parent[0]), "is_one_of", False):
                path, (type_, found) = path[:-1], parent
        if is_input_object_type(_nullable(type_)) and isinstance(found, dict):
            if tuple(path) in described:
                return
            described.add(tuple(path))
            problems = _object_problems(_nullable(type_), found) or [_problem(type_, found, error)]
        else:
            problems = [_problem(type_, found, error)]
        where = f'Variable "${name}"' + (f" at {_print_path(path)}" if path else "")
        messages.extend(f"{where}: {problem}." for problem in problems)

    validate_input_value(value, declared, on_error)  # type: ignore[arg-type]
    return messages


def _nullable(type_: Any) -> Any:
    return type_.of_type if is_non_null_type(type_) else type_


def _at(type_: Any, value: Any, path: Path) -> tuple[Any, Any]:
    """The type and the value at ``path`` (field names and list indexes, as
    graphql-core reports them: a list given a single value has no index)."""
    for key in path:
        type_ = _nullable(type_)
        while is_list_type(type_) and isinstance(key, str):
            type_ = _nullable(type_.of_type)
        if isinstance(key, int):
            type_, value = type_.of_type, value[key]
        else:
            type_, value = type_.fields[key].type, value.get(key)
    return type_, value


def _print_path(path: Path) -> str:
    return "".join(f"[{key}]" if isinstance(key, int) else f".{key}" for key in path)


def _problem(type_: Any, value: Any, error: GraphQLError) -> str:
    """What is wrong with a value that is not an input object's fields."""
    cause = error.original_error
    if isinstance(cause, GatewayError):
        return cause.message.rstrip(".")
    if is_non_null_type(type_) and value is None:
        return f"expected {type_} ({_takes(type_.of_type)}), got null"
    return f"expected {type_} ({_takes(_nullable(type_))}), got {got(value)}"


def _takes(type_: Any) -> str:
    """What a named or list type takes, in JSON's words."""
    if is_list_type(type_):
        return f"a list of {_nullable(type_.of_type)}, or one"
    if is_input_object_type(type_):
        return "an object"
    if is_enum_type(type_):
        return _enum_values(type_)
    return _SCALARS.get(type_.name, "a JSON value")


def _enum_values(type_: GraphQLEnumType) -> str:
    names = list(type_.values)
    shown = ", ".join(json_text(n) for n in names[:_MAX_ENUM_VALUES_SHOWN])
    return f"one of {shown}" + (", ..." if len(names) > _MAX_ENUM_VALUES_SHOWN else "")


def _object_problems(type_: GraphQLInputObjectType, value: Mapping[str, Any]) -> list[str]:
    """Missing required fields, unknown fields and @oneOf faults of an object (the
    faults of its fields' values are described at their own paths)."""
    problems = [
        f"{type_.name} requires field {json_text(name)}"
        for name, field in type_.fields.items()
        if name not in value and is_required_input_field(field)
    ]
    for name in value:
        if name not in type_.fields:
            hint = did_you_mean([json_text(s) for s in suggestion_list(name, list(type_.fields))])
            hint = hint.replace("Did you mean", "; did you mean").rstrip("?") + "?" if hint else ""
            problems.append(f"{type_.name} has no field {json_text(name)}{hint}")
    if type_.is_one_of:
        known = [name for name in value if name in type_.fields]
        if len(known) != 1 or value[known[0]] is None:
            problems.append(_one_of_problem(type_, value))
    return problems


def _one_of_problem(type_: GraphQLInputObjectType, value: Mapping[str, Any]) -> str:
    return f"{type_.name} takes exactly one field, not null, got {got(dict(value))}"


def rephrase(errors: list[GraphQLError], schema: GraphQLSchema, variables: Mapping[str, Any]) -> list[GraphQLError]:
    """``errors`` with every variable coercion error replaced by ``describe_variable``'s
    messages for its variable (located at the same definition, keeping the fault as
    the ``original_error``); the others as they are."""
    out: list[GraphQLError] = []
    done: set[str] = set()
    for error in errors:
        definition = variable_definition(error)
        if definition is None:
            out.append(error)
            continue
        name = definition.variable.name.value
        if name in done:
            continue
        done.add(name)
        messages = describe_variable(schema, definition, variables.get(name, Undefined)) or [error.message]
        out.extend(GraphQLError(m, definition, original_error=error.original_error) for m in messages)
    return out
