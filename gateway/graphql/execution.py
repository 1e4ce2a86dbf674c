"""A leaner execution of plain leaf fields.

graphql-core executes every field the same way: build a resolve info, gather
arguments, call the resolver, check for awaitables, then complete the value. For a
scalar or enum field with no resolver of its own (Strawberry's default attribute read),
that is most of the cost of a large response. This execution context reads such a field
straight from the object and serializes it; every other field, and every value that
would need an error, takes graphql-core's path unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import GraphQLNonNull, GraphQLSchema, is_leaf_type
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

DEFINITION = "strawberry-definition"

# (parent type name, field name) -> (attribute, coerce function, nullable)
LeafPlans = Mapping[tuple[str, str], tuple[str, Any, bool]]


def leaf_plans(schema: GraphQLSchema) -> dict[tuple[str, str], tuple[str, Any, bool]]:
    plans = {}
    for type_name, graphql_type in schema.type_map.items():
        fields = getattr(graphql_type, "fields", None)
        if type_name.startswith("__") or not fields or not hasattr(graphql_type, "is_type_of"):
            continue
        for field_name, field in fields.items():
            definition = (field.extensions or {}).get(DEFINITION)
            basic = getattr(field.resolve, "_is_default", False)
            nullable = not isinstance(field.type, GraphQLNonNull)
            leaf = field.type.of_type if not nullable else field.type
            if definition is None or not basic or field.args or not is_leaf_type(leaf):
                continue
            coerce = getattr(leaf, "coerce_output_value", None) or leaf.serialize
            plans[(type_name, field_name)] = (definition.python_name, coerce, nullable)
    return plans


def execution_context_class(plans: LeafPlans) -> type[StrawberryGraphQLCoreExecutionContext]:
    class LeafFastExecutionContext(StrawberryGraphQLCoreExecutionContext):
        def execute_field(self, parent_type: Any, source: Any, field_details_list: Any, *rest: Any) -> Any:
            first = field_details_list[0]
            plan = plans.get((parent_type.name, getattr(first, "node", first).name.value))
            if plan is not None:
                attribute, coerce, nullable = plan
                value = getattr(source, attribute, None)
                if value is None:
                    if nullable:
                        return None
                else:
                    try:
                        coerced = coerce(value)
                    except Exception:  # graphql-core's path reports it properly
                        coerced = None
                    if coerced is not None:
                        return coerced
            return super().execute_field(parent_type, source, field_details_list, *rest)

    return LeafFastExecutionContext
