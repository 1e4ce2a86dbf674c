"""Logs on stderr: JSON lines (python-json-logger) for machines, or text lines for a
person at a terminal. Each line carries the id of the request it belongs to
(asgi-correlation-id's context variable). No request bodies, headers or tokens are
ever logged."""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Any, TextIO

from asgi_correlation_id import CorrelationIdFilter
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

from gateway.display import json_text

_PLAIN = re.compile(r"[^\s\"'=\\]+")
_MAX_SHOWN = 2000  # characters of one value: a log line stays a line
# Attributes every record has, and uvicorn's `color_message` (the same message with
# terminal colours): the rest of a record's attributes were passed with `extra=`.
_NOT_EXTRA = frozenset([*RESERVED_ATTRS, "color_message", "correlation_id", "message", "asctime"])


class JsonFormatter(_LibraryJsonFormatter):
    """One JSON object per line: ``time`` (ISO 8601, UTC), ``level`` (lower case),
    ``logger``, ``message``, ``request_id`` (null outside a request), the ``extra=``
    fields of the call, and ``exception`` (the formatted traceback) when there is one."""

    def __init__(self) -> None:
        super().__init__(
            "{levelname}{name}{message}",
            style="{",
            timestamp="time",
            rename_fields={
                "levelname": "level",
                "name": "logger",
                "correlation_id": "request_id",
                "exc_info": "exception",
            },
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
        )

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        """python-json-logger's last hook before encoding: the level in lower case."""
        log_data["level"] = log_data["level"].lower()
        return log_data


class TextFormatter(logging.Formatter):
    """``HH:MM:SS level logger: message key=value ...`` (local time), the request id
    last; tracebacks below the line. Values are written as JSON writes them (``pids=[1,2]``,
    ``reason="bad token"``, ``value=null``), a word without spaces or quotes as it is."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%H:%M:%S")
        self.converter = time.localtime

    def format(self, record: logging.LogRecord) -> str:
        """The record's line (``extra=`` fields as ``key=value``, then the request id),
        and its traceback, if any, on the lines below."""
        line = super().format(record)
        head, _, tail = line.partition("\n")
        extras = [f"{k}={_shown(v)}" for k, v in vars(record).items() if k not in _NOT_EXTRA]
        request_id = getattr(record, "correlation_id", None)
        if request_id:
            extras.append(f"request_id={request_id}")
        head = " ".join([head, *extras])
        return f"{head}\n{tail}" if tail else head


def _shown(value: object) -> str:
    """A log value for a person: a plain word as it is, anything else as JSON."""
    if isinstance(value, str) and value and _PLAIN.fullmatch(value):
        return value
    return json_text(value, _MAX_SHOWN)


def log_handler(stream: TextIO | None = None, *, text: bool = False) -> logging.Handler:
    """A handler writing JSON lines (or, with ``text``, text lines) to ``stream``
    (stderr), with request ids."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(CorrelationIdFilter())
    handler.setFormatter(TextFormatter() if text else JsonFormatter())
    return handler


def text_logs(log_format: str, stream: TextIO | None = None) -> bool:
    """Whether ``log_format`` ("auto", "json", "text") means text lines on ``stream``
    (stderr): "auto" means text on a terminal."""
    if log_format == "auto":
        return (stream or sys.stderr).isatty()
    return log_format == "text"


def configure_logging(level: str, log_format: str = "json") -> None:
    """Send every log record at ``level`` or above to stderr, as ``log_format`` says."""
    root = logging.getLogger()
    root.handlers[:] = [log_handler(text=text_logs(log_format))]
    root.setLevel(level.upper())
