"""Plain ASGI middlewares, one per concern: the request context (a request id, with an
incoming `X-Request-ID` honoured; the request's metrics; one JSON log line), and the
request body size limit."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import PayloadTooLarge
from gateway.metrics import Metrics

log = logging.getLogger("gateway.access")

_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
REQUEST_ID = "request_id"
GRAPHQL_OPERATION = "graphql_operation"


def request_state(scope: Scope) -> dict[str, Any]:
    """The per-request state Starlette exposes as `request.state`."""
    return scope.setdefault("state", {})


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics, routes: frozenset[str]) -> None:
        self.app = app
        self.metrics = metrics
        # Unknown paths are counted together so that scanners cannot blow up label cardinality.
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID_RE.fullmatch(incoming) else uuid.uuid4().hex
        state = request_state(scope)
        state[REQUEST_ID] = request_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = scope["path"] if scope["path"] in self.routes else "other"
            operation = state.get(GRAPHQL_OPERATION, "")
            self.metrics.observe_request(route, operation, status, seconds)
            log.info(
                "request",
                extra={
                    REQUEST_ID: request_id,
                    "method": scope["method"],
                    "route": route,
                    "operation": operation,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                },
            )


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` on every route, GraphQL included: by
    their declared length before reading, or as they stream in."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            too_large = PayloadTooLarge(
                f"request body is {int(declared)} bytes; the limit max_body_bytes is {self.max_bytes}."
            )
            response = JSONResponse({"error": {"code": too_large.code, "message": too_large.message}}, status_code=413)
            await response(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise PayloadTooLarge(f"request body is over the limit max_body_bytes ({self.max_bytes} bytes).")
            return message

        await self.app(scope, counted, send)
