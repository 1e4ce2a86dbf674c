"""Plain ASGI middleware, one concern per module:

- ``request_id``: the request id (asgi-correlation-id): an incoming ``X-Request-ID``
  honoured when well-formed, else a new one; echoed on the response; held in a context
  variable that every log line of the request reads (``gateway.logs``);
- ``metrics``: the request counter and latency histogram by route, GraphQL operation
  name and status;
- ``access_log``: one log line per request;
- ``database_budget``: one database time budget per request.

Request bodies are bounded where they are read (``gateway.http.body``), so that each
route answers the refusal in its own error shape.

What they share is here: the request's route label, the GraphQL operation name the
schema extension reports, and the base of the two that observe answered requests.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

GRAPHQL_OPERATION = "graphql_operation"


def request_state(scope: Scope) -> dict[str, Any]:
    """The per-request state Starlette exposes as ``request.state``."""
    state: dict[str, Any] = scope.setdefault("state", {})
    return state


def graphql_operation(scope: Scope) -> str:
    """The GraphQL operation name of the request ("anonymous" when it has none; empty
    when the request was not a GraphQL operation)."""
    return str(request_state(scope).get(GRAPHQL_OPERATION, ""))


def route_label(scope: Scope, routes: frozenset[str]) -> str:
    """The request's path when it is a route of the app, else "other": scanners must
    not blow up label cardinality or log volume with invented paths."""
    path: str = scope["path"]
    return path if path in routes else "other"


class RequestObserver:
    """Base of the middleware that observe each HTTP request once it is answered:
    subclasses implement ``observe`` (route label, response status - 500 when the app
    raised before answering - and seconds taken)."""

    def __init__(self, app: ASGIApp, routes: frozenset[str]) -> None:
        self.app = app
        self.routes = routes

    def observe(self, scope: Scope, route: str, status: int, seconds: float) -> None:
        """Called once per HTTP request, after the app returned (or raised): its scope,
        route label, status and wall-clock seconds from the call to the end."""
        raise NotImplementedError

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, noting_status)
        finally:
            self.observe(scope, route_label(scope, self.routes), status, time.perf_counter() - started)
