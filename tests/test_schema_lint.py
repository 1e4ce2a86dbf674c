"""The schema lint, run in CI: graphql-schema-linter's rules (tests/schema_rules.py),
checked in Python over the schema the code builds; every rule that is off says why.
tests/test_typescript.py also runs the linter itself (schema/typescript/
.graphql-schema-linterrc: these rules) where Node is installed."""

from __future__ import annotations

import pytest
from graphql import GraphQLSchema

from gateway.graphql.schema import build_schema
from tests.schema_rules import DISABLED, RULES


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema()._schema


@pytest.mark.parametrize("rule", RULES)
def test_schema_rule(schema: GraphQLSchema, rule: str) -> None:
    problems = list(RULES[rule](schema))
    assert problems == [], f"{rule}: {problems}"


def test_disabled_rules_are_not_also_checked() -> None:
    assert not set(DISABLED) & set(RULES)


@pytest.mark.parametrize("rule", ["types-have-descriptions", "relay-connection-types-spec", "defined-types-are-used"])
def test_the_rules_find_what_they_look_for(rule: str) -> None:
    from graphql import build_schema as from_sdl

    bad = from_sdl(
        """
        type Query { things: ThingConnection }
        type ThingConnection { nodes: [String] }
        type Orphan { x: Int }
        """
    )
    assert list(RULES[rule](bad))
