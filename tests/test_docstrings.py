"""Public definitions carry their documentation (issue 12): at least 90% of those in
``gateway/``, and every one in ``gateway/query/``, ``gateway/store/base.py`` and
``gateway/service.py``.

What counts, read with ``ast`` (nothing is imported):
- a definition is a class or function (sync or async) at module level, or inside a
  counted class; it is public when its own name and the names of the classes around it
  do not start with ``_`` (so dunder methods and private helpers are not counted, nor
  the methods of a private class); functions nested in functions are not counted;
- ``@overload`` stubs and property setters/deleters are not counted (the implementation
  and the getter carry the text);
- it is documented by a non-empty docstring or, for Strawberry types, inputs, enums
  and fields, by a non-empty ``description=`` on its decorator (``strawberry.*``, or
  ``gateway.graphql.types.reads``, which hands it to ``strawberry.field``): that text is what the
  schema publishes (in the SDL and to introspection), so it is the definition's
  documentation, and repeating it in a docstring would make two texts to keep equal.

``python -m tests.test_docstrings`` prints the measure and every undocumented one.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "gateway"
GOAL = 0.90
COMPLETE = ("query/", "store/base.py", "service.py")
# Our decorators that pass their ``description=`` to ``strawberry.field``.
DESCRIBING = {"reads"}
Definition = ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef


def _decorator_name(decorator: ast.expr) -> str:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return ast.unparse(target)


def _described(node: Definition) -> bool:
    """A Strawberry decorator (``strawberry.type``, ``strawberry.field``, ...), or one of
    ours that wraps ``strawberry.field`` (``DESCRIBING``), with a non-empty ``description=``."""
    for decorator in node.decorator_list:
        name = _decorator_name(decorator) if isinstance(decorator, ast.Call) else ""
        if name.startswith("strawberry.") or name in DESCRIBING:
            for keyword in decorator.keywords:
                if keyword.arg == "description" and not (
                    isinstance(keyword.value, ast.Constant) and not keyword.value.value
                ):
                    return True
    return False


def _counted(node: Definition) -> bool:
    for decorator in node.decorator_list:
        name = _decorator_name(decorator)
        if name in ("overload", "typing.overload") or name.endswith((".setter", ".deleter")):
            return False
    return True


def public_definitions(tree: ast.Module, prefix: str = "") -> Iterator[tuple[str, Definition]]:
    """Every counted public definition of a parsed module, as (dotted name, node)."""

    def walk(body: list[ast.stmt], prefix: str) -> Iterator[tuple[str, Definition]]:
        for node in body:
            if isinstance(node, ast.If | ast.Try):
                yield from walk(node.body + node.orelse, prefix)
            elif isinstance(node, Definition) and not node.name.startswith("_") and _counted(node):
                yield f"{prefix}{node.name}", node
                if isinstance(node, ast.ClassDef):
                    yield from walk(node.body, f"{prefix}{node.name}.")

    yield from walk(tree.body, prefix)


def documented(node: Definition) -> bool:
    """A non-empty docstring, or a Strawberry ``description=``."""
    return bool((ast.get_docstring(node) or "").strip()) or _described(node)


def survey(package: Path = PACKAGE) -> dict[str, bool]:
    """``{"query/listing.py:compile_list": True, ...}`` over every module of the package."""
    found: dict[str, bool] = {}
    for path in sorted(package.rglob("*.py")):
        module = path.relative_to(package).as_posix()
        for name, node in public_definitions(ast.parse(path.read_text(), str(path))):
            found[f"{module}:{name}"] = documented(node)
    return found


def test_the_count_follows_its_rules() -> None:
    source = '''
import strawberry
from typing import overload

def bare(): pass
def told():
    """Told."""
def _private(): pass
class Public:
    """A class."""
    def method(self): pass
    def __init__(self): pass
    @property
    def size(self):
        """Its size."""
    @size.setter
    def size(self, value): pass
class _Hidden:
    def method(self): pass
@strawberry.type(description="A job.")
class Job:
    @strawberry.field(description="Its id.")
    def job_id(self) -> str: ...
    @strawberry.field
    def plain(self) -> str: ...
    @reads(description="Read.")
    def read(self) -> str: ...
@strawberry.input(description="")
class Empty: pass
@overload
def f(x: int) -> int: ...
def f(x): pass
if True:
    async def conditional(): pass
'''
    found = {name: documented(node) for name, node in public_definitions(ast.parse(source))}
    assert found == {
        "bare": False,
        "told": True,
        "Public": True,
        "Public.method": False,
        "Public.size": True,
        "Job": True,
        "Job.job_id": True,
        "Job.plain": False,
        "Job.read": True,
        "Empty": False,
        "f": False,
        "conditional": False,
    }


def test_nine_in_ten_public_definitions_are_documented() -> None:
    found = survey()
    share = sum(found.values()) / len(found)
    missing = sorted(name for name, ok in found.items() if not ok)
    assert share >= GOAL, f"{share:.1%} of {len(found)} documented; missing: {missing}"


@pytest.mark.parametrize("area", COMPLETE)
def test_every_public_definition_of_the_core_is_documented(area: str) -> None:
    found = {name: ok for name, ok in survey().items() if name.startswith(area)}
    assert found, area
    assert [name for name, ok in found.items() if not ok] == []


if __name__ == "__main__":
    found = survey()
    print(f"{sum(found.values())}/{len(found)} = {sum(found.values()) / len(found):.1%} documented")
    for name, ok in found.items():
        if not ok:
            print("  missing", name)
