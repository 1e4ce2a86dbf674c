"""The access log: one line per HTTP request. The request id comes from the logging
context (``gateway.logs``); bodies, headers and tokens are never logged."""

from __future__ import annotations

import logging

from starlette.types import Scope

from gateway.middleware import RequestObserver, graphql_operation

log = logging.getLogger("gateway.access")


class AccessLogMiddleware(RequestObserver):
    """Log "request" with method, route (``routes``, others as "other"), GraphQL
    operation name, status and duration in milliseconds, once the response is sent."""

    def observe(self, scope: Scope, route: str, status: int, seconds: float) -> None:
        """Write the "request" line (``extra``: method, route, operation, status,
        duration_ms rounded to microseconds) at INFO."""
        log.info(
            "request",
            extra={
                "method": scope["method"],
                "route": route,
                "operation": graphql_operation(scope),
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
            },
        )
