"""Logs: JSON lines (python-json-logger) on stderr, each carrying the id of the
request it belongs to (asgi-correlation-id's context variable). No request bodies,
headers or tokens are ever logged."""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

from asgi_correlation_id import CorrelationIdFilter
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter


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
            # uvicorn adds `color_message`, the same message with terminal colours.
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
        )

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        log_data["level"] = log_data["level"].lower()
        return log_data


def log_handler(stream: TextIO | None = None) -> logging.Handler:
    """A handler writing JSON lines to ``stream`` (stderr), with request ids."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(CorrelationIdFilter())
    handler.setFormatter(JsonFormatter())
    return handler


def configure_logging(level: str) -> None:
    """Send every log record at ``level`` or above through ``log_handler()``."""
    root = logging.getLogger()
    root.handlers[:] = [log_handler()]
    root.setLevel(level.upper())
