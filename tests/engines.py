"""The engines the behaviour suite runs on, and where a MongoDB stand-in deviates.

Every test that takes the `engine` fixture (directly or through `service`,
`make_client`, `client`) runs on the embedded engine and on the server at
``MONGODB_URI``. Without ``MONGODB_URI`` the `mongodb` runs are skipped with that
reason, except in CI (``CI`` set), where they fail: CI must never be green by skipping.

A stand-in server (SecantusDB, which CI runs because no MongoDB can be installed) may
answer otherwise than MongoDB documents. Such a test is marked with the
:class:`Deviation` it meets; it then runs as a strict expected failure on the
`mongodb` engine when, and only when, the server at ``MONGODB_URI`` is that stand-in
(found from its ``buildInfo``). Against a real MongoDB the same test must pass; and
should the stand-in be fixed, the strict expected failure fails, asking for the mark's
removal. The run ends with a per-engine count and each expected failure's reason.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest

MONGODB_URI = os.environ.get("MONGODB_URI")
IN_CI = bool(os.environ.get("CI"))
SECANTUS = "SecantusDB"


@dataclass(frozen=True)
class Deviation:
    """Where ``server`` answers otherwise than the MongoDB manual page ``doc``."""

    server: str
    reason: str
    doc: str

    @property
    def mark(self) -> pytest.MarkDecorator:
        return pytest.mark.deviates(self)


# Each checked against the stand-in and the MongoDB manual.
COUNT_OF_NOTHING = Deviation(
    SECANTUS,
    "$count over no input documents emits a row {<name>: 0}; MongoDB returns no document",
    "https://www.mongodb.com/docs/manual/reference/operator/aggregation/count/",
)
PATH_THROUGH_ARRAY = Deviation(
    SECANTUS,
    "an expression field path through an array of sub-documents ('$errors.error_code') is missing; "
    "MongoDB evaluates it to the array of the sub-documents' values",
    "https://www.mongodb.com/docs/manual/core/field-paths/",
)
LONG_REGEX = Deviation(
    SECANTUS,
    "$regex patterns over 1,000 characters are refused ('exceeds the 1000-char cap'); MongoDB documents no such cap",
    "https://www.mongodb.com/docs/manual/reference/operator/query/regex/",
)

NULL_THROUGH_ARRAYS = Deviation(
    SECANTUS,
    "{'a.b': null} does not match a document whose 'a' is an empty array or an array of scalars (as MongoDB "
    "before 9.0 did); MongoDB 9.0 evaluates a dotted path that resolves to no non-null value as null",
    "https://www.mongodb.com/docs/manual/release-notes/9.0-compatibility/",
)
REGEX_DIALECT = Deviation(
    SECANTUS,
    "$regex runs Python's dialect, not PCRE: POSIX classes such as [[:digit:]] match nothing, \\h is refused as a "
    "bad escape, \\u0041 is accepted",
    "https://www.mongodb.com/docs/manual/reference/operator/query/regex/",
)

SORT_THROUGH_SUBDOCUMENTS = Deviation(
    SECANTUS,
    "an ascending sort on a path through an array of sub-documents ignores the elements that lack the field; "
    "MongoDB's sort key takes a missing field as null, and an ascending sort the smallest key",
    "https://www.mongodb.com/docs/manual/reference/bson-type-comparison-order/#arrays",
)
WHERE_IN_MATCH = Deviation(
    SECANTUS,
    "an aggregation $match holding a '$where' key anywhere is refused ('$where is not allowed in this context'), "
    "even inside an $eq/$ne/$in operand or an $elemMatch value, where it is data; MongoDB's query parser reads an "
    "$eq operand as a value and refuses $where only as an operator (mongodb/mongo expression_parser.cpp: parseWhere)",
    "https://www.mongodb.com/docs/manual/reference/operator/query/eq/",
)
OBJECT_FIELD_ORDER = Deviation(
    SECANTUS,
    "two objects holding the same fields in another order are taken as equal by the expressions $eq and $ne "
    "({$eq: [{a: 1, b: 2}, {b: 2, a: 1}]} is true), as one $group key, and as one distinct value; MongoDB compares "
    "objects field by field in order (as this server's own $cmp and find do)",
    "https://www.mongodb.com/docs/manual/reference/bson-type-comparison-order/#objects",
)

LEADING_ZERO_INDEX = Deviation(
    SECANTUS,
    "a numeric path part with a leading zero ('a.00') indexes an array as 'a.0' does, in filters and sorts; "
    "MongoDB reads it as a field name, which no array element has (jstests/core/query/match_numeric_components.js, "
    "SERVER-31977)",
    "https://www.mongodb.com/docs/manual/core/document/#dot-notation",
)

NUMERIC_EXPRESSION_PATH = Deviation(
    SECANTUS,
    "an aggregation field path's numeric part indexes an array ('$projects.0' is the first project); MongoDB's "
    "aggregation field paths never index arrays: the part names a field of each element (SERVER-24748)",
    "https://www.mongodb.com/docs/manual/reference/operator/aggregation/sortArray/",
)


# The marks of what runs on the server at MONGODB_URI: skipped without one, except in CI.
MONGODB_MARKS = [
    pytest.mark.mongodb,
    *(
        [pytest.mark.skip(reason="needs a MongoDB server: set MONGODB_URI (see README, Development)")]
        if not MONGODB_URI and not IN_CI
        else []
    ),
]


def mongodb_param() -> Any:
    """The `mongodb` engine parameter."""
    return pytest.param("mongodb", id="mongodb", marks=MONGODB_MARKS)


def require_mongodb() -> str:
    """MONGODB_URI, or a failure naming what is missing (reached only in CI)."""
    if not MONGODB_URI:
        pytest.fail("CI runs the mongodb engine: MONGODB_URI must point at a server (.ci/run starts one)")
    return MONGODB_URI


@cache
def server_at_uri() -> str:
    """Which server answers at MONGODB_URI: a stand-in's name, 'MongoDB x.y', or ''."""
    if not MONGODB_URI:
        return ""
    from pymongo import MongoClient
    from pymongo.errors import PyMongoError

    client: MongoClient[dict[str, Any]] = MongoClient(MONGODB_URI, serverSelectionTimeoutMS=3000)
    try:
        info = client.admin.command("buildInfo")
    except PyMongoError:
        return ""
    finally:
        client.close()
    if "secantusVersion" in info:
        return f"{SECANTUS} {info['secantusVersion']}"
    return f"MongoDB {info.get('version', '?')}"


