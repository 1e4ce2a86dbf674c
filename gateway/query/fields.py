"""The stored fields of a job and of its collector (contract section 1): the one table
every client key is checked against.

A key in the language (a condition's key, a sort key, an ``only`` path, a stat path
before grouping) must be a path of this table: a stored field of the job, a field of
its collector under ``collector_info.``, or any path below a free-form object
(``filter``, ``errors.additional``, ``tags``, ``capability``, ``plugin_info.options``,
``plugin_info.metadata``). Any other key is refused with ``InvalidQuery`` naming it and
suggesting the stored spelling (``createdAt`` -> ``created_at``).

The table is data, meant to be read by other code as well (the GraphQL schema builds
typed inputs from it). Its API:

- ``Field``: ``name`` (stored), ``kind`` (``Kind``), ``array`` (an array of that kind),
  ``fields`` (a ``DOCUMENT``'s sub-fields), ``values`` (the strings an enumerated field
  holds), ``wire_name`` (the published name where it differs: ``filter``), ``joined``
  (not stored on the job: looked up, ``collector_info``), ``published`` (written in a
  JobInfo), ``description``.
- ``JOB_DOCUMENT``, ``COLLECTOR_DOCUMENT``: the two tables, in the published order.
- ``field_at(path)``: the ``Field`` a stored or wire path names (None below a free-form
  object or for an unknown path).
- ``stored_key(raw, where)``: a client key checked and mapped to the stored path
  (``filter.region`` -> ``filters.region``; the legacy ``collector.x`` ->
  ``collector_info.x``), else ``InvalidQuery``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum

from gateway.display import json_text
from gateway.errors import InvalidQuery
from gateway.query.paths import COLLECTOR_INFO, check_path


class Kind(Enum):
    """What a stored field holds."""

    STRING = "string"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    DATETIME = "datetime"  # a BSON date (UTC)
    OBJECT_ID = "object_id"  # a BSON ObjectId (the legacy `collector` reference)
    DOCUMENT = "document"  # a sub-document with the fields listed in `Field.fields`
    FREE_FORM = "free_form"  # an object whose contents are the writer's: any path below is allowed


@dataclass(frozen=True)
class Field:
    """One stored field (see the module docstring)."""

    name: str
    kind: Kind
    array: bool = False
    fields: tuple[Field, ...] = ()
    values: tuple[str, ...] = ()
    wire_name: str | None = None
    joined: bool = False
    published: bool = True
    description: str = ""

    @property
    def published_name(self) -> str:
        """The name the published API writes and reads."""
        return self.wire_name or self.name


JOB_STATUSES = ("CREATED", "CANCELED", "IN_PROGRESS", "SUCCESS", "ERROR", "TIMEOUT")
COLLECTOR_STATES = ("ENABLED", "DISABLED")
UPGRADE_MODES = ("NONE", "MANUAL", "AUTO")

_S, _I, _B, _D = Kind.STRING, Kind.INTEGER, Kind.BOOLEAN, Kind.DATETIME

PLUGIN_INFO_DOCUMENT: tuple[Field, ...] = (
    Field("plugin_id", _S),
    Field("version", _S),
    Field("options", Kind.FREE_FORM),
    Field("secret_id", _S),
    Field("secret_group_id", _S),
    Field("provider", _S),
    Field("service_account_id", _S),
    Field("metadata", Kind.FREE_FORM),
    Field("upgrade_mode", _S, values=UPGRADE_MODES),
)

COLLECTOR_DOCUMENT: tuple[Field, ...] = (
    Field("collector_id", _S),
    Field("name", _S),
    Field("state", _S, values=COLLECTOR_STATES),
    Field("plugin_info", Kind.DOCUMENT, fields=PLUGIN_INFO_DOCUMENT),
    Field("priority", _I),
    Field("tags", Kind.FREE_FORM),
    Field("provider", _S),
    Field("capability", Kind.FREE_FORM),
    Field("is_public", _B),
    Field("project_id", _S),
    Field("domain_id", _S),
    Field("created_at", _D),
    Field("last_collected_at", _D),
)

ERROR_INFO_DOCUMENT: tuple[Field, ...] = (
    Field("error_code", _S),
    Field("message", _S),
    Field("additional", Kind.FREE_FORM),
)

JOB_DOCUMENT: tuple[Field, ...] = (
    Field("job_id", _S),
    Field("status", _S, values=JOB_STATUSES),
    Field("filters", Kind.FREE_FORM, wire_name="filter", description="The collect filter the job ran with."),
    Field("total_tasks", _I),
    Field("remained_tasks", _I),
    Field("errors", Kind.DOCUMENT, array=True, fields=ERROR_INFO_DOCUMENT),
    Field(
        COLLECTOR_INFO,
        Kind.DOCUMENT,
        fields=COLLECTOR_DOCUMENT,
        joined=True,
        description="The job's collector (gateway.query.collectors), looked up in its domain.",
    ),
    Field("project_id", _S),
    Field("domain_id", _S),
    Field("created_at", _D),
    Field("updated_at", _D),
    Field("finished_at", _D),
    Field("collector_id", _S, published=False, description="The job's collector, by id."),
    Field("collector", Kind.OBJECT_ID, published=False, description="Older databases: the collector's `_id`."),
    Field("projects", _S, array=True, published=False, description="Projects the job touched (access scope)."),
)

# Keys older clients wrote that name a published path: the legacy reference to the
# job's collector (`collector.provider`) reads the collector, as `collector_info.*` does.
# Reads a client's key (the value, where it is, for errors) into the path to use.
KeyReader = Callable[[object, str], str]

_LEGACY_PREFIXES = {"collector": COLLECTOR_INFO}
# An element index as MongoDB reads one: digits without a leading zero ("00" is a field
# name, https://www.mongodb.com/docs/manual/core/document/#dot-notation; SERVER-31977).
_ARRAY_INDEX = re.compile(r"0|[1-9]\d*")
_ZERO_LED = re.compile(r"0\d+")


def _named(table: tuple[Field, ...], name: str) -> Field | None:
    for f in table:
        if name in (f.name, f.wire_name):
            return f
    return None


def _walk(path: str) -> tuple[Field | None, bool]:
    """(the field at ``path``, whether ``path`` is allowed). Below a free-form object
    any path is allowed (field None); a numeric segment after an array field is an
    element index, as MongoDB reads it."""
    table, current = JOB_DOCUMENT, None
    after_array = False
    for segment in path.split("."):
        if current is not None and current.kind is Kind.FREE_FORM:
            return None, True
        if after_array and _ARRAY_INDEX.fullmatch(segment):
            after_array = False
            continue
        if current is not None and current.kind is not Kind.DOCUMENT:
            return None, False
        found = _named(table, segment)
        if found is None:
            return None, False
        current, table, after_array = found, found.fields, found.array
    return current, True


def shown_by_list(path: str) -> bool:
    """Whether the list shows the value at the stored ``path`` as it is stored: every
    field along it is published (not ``projects``, ``collector_id``, ``collector``)
    and it is not a whole sub-document of the table (``errors``,
    ``collector_info.plugin_info``), of which the list writes only the table's fields.
    Below a free-form object (``filters.region``, ``collector_info.tags``) all is shown.
    The rule of what a project-scoped caller may read through statistics (section 7:
    it sees what the list shows it)."""
    table: tuple[Field, ...] = JOB_DOCUMENT
    current: Field | None = None
    for segment in path.split("."):
        if current is not None and current.kind is Kind.FREE_FORM:
            return True
        found = _named(table, segment)
        if found is None:
            if current is not None and current.array and _ARRAY_INDEX.fullmatch(segment):
                continue  # an element of an array field
            return False
        if not found.published:
            return False
        current, table = found, found.fields
    return current is not None and current.kind is not Kind.DOCUMENT


def field_at(path: str) -> Field | None:
    """The field a stored or published path names (``filters``/``filter``,
    ``errors.error_code``, ``collector_info.plugin_info.provider``); None for a path
    below a free-form object and for an unknown one."""
    return _walk(path)[0]


def _paths(table: tuple[Field, ...], prefix: str = "") -> Iterator[str]:
    for f in table:
        yield prefix + f.name
        if f.wire_name:
            yield prefix + f.wire_name
        if f.kind is Kind.DOCUMENT:
            yield from _paths(f.fields, f"{prefix}{f.name}.")


KNOWN_PATHS: tuple[str, ...] = tuple(_paths(JOB_DOCUMENT))


def _snake(text: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", text).lower()


def suggestion(key: str) -> str | None:
    """The known path a misspelt ``key`` most likely means (``createdAt`` ->
    ``created_at``, ``collectorInfo.provider`` -> ``collector_info.provider``)."""
    snake = _snake(key)
    allowed = _walk(snake)[1] if snake != key else False
    if allowed:
        return snake
    close = difflib.get_close_matches(snake, KNOWN_PATHS, n=1, cutoff=0.75)
    return close[0] if close else None


def unknown_key(key: str, where: str) -> InvalidQuery:
    """The error for a key that is no path of the table, with a suggestion."""
    hint = suggestion(key)
    did_you_mean = f" Did you mean {json_text(hint)}?" if hint else ""
    return InvalidQuery(
        f"{where} {json_text(key)} is not a stored field of a job; keys are snake_case stored paths such as "
        f'"created_at", "errors.error_code" or "collector_info.provider".{did_you_mean}'
    )


def stored_path(path: str) -> str:
    """The stored spelling of a published path (``filter.region`` ->
    ``filters.region``); other paths as they are. No checking: see ``stored_key``."""
    head, dot, rest = path.partition(".")
    top = _named(JOB_DOCUMENT, head)
    return (top.name if top else head) + dot + rest


def stored_key(raw: object, where: str) -> str:
    """Check a client's key against the table and return the stored path it names.

    Raises ``InvalidQuery`` naming ``where`` for a malformed path (see
    ``paths.check_path``), for ``collector_info`` alone (a collector field is needed) and
    for a path the table does not have."""
    key = written = check_path(raw, where)
    head, dot, rest = key.partition(".")
    if dot and head in _LEGACY_PREFIXES:
        key = f"{_LEGACY_PREFIXES[head]}.{rest}"
    if key == COLLECTOR_INFO:
        raise InvalidQuery(f'{where} "collector_info" must name a collector field, e.g. "collector_info.provider".')
    if not _walk(key)[1]:
        if any(_ZERO_LED.fullmatch(segment) for segment in key.split(".")):
            raise InvalidQuery(
                f"{where} {json_text(written)} is not a stored field of a job: an array index is written without "
                'leading zeros ("0", "1", ...); MongoDB reads a part such as "00" as a field name, which a job '
                "does not have."
            )
        raise unknown_key(written, where)
    return stored_path(key)
