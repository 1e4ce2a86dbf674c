"""Request metrics: count and latency of every HTTP request."""

from __future__ import annotations

from starlette.types import ASGIApp, Scope

from gateway.metrics import Metrics
from gateway.middleware import RequestObserver, graphql_operation


class MetricsMiddleware(RequestObserver):
    """Observe each HTTP request in ``metrics`` by route (``routes``, others as
    "other"), GraphQL operation name and response status; latency in seconds."""

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: frozenset[str]) -> None:
        super().__init__(app, routes)
        self.metrics = metrics

    def observe(self, scope: Scope, route: str, status: int, seconds: float) -> None:
        """``Metrics.observe_request`` with the request's GraphQL operation name."""
        self.metrics.observe_request(route, graphql_operation(scope), status, seconds)
