"""Bound request bodies on every route, GraphQL included."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import PayloadTooLarge


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` (413 ``PayloadTooLarge``): by their
    declared ``Content-Length`` before reading, or as they stream in."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
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
