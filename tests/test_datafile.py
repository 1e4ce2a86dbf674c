"""Data files given with --data: a file that cannot be loaded is refused with one line
naming the file, the place (line and column, or the document path) and the fault, in
JSON's and Extended JSON's words (gateway/store/datafile.py); canonical and relaxed
Extended JSON both load."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from bson import Decimal128

from gateway.settings import Settings
from gateway.store.datafile import DataFileError
from gateway.store.factory import load_memory_store


def _jobs(*docs: str) -> str:
    return '{"collections": {"job": [' + ", ".join(docs) + "]}}"


DEEP = 100_000
BAD = [
    # Nesting past Python's recursion limit, and past MongoDB's 100 levels.
    (
        _jobs("[" * DEEP + "]" * DEEP),
        "collections.job[0][0][0][0][0][0]… (line 1 column 123): documents and arrays nest deeper than MongoDB's 100 levels",
    ),
    (
        _jobs('{"a":' * 5000 + "1" + "}" * 5000),
        "collections.job[0].a.a.a.a.a… (line 1 column 511): documents and arrays",
    ),
    (
        _jobs("{}", '{"b": "x", "a": [1, 2, ' + "[" * DEEP),
        "collections.job[1].a[2][0][0][0]… (line 1 column 148): documents",
    ),
    (_jobs('{"a":' + '{"a":' * 150 + "1" + "}" * 151), "collections.job[0].a.a.a.a.a.a.a.a…: documents and arrays"),
    (_jobs('{"a":' + "[" * 150 + "]" * 150 + "}"), "collections.job[0].a[0][0][0][0][0][0][0]…: documents and"),
    # Numbers no BSON value holds.
    (
        _jobs('{"_id": 1}', '{"x": {"y": [1, 99999999999999999999]}}'),
        "collections.job[1].x.y[1]: 99999999999999999999 is outside the range of a 64-bit integer",
    ),
    (
        _jobs('{"a": ' + "9" * 5000 + "}"),
        "collections.job[0].a: the integer of 5000 digits is outside the range of a 64-bit integer",
    ),
    (_jobs('{"b": 1e999}'), "collections.job[0].b: the number 1e999 is beyond the range of a double"),
    (_jobs('{"b": NaN}'), 'collections.job[0].b: NaN is not JSON (Extended JSON writes {"$numberDouble": "NaN"})'),
    (_jobs('{"b": -Infinity}'), "collections.job[0].b: -Infinity is not JSON"),
    # Extended JSON type wrappers holding what their type does not.
    (_jobs('{"x": {"$numberDecimal": "abc"}}'), 'collections.job[0].x: {"$numberDecimal":"abc"} is not a decimal128'),
    (_jobs('{"x": {"$numberDecimal": 1.5}}'), 'collections.job[0].x: {"$numberDecimal":1.5} is not a decimal128'),
    (
        _jobs('{"x": {"$numberLong": "99999999999999999999"}}'),
        '{"$numberLong":"99999999999999999999"} is not a 64-bit integer',
    ),
    (
        _jobs('{"x": {"$numberInt": "9999999999"}}'),
        'collections.job[0].x: {"$numberInt":"9999999999"} is not a 32-bit integer',
    ),
    (_jobs('{"x": {"$numberInt": 5}}'), '{"$numberInt":5} is not a 32-bit integer'),
    (_jobs('{"x": {"$numberDouble": "x"}}'), '{"$numberDouble":"x"} is not a double'),
    (_jobs('{"_id": {"$oid": "zz"}}'), 'collections.job[0]._id: {"$oid":"zz"} is not an ObjectId'),
    (_jobs('{"t": {"$date": "soon"}}'), 'collections.job[0].t: {"$date":"soon"} is not a date'),
    (_jobs('{"t": {"$date": {"$numberLong": "999999999999999999"}}}'), "is not a date"),
    (_jobs('{"b": {"$binary": {"base64": "!!", "subType": "zz"}}}'), "is not binary data"),
    (_jobs('{"b": {"$uuid": "nope"}}'), '{"$uuid":"nope"} is not a UUID'),
    (_jobs('{"b": {"$timestamp": {"t": -1, "i": 1}}}'), "is not a timestamp"),
    (_jobs('{"b": {"$regularExpression": {"pattern": 1, "options": ""}}}'), "is not a regular expression"),
    (_jobs('{"b": {"$minKey": 2}}'), '{"$minKey":2} is not MinKey: 1'),
    (_jobs('{"b": {"$code": "x", "$scope": 5}}'), "is not JavaScript code"),
    # Keys, duplicates, syntax, encoding, shape.
    (
        _jobs('{"a\\u0000b": 1}'),
        'collections.job[0]: document keys must be strings without NUL characters, got "a\\u0000b"',
    ),
    (_jobs('{"_id": 1}', '{"_id": 2}', '{"_id": 1}'), "collections.job[2]: _id 1 is loaded twice"),
    (
        '{"collections": {"job": [{"job_id": "a"},\n {"job_id": "b",, }]}}',
        "line 2 column 17: expected a key in double quotes",
    ),
    ('{"collections": {"job": [{"a": "b\tc"}]}}', "line 1 column 34: a control character inside a string"),
    ('{"collections": {}} x', "line 1 column 21: more text after the JSON value"),
    ('{"collections": {"job": [{"a": "\\q"}]}}', "line 1 column 33: an invalid escape in a string"),
    ('{"collections": {"job": [{"a" 1}]}}', 'line 1 column 31: expected ":" after the key'),
    ("", "line 1 column 1: expected a JSON value"),
    ('{"collections": {"job": [{"job_id": "a"}, "b"]}}', 'collections.job[1] must be an object, got "b"'),
    ('{"collections": {"job": {"job_id": "a"}}}', 'collections.job must be a list of objects, got {"job_id":"a"}'),
    ("null", 'expected an object {"collections": {"job": [...], "collector": [...]}}'),
]


@pytest.mark.parametrize(("content", "problem"), BAD, ids=range(len(BAD)))
def test_malformed_data_file_is_one_line_naming_file_place_and_fault(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "data.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataFileError) as refused:
        load_memory_store(Settings(data_files=(str(path),)))
    message = str(refused.value)
    assert message.startswith(f"{path}: ") and problem in message, message
    assert "\n" not in message and len(message) < 400
    for python in ("NoneType", "Traceback", "Error:", "{'", "'}", "Int64", "int()", "dict"):
        assert python not in message.removeprefix(f"{path}: "), message


def test_not_utf8_names_line_column_and_byte(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_bytes(b'{"collections":\n {"job": [{"a": "\xe9"}]}}')
    with pytest.raises(DataFileError, match=r"data.json: line 2 column 18 \(byte 33\): not UTF-8$"):
        load_memory_store(Settings(data_files=(str(path),)))


@pytest.mark.parametrize("kind", ["directory", "missing"])
def test_data_path_that_is_no_file(tmp_path: Path, kind: str) -> None:
    path = tmp_path if kind == "directory" else tmp_path / "none.json"
    expected = "not a file" if kind == "directory" else "no such file"
    with pytest.raises(DataFileError, match=f"^{path}: {expected}$"):
        load_memory_store(Settings(data_files=(str(path),)))


def test_canonical_and_relaxed_extended_json_load_alike(tmp_path: Path) -> None:
    canonical = tmp_path / "canonical.json"
    canonical.write_text(
        '\ufeff{"collections": {"job": [{"_id": {"$numberLong": "5"}, "n": {"$numberInt": "-2147483648"},'
        ' "big": {"$numberLong": "-9223372036854775808"}, "d": {"$numberDecimal": "1.5"},'
        ' "f": {"$numberDouble": "2.5"}}]}}',
        encoding="utf-8",
    )
    relaxed = tmp_path / "relaxed.json"
    relaxed.write_text(
        '{"collections": {"job": [{"_id": 5, "n": -2147483648, "big": -9223372036854775808,'
        ' "d": {"$numberDecimal": "1.5"}, "f": 2.5}]}}'
    )
    docs = []
    for path in (canonical, relaxed):
        store, data = load_memory_store(Settings(data_files=(str(path),)))
        assert data.jobs == 1
        docs.append(asyncio.run(store.find("job", {})))
    assert docs[0] == docs[1]
    (doc,) = docs[0]
    assert doc == {"_id": 5, "n": -(2**31), "big": -(2**63), "d": Decimal128("1.5"), "f": 2.5}
    assert type(doc["_id"]) is int and type(doc["big"]) is int
