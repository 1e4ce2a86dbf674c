"""create_app: the ASGI application. Its lifespan owns the store; nothing connects
or reads the environment at import time."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TypedDict

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute

from gateway import rest
from gateway.auth import Authenticator
from gateway.demo.simulate import Simulator
from gateway.errors import GatewayError, InternalError, InvalidQuery, MethodNotAllowed, NotFound, StoreUnavailable
from gateway.graphql.schema import build_schema
from gateway.heap import HeapRelease
from gateway.http.documents import PersistedQueries, TrustedDocuments, shipped_examples
from gateway.http.endpoint import GraphQLEndpoint
from gateway.http.graphiql import ASSETS_PATH, GraphiQLPage, assets_app, examples
from gateway.live.hub import ChangeHub
from gateway.live.sources import ChangeSource
from gateway.live.sse import SSESubscriptions
from gateway.live.websocket import LiveConnections, WebSocketSubscriptions
from gateway.metrics import CONTENT_TYPE, InstrumentedStore, Metrics
from gateway.middleware.access_log import AccessLogMiddleware
from gateway.middleware.database_budget import DatabaseBudgetMiddleware
from gateway.middleware.metrics import MetricsMiddleware
from gateway.middleware.request_id import HEADER as REQUEST_ID_HEADER
from gateway.middleware.request_id import request_id_middleware
from gateway.query.limits import Limits
from gateway.service import Clock, JobService, utc_now
from gateway.settings import Settings
from gateway.store.base import JobStore
from gateway.store.factory import open_store
from gateway.store.memory import MemoryJobStore

log = logging.getLogger("gateway")


class AppState(TypedDict):
    """What the lifespan gives every request (``request.state``): the app's objects
    that live as long as it serves."""

    settings: Settings
    store: JobStore
    service: JobService
    authenticator: Authenticator
    metrics: Metrics
    hub: ChangeHub


def error_response(request: Request, exc: GatewayError, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The REST answer to ``exc`` (spec section 5): ``{"error": {"code", "message"}}``
    with the error's HTTP status and headers (``WWW-Authenticate``...) plus ``headers``
    (a 405's ``Allow``); counted in the error metrics by code."""
    request.state.metrics.error(exc.code)
    return JSONResponse(
        {"error": {"code": exc.code, "message": exc.message}},
        status_code=exc.http_status,
        headers={**exc.http_headers, **(headers or {})},
    )


