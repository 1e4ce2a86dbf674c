"""The document limits (contract section 8): depth and aliases, as validation rules
that are safe on any document.

Strawberry's limit rules walk fragment spreads as they find them, and fail with a
Python error on a spread of an undefined fragment or a cycle of fragments, or on an
empty selection set. Such a document is invalid anyway - graphql-core's
``KnownFragmentNamesRule`` and ``NoFragmentCyclesRule`` say why, and
``NonEmptySelectionSets`` for the last one, which graphql-core's parser lets through
although the grammar (GraphQL spec, "Selection Sets": ``{ Selection+ }``) does not - so
a limit rule here looks at a document only once it is well-formed.
"""

from __future__ import annotations

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    Node,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    visit,
)
from graphql.language import Visitor
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter


def _spreads(node: Node) -> set[str]:
    names: set[str] = set()

    class Collect(Visitor):
        def enter_fragment_spread(self, spread: FragmentSpreadNode, *_: object) -> None:
            names.add(spread.name.value)

    visit(node, Collect())
    return names


def fragments_resolve(document: DocumentNode) -> bool:
    """Every fragment spread names a defined fragment, and no fragment spreads itself
    (directly or through others)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    if not _spreads(document) <= fragments.keys():
        return False
    uses = {name: _spreads(fragment) for name, fragment in fragments.items()}
    done: set[str] = set()

    def acyclic(name: str, path: frozenset[str]) -> bool:
        if name in path:
            return False
        if name in done:
            return True
        ok = all(acyclic(used, path | {name}) for used in uses[name])
        done.add(name)
        return ok

    return all(acyclic(name, frozenset()) for name in fragments)


def _empty_selection_sets(document: DocumentNode) -> list[SelectionSetNode]:
    found: list[SelectionSetNode] = []

    class Collect(Visitor):
        def enter_selection_set(self, node: SelectionSetNode, *_: object) -> None:
            if not node.selections:
                found.append(node)

    visit(document, Collect())
    return found


class NonEmptySelectionSets(ValidationRule):
    """Every selection set selects something (GraphQL spec, "Selection Sets")."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        for node in _empty_selection_sets(context.document):
            context.report_error(GraphQLError("A selection set must select at least one field.", node))


def well_formed(document: DocumentNode) -> bool:
    """Fragments resolve (``fragments_resolve``) and no selection set is empty."""
    return fragments_resolve(document) and not _empty_selection_sets(document)


def _on_well_formed(rule: type[ASTValidationRule]) -> type[ASTValidationRule]:
    class OnWellFormed(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            if well_formed(context.document):
                rule(context)

    OnWellFormed.__name__ = f"OnWellFormed{rule.__name__}"
    return OnWellFormed


def limit_rules(*, max_depth: int, max_aliases: int) -> list[type[ASTValidationRule]]:
    """The depth and alias limit rules, and ``NonEmptySelectionSets``. Build them once
    per schema: Strawberry's validation cache is keyed by the rule classes."""
    rules = [
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
    ]
    return [NonEmptySelectionSets, *(_on_well_formed(rule) for rule in rules)]
