"""Wire forms shared by both adapters: timestamps, JSON-safe values, and the REST
(protobuf JSON) form of a JobInfo.

The published API writes protobuf's JSON: inside a message a field holding its default
(null, "", 0, false, an empty list) is left out, while a Struct field that is set is
written even when empty (``{}``) and its contents are kept as they are.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from bson import ObjectId

from gateway.query.listing import JOB_FIELDS, Output

Document = dict[str, Any]


def format_datetime(value: datetime) -> str:
    """UTC, milliseconds, `Z`: ``2022-06-17T08:00:01.225Z``. Naive values are UTC."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    # isoformat is several times faster than strftime, and this runs per timestamp.
    return value.isoformat(timespec="milliseconds") + "Z"


def encode_json(content: Any) -> bytes:
    """JSON bytes, fast; numbers beyond 64 bits (which orjson refuses) via the stdlib."""
    try:
        return orjson.dumps(content)
    except orjson.JSONEncodeError:
        return json.dumps(content, separators=(",", ":")).encode()


def jsonable(value: Any) -> Any:
    """A stored value as JSON: dates as wire timestamps, object ids as strings."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, ObjectId):
        return str(value)
    return value


def _is_default(value: Any) -> bool:
    # `value == 0` is also true for False, which protobuf omits as well.
    return value is None or value == "" or (isinstance(value, int | float) and value == 0) or value == []


def _scalar(value: Any) -> Any:
    return format_datetime(value) if isinstance(value, datetime) else jsonable(value)


def _message(fields: Iterable[tuple[str, Any]]) -> Document:
    return {name: _scalar(value) for name, value in fields if not _is_default(value)}


def _struct(value: Any) -> Any:
    return jsonable(value) if isinstance(value, dict) else None


def collector_short_form(collector: Mapping[str, Any]) -> Document:
    """The collector as the published list writes it inside a JobInfo."""
    plugin = collector.get("plugin_info")
    out = _message((name, collector.get(name)) for name in ("collector_id", "name", "state"))
    if isinstance(plugin, dict):
        out["plugin_info"] = _message((k, plugin.get(k)) for k in ("plugin_id", "version"))
    out.update(_message([("provider", collector.get("provider"))]))
    capability = _struct(collector.get("capability"))
    if capability is not None:
        out["capability"] = capability
    out.update(_message((name, collector.get(name)) for name in ("is_public", "project_id")))
    return out


def _error_info(error: Any) -> Document:
    if not isinstance(error, dict):
        return {}
    out = _message((k, error.get(k)) for k in ("error_code", "message"))
    additional = _struct(error.get("additional"))
    if additional is not None:
        out["additional"] = additional
    return out


def prune(value: Document, paths: Iterable[str]) -> Document:
    """Keep only the dotted ``paths`` of a nested object."""
    kept: Document = {}
    for path in paths:
        head, _, rest = path.partition(".")
        if head not in value:
            continue
        if not rest:
            kept[head] = value[head]
        elif isinstance(value[head], dict):
            inner = prune(value[head], [rest])
            if inner:
                kept[head] = {**kept.get(head, {}), **inner}
    return kept


def rest_job(job: Mapping[str, Any], collector: Mapping[str, Any] | None, output: Output) -> Document:
    """One JobInfo in the published REST form, restricted to ``output``."""
    out: Document = {}
    for name in JOB_FIELDS:
        if name not in output.fields:
            continue
        if name == "filter":
            value = _struct(job.get("filters"))
            if value is not None:
                out[name] = value
        elif name == "errors":
            errors = job.get("errors")
            if isinstance(errors, list) and errors:
                out[name] = [_error_info(e) for e in errors]
        elif name == "collector_info":
            if collector is not None:
                info = collector_short_form(collector)
                out[name] = info if output.collector_paths is None else prune(info, output.collector_paths)
        else:
            value = job.get(name)
            if not _is_default(value):
                out[name] = _scalar(value)
    return out
