"""No accidental breaking change: the exported schema against the last released one
(graphql-core's ``find_breaking_changes``); every breaking change must be announced in
CHANGELOG.md's Unreleased "Breaking" list by its schema coordinate."""

from __future__ import annotations

import re

import pytest
from graphql import BreakingChange, build_schema, find_breaking_changes

from gateway.graphql.schema import export_sdl
from tests.conftest import ROOT

RELEASED = ROOT / "schema" / "released"
CHANGELOG = ROOT / "CHANGELOG.md"
_KIND_WORDS = frozenset({"Type", "Field", "Argument", "Enum", "Input", "Interface", "Union", "Directive", "Value"})
_COORDINATE = re.compile(r"[A-Za-z_]\w*\.[A-Za-z_]\w*(?:\([A-Za-z_]\w*:\))?")


def _version(path: object) -> tuple[int, ...]:
    return tuple(int(p) for p in str(getattr(path, "stem", "")).split("."))


def last_released_sdl() -> str:
    return max(RELEASED.glob("*.graphql"), key=_version).read_text()


def coordinate(change: BreakingChange) -> str:
    """The schema coordinate a breaking change is about (``JobsInfo.results``,
    ``Query.jobs(domainId:)``, ``JobStatus``)."""
    words = [w.strip("`.,;") for w in change.description.split()]
    argument = re.search(r"\barg(?:ument)? (\w+)", change.description)
    for word in words:
        if _COORDINATE.fullmatch(word):
            if argument and "(" not in word:
                return f"{word}({argument.group(1)}:)"
            return word
    return words[1] if words[0] in _KIND_WORDS else words[0]


def announced() -> set[str]:
    """The coordinates the Unreleased "Breaking" list names (first backticked term of
    each bullet)."""
    text = CHANGELOG.read_text()
    unreleased = text.split("## Unreleased", 1)[1].split("\n## ", 1)[0]
    breaking = unreleased.split("### Breaking", 1)[1].split("\n### ", 1)[0] if "### Breaking" in unreleased else ""
    return {m.group(1) for m in re.finditer(r"^- `([^`]+)`", breaking, re.M)}


def test_every_breaking_change_since_the_last_release_is_announced() -> None:
    changes = find_breaking_changes(build_schema(last_released_sdl()), build_schema(export_sdl()))
    unannounced = [c.description for c in changes if coordinate(c) not in announced()]
    assert unannounced == [], (
        "breaking schema changes not announced in CHANGELOG.md (Unreleased -> Breaking, "
        f"one bullet per coordinate): {unannounced}"
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("type Query { a: Int }", "type Query { b: Int }", "Query.a"),
        ("type Query { a(x: Int): Int }", "type Query { a(x: Int!): Int }", "Query.a(x:)"),
        ("type Query { a: T } type T { x: Int }", "type Query { a: Int }", "T"),
        ("type Query { a: E } enum E { X Y }", "type Query { a: E } enum E { X }", "E.Y"),
        ("type Query { a: [Int!]! }", "type Query { a: [Int]! }", "Query.a"),
    ],
)
def test_the_check_finds_and_names_each_kind_of_breaking_change(old: str, new: str, expected: str) -> None:
    changes = find_breaking_changes(build_schema(old), build_schema(new))
    assert expected in {coordinate(c) for c in changes}
