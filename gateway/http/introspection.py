"""Whether a GraphQL document only asks the schema about itself (introspection), so
that a gateway that requires tokens may still answer it when told to."""

from __future__ import annotations

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
)

INTROSPECTION_FIELDS = frozenset({"__schema", "__type", "__typename"})


def _root_fields(selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], seen: set[str]) -> bool:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value not in INTROSPECTION_FIELDS:
                return False
        elif isinstance(selection, InlineFragmentNode):
            if not _root_fields(selection.selection_set, fragments, seen):
                return False
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in seen:
                continue
            fragment = fragments.get(name)
            if fragment is None or not _root_fields(fragment.selection_set, fragments, seen | {name}):
                return False
    return True


def introspection_only(document: str, operation_name: str | None, *, max_tokens: int) -> bool:
    """Whether every root field the operation selects is ``__schema``, ``__type`` or
    ``__typename``. A document that does not parse, or whose operation cannot be
    chosen, is not."""
    try:
        ast: DocumentNode = parse(document, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return False
    operations = [d for d in ast.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == operation_name]
    if len(operations) != 1:
        return False
    fragments = {d.name.value: d for d in ast.definitions if isinstance(d, FragmentDefinitionNode)}
    return _root_fields(operations[0].selection_set, fragments, set())
