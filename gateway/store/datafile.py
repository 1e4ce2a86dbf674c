"""Data files of the fixture's shape: ``{"collections": {"job": [...], "collector": [...]}}``
in MongoDB Extended JSON v2, relaxed or canonical
(https://www.mongodb.com/docs/manual/reference/mongodb-extended-json/).

A file that cannot be loaded is refused with one line naming the file, the position
(line and column for JSON syntax, the document path - ``collections.job[17].created_at``
- for a value, both for nesting too deep) and what is wrong, in JSON's and Extended
JSON's words.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from bson import json_util

from gateway.display import json_fault, json_text
from gateway.store.base import COLLECTOR, JOB, Collection, Document
from gateway.store.documents import MAX_DEPTH, json_path


class DataFileError(ValueError):
    """A data file that cannot be loaded; the message is one line naming the file, the
    position (line and column, or the document path) and what is wrong."""


# What each Extended JSON v2 type wrapper holds, for a value that does not convert.
_WRAPPERS = {
    "$oid": "an ObjectId: 24 hexadecimal digits",
    "$date": 'a date: an ISO 8601 string, or {"$numberLong": "<milliseconds since 1970>"} within a BSON date\'s range',
    "$numberInt": "a 32-bit integer: its decimal digits, as a string, within ±2^31",
    "$numberLong": "a 64-bit integer: its decimal digits, as a string, within ±2^63",
    "$numberDouble": 'a double: a number as a string, or "Infinity", "-Infinity", "NaN"',
    "$numberDecimal": "a decimal128: a decimal number as a string",
    "$binary": 'binary data: {"base64": "<base64>", "subType": "<two hexadecimal digits>"}',
    "$uuid": "a UUID: 32 hexadecimal digits, with or without hyphens",
    "$timestamp": 'a timestamp: {"t": <seconds>, "i": <increment>}, both unsigned 32-bit integers',
    "$regularExpression": 'a regular expression: {"pattern": "<string>", "options": "<string>"}',
    "$symbol": "a symbol: a string",
    "$code": "JavaScript code: a string",
    "$minKey": "MinKey: 1",
    "$maxKey": "MaxKey: 1",
    "$dbPointer": 'a DBPointer: {"$ref": "<collection>", "$id": {"$oid": "..."}}',
}
# A file nesting far deeper than MongoDB stores (gateway.store.documents) is refused where it does.
_TOO_DEEP = f"documents and arrays nest deeper than MongoDB's {MAX_DEPTH} levels"
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*+"|[\[\]{},:]', re.DOTALL)


class _Unreadable(Exception):
    """A JSON number or constant no BSON value holds (raised by the fast reading)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


class _Marker:
    """An ``_Unreadable`` value left in place by the slow reading, found with its path."""

    def __init__(self, problem: str) -> None:
        self.problem = problem


