"""The request id, through asgi-correlation-id: an incoming ``X-Request-ID`` is kept
when well-formed (else a new id is made), echoed on the response, and held in a
context variable for the request's log lines."""

from __future__ import annotations

import re
import uuid

from asgi_correlation_id import CorrelationIdMiddleware, correlation_id
from starlette.middleware import Middleware

HEADER = "X-Request-ID"
# Ids that are safe to echo and log: no spaces, no control characters, bounded.
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def _well_formed(value: str) -> bool:
    return _WELL_FORMED.fullmatch(value) is not None


def _new_id() -> str:
    return uuid.uuid4().hex


def request_id_middleware() -> Middleware:
    """The middleware, configured: header ``X-Request-ID``, new ids 32 hex digits."""
    return Middleware(CorrelationIdMiddleware, header_name=HEADER, generator=_new_id, validator=_well_formed)


def current_request_id() -> str | None:
    """The id of the request being served (None outside a request)."""
    return correlation_id.get()
