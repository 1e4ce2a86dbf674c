"""No assertion in ``tests/`` that cannot fail (issue 12), read with ``ast``:

- a constant (the literal ``True``, a non-empty string), or an ``or`` with a true
  constant;
- a comparison of an expression with itself (``x == x``, ``f(a) is f(a)``);
- a comparison of two literals (``{"a": 1, "b": 2} == {"b": 2, "a": 1}``: dict
  equality ignores key order already);
- a comparison of a name with the literal it was assigned in the same test
  (``x = 5`` ... ``assert x == 5``).

What an assertion should compare is the code's answer with the right value; these
shapes compare nothing the code computed."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

TESTS = Path(__file__).resolve().parent
LITERALS = (ast.Constant, ast.Dict, ast.List, ast.Tuple, ast.Set)


def _literal(node: ast.expr) -> bool:
    """A literal built of constants alone (no name, call, attribute or subscript)."""
    return isinstance(node, LITERALS) and all(
        not isinstance(n, ast.Name | ast.Call | ast.Attribute | ast.Subscript | ast.Starred) for n in ast.walk(node)
    )


def _assigned_literals(function: ast.AST) -> dict[str, set[str]]:
    """Each name a function assigns a literal to: the literals' source texts."""
    found: dict[str, set[str]] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and _literal(node.value):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found.setdefault(target.id, set()).add(ast.unparse(node.value))
    return found


def _fault(test: ast.expr, assigned: dict[str, set[str]]) -> str | None:
    if isinstance(test, ast.Constant):
        return "asserts a constant"
    if (
        isinstance(test, ast.BoolOp)
        and isinstance(test.op, ast.Or)
        and any(isinstance(v, ast.Constant) and v.value for v in test.values)
    ):
        return "an `or` with a true constant"
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        left, right = test.left, test.comparators[0]
        if ast.unparse(left) == ast.unparse(right):
            return "compares an expression with itself"
        if _literal(left) and _literal(right):
            return "compares two literals"
        for name, other in ((left, right), (right, left)):
            if isinstance(name, ast.Name) and ast.unparse(other) in assigned.get(name.id, ()):
                return f"compares {name.id} with the literal it was assigned"
    return None


def faults(source: str, filename: str = "<test>") -> Iterator[str]:
    """``file:line: what`` for each assertion of ``source`` that cannot fail."""
    tree = ast.parse(source, filename)
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        assigned = _assigned_literals(function)
        for node in ast.walk(function):
            if isinstance(node, ast.Assert):
                fault = _fault(node.test, assigned)
                if fault is not None:
                    yield f"{filename}:{node.lineno}: {fault}: {ast.unparse(node.test)[:100]}"


def test_the_check_finds_each_kind() -> None:
    source = """
def test_x(client):
    assert 1
    assert client.ok or True
    assert client.get() == client.get()
    assert {"a": 1, "b": 2} == {"b": 2, "a": 1}
    limit = 5
    assert limit == 5
    assert client.get("/") == {"a": 1}
    assert limit < client.size
"""
    found = [line.split(": ", 1)[1].split(":")[0] for line in faults(source)]
    assert found == [
        "asserts a constant",
        "an `or` with a true constant",
        "compares an expression with itself",
        "compares two literals",
        "compares limit with the literal it was assigned",
    ]


def test_no_assertion_in_the_tests_cannot_fail() -> None:
    found = [
        fault
        for path in sorted(TESTS.rglob("*.py"))
        if "node_modules" not in path.parts
        for fault in faults(path.read_text(), str(path.relative_to(TESTS)))
    ]
    assert found == []