async def _gateway_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GatewayError)
    if isinstance(exc, InternalError):
        log.error("internal error", exc_info=exc.__cause__ or exc)
    return error_response(request, exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own HTTP errors (no route, wrong method) in the REST error form,
    their headers (``Allow``) kept."""
    assert isinstance(exc, HTTPException)
    error: GatewayError
    if exc.status_code == 404:
        error = NotFound(f"no route {request.url.path}.")
    elif exc.status_code == 405:
        error = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}.")
    elif exc.status_code < 500:
        error = InvalidQuery(exc.detail)
    else:
        error = InternalError()
    return error_response(request, error, exc.headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("unexpected error", exc_info=exc)
    return error_response(request, InternalError())


async def healthz(request: Request) -> Response:
    """``GET /healthz``, liveness: ``{"status": "ok"}`` while the event loop answers;
    never touches the database."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """``GET /readyz``, readiness: the store's ping; ``{"status": "ready"}``, or 503
    ``{"status": "unavailable", "reason"}`` in the words of ``StoreUnavailable``."""
    try:
        await request.state.store.ping()
    except StoreUnavailable as exc:
        return JSONResponse({"status": "unavailable", "reason": exc.message}, status_code=503)
    return JSONResponse({"status": "ready"})


async def metrics(request: Request) -> Response:
    """``GET /metrics``: the Prometheus text exposition (prometheus_client's format)."""
    return Response(request.state.metrics.exposition(), media_type=CONTENT_TYPE)


def check_settings_files(settings: Settings) -> None:
    """Read and check every file the settings name (the JWT public keys, the trusted
    documents), as ``create_app`` reads them. ``serve`` calls it once before anything
    else, so that a bad file stops start-up with one line (``SettingsError``) before
    data is loaded or the banner printed."""
    Authenticator.from_settings(settings)
    TrustedDocuments.from_settings(settings)


def create_app(settings: Settings | None = None, store: JobStore | None = None, *, clock: Clock = utc_now) -> Starlette:
    """The app. With ``store`` given (tests), it is used as is and not closed."""
    settings = settings or Settings()
    # Each compiler limit is the setting of the same name.
    limits = Limits(**{f.name: getattr(settings, f.name) for f in dataclasses.fields(Limits)})
    authenticator = Authenticator.from_settings(settings)
    trusted = TrustedDocuments.from_settings(settings)
    app_metrics = Metrics(operations=trusted.operation_names)
    schema = build_schema(settings)
    graphql = GraphQLEndpoint(
        schema,
        settings=settings,
        authenticator=authenticator,
        persisted=PersistedQueries(
            trusted,
            trusted_only=settings.trusted_documents_only,
            cache_bytes=settings.persisted_query_cache_bytes,
        ),
        metrics=app_metrics,
        page=GraphiQLPage(examples(trusted, shipped_examples())) if settings.graphiql else None,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[AppState]:
        owned = store is None
        raw: JobStore = open_store(settings) if store is None else store
        instrumented = InstrumentedStore(raw, app_metrics)
        service = JobService(
            instrumented,
            limits=limits,
            clock=clock,
            auth_required=authenticator.enabled,
            strict_fields=settings.strict_request_fields,
        )
        if authenticator.enabled:
            log.info(authenticator.describe())
        else:
            log.warning(
                "AUTHENTICATION IS OFF: no JWT key is configured, every caller may read any domain it names. "
                "Set JOB_GATEWAY_JWT_PUBLIC_KEYS or JOB_GATEWAY_JWT_SECRET before exposing this gateway."
            )
        heap = HeapRelease()

        def counted(active: int) -> None:
            app_metrics.subscriptions.set(active)
            heap(active)  # a burst of subscribers gone: their memory back to the system

        hub = ChangeHub(
            service,
            ChangeSource(raw, poll_seconds=settings.change_poll_ms / 1000),
            live_interval=settings.live_list_ms / 1000,
            queue_size=settings.subscription_queue,
            on_delivered=app_metrics.events.inc,
            on_count=counted,
            on_batch=app_metrics.batches.inc,
        )
        simulation = None
        if settings.simulate and isinstance(raw, MemoryJobStore):
            simulation = asyncio.create_task(Simulator(raw).run(), name="simulate")
        try:
            yield {
                "settings": settings,
                "store": instrumented,
                "service": service,
                "authenticator": authenticator,
                "metrics": app_metrics,
                "hub": hub,
            }
        finally:
            if simulation is not None:
                simulation.cancel()
            await hub.stop()
            heap.close()
            if owned:
                await raw.close()

    websocket = WebSocketSubscriptions(schema, settings=settings, authenticator=authenticator)
    routes: list[Route | WebSocketRoute] = [
        Route("/graphql", graphql),
        WebSocketRoute(
            "/graphql",
            LiveConnections(
                websocket,
                max_connections=settings.max_subscription_connections,
                idle_seconds=settings.subscription_idle_seconds,
            ),
        ),
        Route("/graphql/stream", SSESubscriptions(schema, settings=settings, authenticator=authenticator)),
        *rest.routes,
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
    route_paths = frozenset(r.path for r in routes)
    app = Starlette(
        routes=[*routes, Mount(ASSETS_PATH, assets_app())],
        middleware=[
            request_id_middleware(),
            Middleware(AccessLogMiddleware, routes=route_paths),
            Middleware(MetricsMiddleware, metrics=app_metrics, routes=route_paths),
            Middleware(DatabaseBudgetMiddleware),
            *(
                [
                    Middleware(
                        CORSMiddleware,
                        allow_origins=settings.cors_origin_list,
                        allow_methods=["GET", "POST"],
                        allow_headers=settings.cors_header_list,
                        expose_headers=[REQUEST_ID_HEADER],
                    )
                ]
                if settings.cors_origin_list
                else []
            ),
        ],
        exception_handlers={GatewayError: _gateway_error, HTTPException: _http_error, Exception: _unexpected},
        lifespan=lifespan,
    )
    return app
