"""Each HTTP request is one database time budget: all its store calls, on every route,
share it (``gateway.store.request_budget``)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.store.request_budget import request_budget


class DatabaseBudgetMiddleware:
    """Runs each HTTP request inside ``request_budget()``: the clock of the request's
    database budget (``max_time_ms``) starts at its first store call and is shared by
    every later one. WebSocket and lifespan scopes pass through (a subscription gives
    each event a budget of its own)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with request_budget():
            await self.app(scope, receive, send)