def _number(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # beyond a double: JSON's syntax allows it, no value holds it
        raise _Unreadable(f"the number {text[:40]} is beyond the range of a double")
    return value


def _constant(name: str) -> Any:
    raise _Unreadable(f'{name} is not JSON (Extended JSON writes {{"$numberDouble": "{name}"}})')


# Extended JSON's integer wrappers hold their type's range; bson reads any digits.
_INTEGER_BITS = {"$numberInt": 32, "$numberLong": 64}
_DIGITS = re.compile(r"-?[0-9]+")


def _fits(digits: str, bits: int) -> bool:
    return len(digits) < 40 and -(2 ** (bits - 1)) <= int(digits) < 2 ** (bits - 1)


def _extended(value: dict[str, Any]) -> Any:
    """``value`` converted as ``bson.json_util`` converts an Extended JSON object,
    an integer wrapper's value outside its type's range refused (``ValueError``)."""
    if len(value) == 1:
        for wrapper, bits in _INTEGER_BITS.items():
            digits = value.get(wrapper)
            if isinstance(digits, str) and _DIGITS.fullmatch(digits) and not _fits(digits, bits):
                raise ValueError(f"{wrapper} out of range")
    return json_util.object_hook(value)


def _marking(reader: Any) -> Any:
    def read(text: str) -> Any:
        try:
            return reader(text)
        except _Unreadable as exc:
            return _Marker(exc.problem)
        except ValueError:  # an integer longer than Python reads
            return _Marker(f"the integer of {len(text)} digits is outside the range of a 64-bit integer")

    return read


def read_data_file(path: str | Path) -> dict[Collection, list[Document]]:
    """The job and collector documents of the file at ``path`` (lists, possibly empty).

    Raises ``DataFileError`` (see the module docstring) when it is not a regular file,
    cannot be read, is not UTF-8, is not JSON, holds an Extended JSON value that does
    not convert (``{"$date": "soon"}``) or a number no BSON value holds, nests deeper
    than MongoDB does, or is not of the fixture's shape."""
    text = _text(Path(path))
    try:
        data = json.loads(text, object_hook=_extended, parse_float=_number, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise DataFileError(f"{path}: {json_fault(exc)}") from None
    except RecursionError:
        raise DataFileError(f"{path}: {_too_deep(text)}") from None
    except Exception:
        raise DataFileError(f"{path}: {_value_fault(text)}") from None
    return _collections(data, path)


def _text(path: Path) -> str:
    try:
        if not path.is_file():
            raise DataFileError(f"{path}: not a file" if path.exists() else f"{path}: no such file")
        raw = path.read_bytes()
    except OSError as exc:
        raise DataFileError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8-sig")  # a byte order mark, which RFC 8259 lets a reader ignore, is skipped
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DataFileError(f"{path}: line {line} column {column} (byte {exc.start}): not UTF-8") from None


def _collections(data: Any, path: str | Path) -> dict[Collection, list[Document]]:
    collections = data.get("collections") if isinstance(data, dict) else None
    if not isinstance(collections, dict):
        raise DataFileError(f'{path}: expected an object {{"collections": {{"job": [...], "collector": [...]}}}}')
    loaded: dict[Collection, list[Document]] = {}
    for name in (JOB, COLLECTOR):
        docs = collections.get(name, [])
        if not isinstance(docs, list):
            raise DataFileError(f"{path}: collections.{name} must be a list of objects, got {_shown(docs)}")
        for i, doc in enumerate(docs):
            if not isinstance(doc, dict):
                raise DataFileError(f"{path}: collections.{name}[{i}] must be an object, got {_shown(doc)}")
        loaded[name] = docs
    return loaded


def _shown(value: Any) -> str:
    """The value as JSON, cut short."""
    return json_text(value, 40)


def _too_deep(text: str) -> str:
    """Where arrays and objects first nest deeper than ``MAX_DEPTH``: the document path
    (its first steps) and the line and column, as ``collections.job[3][0][0]… (line 1
    column 130): ...``."""
    # One entry per open array or object: [bracket, index in the array or key in the object].
    open_: list[list[Any]] = []
    string = ""
    for token in _TOKENS.finditer(text):
        found = token.group()
        if found[0] == '"':
            string = found
        elif found == ":" and open_:
            open_[-1][1] = _key(string)
        elif found == "," and open_ and open_[-1][0] == "[":
            open_[-1][1] += 1
        elif found in "[{":
            if len(open_) == MAX_DEPTH:
                line = text.count("\n", 0, token.start()) + 1
                column = token.start() - (text.rfind("\n", 0, token.start()) + 1) + 1
                return f"{json_path([step for _, step in open_])} (line {line} column {column}): {_TOO_DEEP}"
            open_.append([found, 0 if found == "[" else ""])
        elif found in "]}" and open_:
            open_.pop()
    return _TOO_DEEP


def _key(token: str) -> str:
    try:
        return str(json.loads(token))
    except ValueError:
        return token.strip('"')


def _value_fault(text: str) -> str:
    """The first value of ``text`` (JSON that parses) that does not convert, as
    ``collections.job[17].created_at: <what is wrong>``."""
    raw = json.loads(text, parse_float=_marking(_number), parse_int=_marking(int), parse_constant=_marking(_constant))
    try:
        _convert(raw, "", 0)
    except DataFileError as exc:
        return str(exc)
    return "a value is not MongoDB Extended JSON"  # not reached: the fast reading failed on one


def _convert(value: Any, where: str, depth: int) -> Any:
    """``value`` with its Extended JSON converted, bottom-up as ``json_util`` does;
    ``DataFileError`` (without the file) naming the first value that fails."""
    if isinstance(value, _Marker):
        raise DataFileError(f"{where}: {value.problem}")
    if isinstance(value, list):
        return [_convert(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    if depth > MAX_DEPTH:
        raise DataFileError(f"{where}: {_TOO_DEEP}")
    converted = {k: _convert(v, f"{where}.{k}" if where else k, depth + 1) for k, v in value.items()}
    try:
        return _extended(converted)
    except Exception:
        wrapper = next((k for k in value if k in _WRAPPERS), next((k for k in value if k.startswith("$")), "?"))
        holds = _WRAPPERS.get(wrapper, f"the Extended JSON type {wrapper}")
        raise DataFileError(f"{where}: {json_text(value, 80)} is not {holds}") from None
