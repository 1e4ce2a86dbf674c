"""The published REST form of a JobInfo: protobuf's JSON mapping, as the published
API writes it (contract section 5).

Inside a message a field holding its default (null, "", 0, false, an empty list) is
left out, while a Struct field that is set is written even when empty (``{}``) and its
contents are kept as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from gateway.encoding import format_datetime, jsonable
from gateway.query.listing import JOB_FIELDS, ResponseFields

Document = dict[str, Any]


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
    """The collector as the published list writes it inside a JobInfo: collector_id,
    name, state, plugin_info {plugin_id, version}, provider, capability, is_public,
    project_id."""
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


def job_info(job: Mapping[str, Any], collector: Mapping[str, Any] | None, fields: ResponseFields) -> Document:
    """One stored job (and its collector, None when gone) as a published JobInfo,
    restricted to ``fields``."""
    out: Document = {}
    for name in JOB_FIELDS:
        if name not in fields.fields:
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
                out[name] = collector_short_form(fields.collector_view(dict(collector)))
        else:
            value = job.get(name)
            if not _is_default(value):
                out[name] = _scalar(value)
    return out
