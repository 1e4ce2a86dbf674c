"""The document limits (contract section 8): depth and aliases, as validation rules
that are safe on any document.

Strawberry's limit rules walk fragment spreads as they find them, and fail with a
Python error on a spread of an undefined fragment or a cycle of fragments. Such a
document is invalid anyway - graphql-core's ``KnownFragmentNamesRule`` and
``NoFragmentCyclesRule`` say why - so a limit rule here looks at a document only once
its fragments resolve.
"""

from __future__ import annotations

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    Node,
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


def _on_valid_fragments(rule: type[ASTValidationRule]) -> type[ASTValidationRule]:
    class OnValidFragments(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            if fragments_resolve(context.document):
                rule(context)

    OnValidFragments.__name__ = f"OnValidFragments{rule.__name__}"
    return OnValidFragments


def limit_rules(*, max_depth: int, max_aliases: int) -> list[type[ASTValidationRule]]:
    """The depth and alias limit rules. Build them once per schema: Strawberry's
    validation cache is keyed by the rule classes."""
    rules = [
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
    ]
    return [_on_valid_fragments(rule) for rule in rules]
