"""Client values in error messages, in the API's vocabulary: JSON as sent
(``{"start":"x"}``, ``null``, ``true``), and JSON type names ("a string", "null"),
never Python's (``NoneType``, ``{'start': 'x'}``, ``True``)."""

from __future__ import annotations

import json

MAX_SHOWN = 120


def json_text(value: object, max_chars: int = MAX_SHOWN) -> str:
    """``value`` written as compact JSON, cut to ``max_chars`` characters (an ellipsis
    marks the cut). Values JSON cannot write (a date from a typed input) are shown as
    their text."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    except ValueError:  # a number too long to write (over Python's digit limit)
        text = "a number too long to show"
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


# Python's json messages (CPython's scanner), in plain words.
_JSON_FAULTS = (
    ("Expecting value", "expected a JSON value"),
    ("Expecting property name enclosed in double quotes", "expected a key in double quotes"),
    ("Expecting ':' delimiter", 'expected ":" after the key'),
    ("Expecting ',' delimiter", 'expected "," or the end of the list or object'),
    ("Extra data", "more text after the JSON value"),
    ("Unterminated string", "a string that is not closed"),
    ("Invalid control character", "a control character inside a string (JSON writes it escaped: \\n, \\u0000)"),
    ("Invalid \\uXXXX escape", "an invalid \\u escape (\\u and four hexadecimal digits)"),
    ("Invalid \\escape", "an invalid escape in a string"),
    ("Unexpected UTF-8 BOM", "a byte order mark before the JSON"),
)


def json_fault(error: json.JSONDecodeError) -> str:
    """Where and why ``error``'s text is not JSON: ``line 2 column 17: expected a key
    in double quotes`` (RFC 8259's words, not Python's)."""
    words = next((plain for python, plain in _JSON_FAULTS if error.msg.startswith(python)), error.msg)
    return f"line {error.lineno} column {error.colno}: {words}"


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """``number`` (with thousands separators) and ``noun``, plural unless it is one:
    "1 domain", "12,000 jobs", "2 worker processes" (``plural`` when not noun + "s")."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"


# Order matters: a bool is an int to Python.
_KINDS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "true or false"),
    ((int, float), "a number"),
    (str, "a string"),
    ((list, tuple), "a list"),
    (dict, "an object"),
)


def json_kind(value: object) -> str:
    """The JSON type of ``value``, with its article: "null", "true or false",
    "a number", "a string", "a list", "an object"."""
    for kinds, name in _KINDS:
        if isinstance(value, kinds):
            return name
    return "null" if value is None else type(value).__name__


def got(value: object) -> str:
    """ "null", "true", "false", or the JSON type and value: ``a string "x"``,
    ``a list [1,2]``."""
    if value is None or isinstance(value, bool):
        return json_text(value)
    return f"{json_kind(value)} {json_text(value)}"
