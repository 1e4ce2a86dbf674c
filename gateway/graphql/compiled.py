"""Compiled completion: one Python function per object of a plan, generated once with the
plan, that builds the object's response map for the common case - every stored value
of the type its field promises - without the generic loop of
``gateway.graphql.completion``.

The function reads plain stored fields (``types.PLAIN``) straight from the source's
document, calls the readers of the others, and serializes leaves as the generic
completion does. At the first value it does not take as it is (a reader that raises, a
null in a non-null place, a stored value of another type), it answers ``SLOW``: the
generic completion then does the whole object, so errors, paths and null propagation
are exactly graphql-core's (readers are pure: reading again is safe). Functions are
generated with ``exec`` from the plan - field names, keys and kinds come from the
schema and the field table, never from a request - as ``dataclasses`` and
``collections.namedtuple`` generate theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gateway.graphql.stored import INT_MAX, INT_MIN

if TYPE_CHECKING:
    from gateway.graphql.plan import FieldPlan

# What a compiled function answers when the generic completion must do the object
# (plan.SLOW is this object: it lives here, below the plan, to keep imports one way).
SLOW: Any = object()

Compiled = Callable[[Any], Any]

# The test each plain kind's stored value passes to be taken as it is.
_ACCEPTS = {
    "string": "v.__class__ is str",
    "boolean": "v.__class__ is bool",
    "integer": "v.__class__ is int and INT_MIN <= v <= INT_MAX",
    "instant": "v.__class__ is datetime",
    "json": "True",
}


class _Source:
    """The generated function's text and the values it refers to."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = {"SLOW": SLOW, "INT_MIN": INT_MIN, "INT_MAX": INT_MAX, "datetime": datetime}

    def bind(self, value: Any) -> str:
        name = f"_{len(self.names)}"
        self.names[name] = value
        return name

    def emit(self, line: str, depth: int = 1) -> None:
        self.lines.append("    " * depth + line)


def _null(plan: FieldPlan, target: str, source: _Source, depth: int) -> None:
    """The line(s) for a null value of ``plan``: null when it may be, else give up."""
    source.emit(f"{target} = None" if plan.nullable else "return SLOW", depth)


def _read(plan: FieldPlan, target: str, source: _Source) -> None:
    """The lines reading the field with its resolver into ``v`` (an error: give up),
    then ``if v is None:`` and its null; the caller continues with the value's case."""
    source.emit("try:")
    source.emit(f"v = {source.bind(plan.read)}(source)", 2)
    source.emit("except Exception:")
    source.emit("return SLOW", 2)
    source.emit("if v is None:")
    _null(plan, target, source, 2)


def _leaf(plan: FieldPlan, index: int, source: _Source) -> None:
    key, target = repr(plan.key), f"v{index}"
    if plan.plain is not None:
        stored, kind = plan.plain
        source.emit(f"v = doc.get({stored!r})")
        source.emit("if v is None:")
        _null(plan, target, source, 2)
        if kind == "enum":
            source.emit(f"elif (n := {source.bind(plan.names)}.get(v)) is not None:")
            source.emit(f"{target} = n", 2)
        else:
            source.emit(f"elif {_ACCEPTS[kind]}:")
            converted = f"{source.bind(plan.serialize)}(v)" if kind in ("instant", "json") else "v"
            source.emit(f"{target} = {converted}", 2)
        source.emit("else:")
        source.emit("return SLOW", 2)
    else:
        _read(plan, target, source)
        source.emit("else:")
        source.emit(f"{target} = {source.bind(plan.serialize)}(v)", 2)
        source.emit(f"if {target} is None:", 2)
        source.emit("return SLOW", 3)
    source.emit(f"out[{key}] = {target}")


def _object(plan: FieldPlan, index: int, source: _Source) -> None:
    target = f"v{index}"
    if plan.compiled is None:
        raise _NotCompiled
    name = source.bind(plan.compiled)
    _read(plan, target, source)
    if plan.is_list:
        source.emit("else:")
        source.emit(f"{target} = []", 2)
        source.emit("for item in v:", 2)
        source.emit("if item is None:", 3)
        source.emit(f"{target}.append(None)" if plan.item_nullable else "return SLOW", 4)
        source.emit("else:", 3)
        source.emit(f"done = {name}(item)", 4)
        source.emit("if done is SLOW:", 4)
        source.emit("return SLOW", 5)
        source.emit(f"{target}.append(done)", 4)
    else:
        source.emit(f"elif ({target} := {name}(v)) is SLOW:")
        source.emit("return SLOW", 2)
    source.emit(f"out[{plan.key!r}] = {target}")


class _NotCompiled(Exception):
    pass


def compile_object(fields: tuple[FieldPlan, ...]) -> Compiled | None:
    """The compiled completion of an object with ``fields`` (the fields of one object
    type), or None when one of them is of a shape it does not cover."""
    source = _Source()
    source.emit("out = {}")
    if any(f.plain is not None for f in fields):
        source.emit("doc = source.doc")
    try:
        for index, plan in enumerate(fields):
            if plan.read is None:  # __typename
                source.emit(f"out[{plan.key!r}] = {plan.parent!r}")
            elif plan.serialize is not None and not plan.is_list:
                _leaf(plan, index, source)
            elif plan.serialize is None:
                _object(plan, index, source)
            else:
                return None  # a list of leaves: left to the generic completion
    except _NotCompiled:
        return None
    source.emit("return out")
    text = "def complete(source):\n" + "\n".join(source.lines) + "\n"
    namespace = dict(source.names)
    exec(compile(text, "<planned completion>", "exec"), namespace)
    compiled: Compiled = namespace["complete"]
    return compiled