def engine_of(item: pytest.Item) -> str:
    """The engine a test runs on: its `engine` parameter, `mongodb` for the server-only
    tests and the wire fault tests (on their own stand-in), `none` for tests that touch
    no store (compiler, CLI, schema...)."""
    params = getattr(item, "callspec", None)
    if params is not None and "engine" in params.params:
        return str(params.params["engine"])
    wire = item.get_closest_marker("mongodb") or "standin" in getattr(item, "fixturenames", ())
    return "mongodb" if wire else "none"


_ENGINES = pytest.StashKey[dict[str, str]]()
_XFAILS = pytest.StashKey[dict[str, Deviation]]()


def configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "deviates(deviation): a MongoDB stand-in answers otherwise than MongoDB documents; "
        "strict expected failure on the mongodb engine when that stand-in is the server at MONGODB_URI",
    )
    config.stash[_ENGINES] = {}
    config.stash[_XFAILS] = {}


def mark_deviations(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Record each test's engine; turn a Deviation into a strict xfail where it applies."""
    engines, xfails = config.stash[_ENGINES], config.stash[_XFAILS]
    for item in items:
        engine = engines[item.nodeid] = engine_of(item)
        if engine != "mongodb":
            continue
        for mark in item.iter_markers("deviates"):
            deviation = mark.args[0]
            assert isinstance(deviation, Deviation), f"{item.nodeid}: deviates() takes a Deviation"
            if server_at_uri().split(" ")[0] == deviation.server:
                xfails[item.nodeid] = deviation
                reason = f"{deviation.server}: {deviation.reason} ({deviation.doc})"
                item.add_marker(pytest.mark.xfail(strict=True, reason=reason))


def summary(terminal: Any, config: pytest.Config) -> None:
    """Per engine: how many tests ran and how; then each stand-in deviation met."""
    engines, xfails = config.stash[_ENGINES], config.stash[_XFAILS]
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for outcome in ("passed", "failed", "error", "skipped", "xfailed", "xpassed"):
        for report in terminal.stats.get(outcome, []):
            counts[engines.get(report.nodeid, "none")][outcome] += 1
    if not counts:
        return
    terminal.section("tests per engine")
    server = server_at_uri() or "no server"
    for engine in sorted(counts, key=["memory", "mongodb", "none"].index):
        shown = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts[engine].items()))
        where = {"memory": "embedded engine", "mongodb": server, "none": "no store"}[engine]
        terminal.write_line(f"{engine:8} ({where}): {shown}")
    met: dict[Deviation, list[str]] = defaultdict(list)
    for nodeid, deviation in xfails.items():
        met[deviation].append(nodeid)
    for deviation, nodeids in met.items():
        terminal.write_line(f"expected failures, {deviation.server}: {deviation.reason} ({deviation.doc}):")
        for nodeid in nodeids:
            terminal.write_line(f"    {nodeid}")
    for report in terminal.stats.get("passed", []):
        for name, value in report.user_properties:
            if name == "measured":
                terminal.write_line(f"measured, {report.nodeid.split('::')[-1]}: {value}")
