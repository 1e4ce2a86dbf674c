"""Data flows one way: adapters -> service -> query compiler -> store. Lower layers
never import upper ones, nor the web frameworks."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "gateway"
FORBIDDEN = {
    "query": (
        "gateway.service",
        "gateway.graphql",
        "gateway.rest",
        "gateway.http",
        "gateway.app",
        "gateway.store",
        "strawberry",
        "starlette",
        "pymongo",
        "mongomock",
    ),
    "store": (
        "gateway.service",
        "gateway.graphql",
        "gateway.rest",
        "gateway.http",
        "gateway.app",
        "gateway.query",
        "strawberry",
        "starlette",
    ),
    "service.py": ("gateway.graphql", "gateway.rest", "gateway.http", "gateway.app", "strawberry", "starlette"),
    "auth.py": ("gateway.graphql", "gateway.rest", "gateway.http", "gateway.app", "strawberry", "starlette"),
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_lower_layers_do_not_import_upper_ones(layer: str) -> None:
    target = PACKAGE / layer
    files = [target] if target.is_file() else sorted(target.rglob("*.py"))
    assert files
    for path in files:
        bad = {name for name in _imports(path) if name.startswith(FORBIDDEN[layer])}
        assert not bad, f"{path.relative_to(PACKAGE)} imports {sorted(bad)}"


def test_the_readme_layout_names_every_module_and_package() -> None:
    """README's layout paragraph names each module and package of ``gateway/`` as it is
    now, and nothing that is gone."""
    readme = (PACKAGE.parent / "README.md").read_text()
    layout = readme[readme.index("Layout, in the order") :].split("\n\n", 1)[0]
    present = {
        f"gateway/{p.name}/" if p.is_dir() else f"gateway/{p.name}"
        for p in PACKAGE.iterdir()
        if (p.is_dir() and (p / "__init__.py").is_file()) or (p.suffix == ".py" and p.name != "__init__.py")
    }
    assert sorted(name for name in present if f"`{name}`" not in layout) == []
    named = set(re.findall(r"`(gateway/[\w./]+)`", layout))
    assert sorted(name for name in named if not (PACKAGE.parent / name).exists()) == []


def test_no_test_module_imports_another() -> None:
    """Material that several test modules use has one shared home in ``tests/`` (a
    module not named ``test_*``), never another test module."""
    tests = PACKAGE.parent / "tests"
    found = [
        f"{p.name}: {name}"
        for p in sorted(tests.glob("*.py"))
        for name in _imports(p)
        if name.startswith("tests.test_")
    ]
    assert found == []
