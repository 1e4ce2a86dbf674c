"""``/graphql``: GraphQL over HTTP (the GraphQL-over-HTTP specification), GET, HEAD and
POST, with batching, persisted documents and GraphiQL.

Every answer of this endpoint is a GraphQL response in the negotiated media type:
transport problems (wrong method, media type, body, batch size, authentication)
included, in the one error shape of ``gateway.http.responses``.

A POST body is a JSON object (one operation) or an array of them (a batch, as
Apollo's ``BatchHttpLink`` sends: at most ``max_batch_operations``), answered by an
array in the same order. The operations of a batch share one context (one caller, one
DataLoader per request, so collectors are loaded in one batch for all of them) and are
each parsed, validated, limited and executed as if sent alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from gateway.auth import FAILED, Authenticator
from gateway.errors import (
    GatewayError,
    InternalError,
    InvalidGraphQLDocument,
    InvalidRequestBody,
    LimitExceeded,
    MethodNotAllowed,
    NotAcceptable,
    Unauthenticated,
    UnsupportedMediaType,
)
from gateway.graphql.context import GraphQLContext
from gateway.graphql.errors import request_error
from gateway.graphql.subscriptions import SUBSCRIPTION_TRANSPORTS
from gateway.http.body import EMPTY, read_json
from gateway.http.documents import PersistedQueries
from gateway.http.introspection import introspection_only
from gateway.http.media import EVENT_STREAM, GRAPHQL_RESPONSE_JSON, HTML, JSON, negotiate
from gateway.http.params import GraphQLParams, params_from_json, params_from_query_string
from gateway.http.responses import GraphQLResponse, error_body, is_request_error, result_body, result_status
from gateway.metrics import BATCH_OPERATION, Metrics
from gateway.middleware import GRAPHQL_OPERATION, request_state
from gateway.settings import Settings

log = logging.getLogger("gateway.http")

ALLOW = "GET, HEAD, POST, OPTIONS"
_RESPONSE_TYPES = (GRAPHQL_RESPONSE_JSON, JSON)
_STREAMING = (*_RESPONSE_TYPES, EVENT_STREAM)
_READ_ONLY = frozenset({OperationType.QUERY})
_ANY = frozenset({OperationType.QUERY, OperationType.MUTATION})


class Page(Protocol):
    """The page a browser gets on ``GET /graphql`` (GraphiQL)."""

    def response(self, request: Request) -> Response:
        """The HTML page for ``request`` (a GET or HEAD of ``/graphql`` from a browser)."""
        ...


@dataclass
class _Outcome:
    """One operation's answer: its response map, and the status (and headers) it
    would have if it were the only one."""

    body: dict[str, Any]
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)


def _request_error(exc: GatewayError, media: str) -> _Outcome:
    """A request error (GraphQL over HTTP): 400 in application/graphql-response+json,
    200 in application/json."""
    return _Outcome(error_body(exc), 400 if media == GRAPHQL_RESPONSE_JSON else 200)


def _refusal(exc: GatewayError, headers: Mapping[str, str] | None = None) -> _Outcome:
    return _Outcome(error_body(exc), exc.http_status, {**exc.http_headers, **(headers or {})})


def _cache_headers(request: Request, response: Response) -> None:
    """What an HTTP cache may do with an answer of /graphql (RFC 9111): it varies with
    ``Accept`` (the media type) and ``Authorization`` (the caller's domain and
    projects), and an answer to a request that carries credentials is the caller's
    alone and is not stored (``private, no-store``), 401s included. Anonymous GETs
    (authentication off, or public introspection) keep no directive: a CDN in front
    decides, as for a persisted ``documentId`` GET."""
    response.headers.add_vary_header("Accept")
    response.headers.add_vary_header("Authorization")
    if "authorization" in request.headers or response.status_code == 401:
        response.headers["Cache-Control"] = "private, no-store"


class GraphQLEndpoint:
    """The ASGI app of ``/graphql`` (mount it for every method: it answers 405 itself)."""

    def __init__(
        self,
        schema: strawberry.Schema,
        *,
        settings: Settings,
        authenticator: Authenticator,
        persisted: PersistedQueries,
        metrics: Metrics,
        page: Page | None = None,
        stream: ASGIApp | None = None,
    ) -> None:
        self.schema = schema
        self.settings = settings
        self.authenticator = authenticator
        self.persisted = persisted
        self.metrics = metrics
        self.page = page
        # Subscriptions over HTTP (GraphQL over SSE) are another transport's: a request
        # that prefers text/event-stream is handed to it whole.
        self.stream = stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        accept = request.headers.get("accept")
        if self.stream is not None and negotiate(accept, _STREAMING, default=JSON) == EVENT_STREAM:
            await self.stream(scope, receive, send)
            return
        media = negotiate(accept, _RESPONSE_TYPES, default=JSON)
        try:
            response = await self._respond(request, media)
        except GatewayError as exc:
            response = self._answer(_refusal(exc), media or JSON)
        except Exception as exc:
            log.error("unexpected error", exc_info=exc)
            response = self._answer(_refusal(InternalError()), media or JSON)
        _cache_headers(request, response)
        if request.method == "HEAD":
            response = Response(status_code=response.status_code, headers=dict(response.headers))
        await response(scope, receive, send)

    async def _respond(self, request: Request, media: str | None) -> Response:
        method = request.method
        if method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": ALLOW})
        if method not in ("GET", "HEAD", "POST"):
            return self._answer(
                _refusal(MethodNotAllowed(f"{method} is not allowed on /graphql."), {"Allow": ALLOW}), media or JSON
            )
        if method in ("GET", "HEAD") and self.page is not None and self._wants_page(request):
            return self.page.response(request)
        if media is None:
            raise NotAcceptable(
                f"/graphql answers in {GRAPHQL_RESPONSE_JSON} or {JSON}; the Accept header names neither."
            )
        try:
            principal, anonymous = self.authenticator.authenticate(request.headers.get("authorization")), False
        except Unauthenticated:
            if not self.settings.public_introspection:
                raise
            principal, anonymous = None, True
        batch, operations = await self._operations(request)
        documents = [self._document(params) for params in operations]
        if anonymous and not all(
            isinstance(d, str) and introspection_only(d, p.operation_name, max_tokens=self.settings.max_tokens)
            for d, p in zip(documents, operations, strict=True)
        ):
            raise Unauthenticated(FAILED)
        context = GraphQLContext(service=request.state.service, principal=principal, request=request)
        allowed = _READ_ONLY if method in ("GET", "HEAD") else _ANY
        outcomes = await asyncio.gather(
            *(self._execute(p, d, context, allowed, media) for p, d in zip(operations, documents, strict=True))
        )
        if batch:
            request_state(request.scope)[GRAPHQL_OPERATION] = BATCH_OPERATION
            for outcome in outcomes:
                self._count_errors(outcome.body)
            return GraphQLResponse([o.body for o in outcomes], media_type=media)
        return self._answer(outcomes[0], media)

    def _wants_page(self, request: Request) -> bool:
        if any(name in request.query_params for name in ("query", "documentId", "extensions")):
            return False
        return negotiate(request.headers.get("accept"), (*_RESPONSE_TYPES, HTML), default=JSON) == HTML

    async def _operations(self, request: Request) -> tuple[bool, list[GraphQLParams]]:
        """(whether it is a batch, the parameters of each operation)."""
        settings = self.settings
        if request.method != "POST":
            return False, [params_from_query_string(request.query_params, max_depth=settings.max_json_depth)]
        content_type = request.headers.get("content-type", "")
        kind, *parameters = (part.strip().lower() for part in content_type.split(";"))
        charset = next((p.partition("=")[2].strip('" ') for p in parameters if p.startswith("charset=")), "utf-8")
        if kind != JSON or charset not in ("utf-8", "utf8"):
            raise UnsupportedMediaType(
                f"/graphql reads POST bodies in {JSON} (UTF-8), got {content_type or 'no Content-Type'}."
            )
        body = await read_json(request, max_bytes=settings.max_body_bytes, max_depth=settings.max_json_depth)
        if body is EMPTY:
            raise InvalidRequestBody("the request body is empty: send a JSON object with a query.")
        if not isinstance(body, list):
            return False, [params_from_json(body)]
        if not body:
            raise InvalidRequestBody("a batch must hold at least one operation.")
        if len(body) > settings.max_batch_operations:
            raise LimitExceeded(
                f"a batch of {len(body)} operations is over the limit max_batch_operations "
                f"({settings.max_batch_operations})."
            )
        return True, [params_from_json(item, f"operation {i} of the batch ") for i, item in enumerate(body)]

    def _document(self, params: GraphQLParams) -> str | GatewayError:
        try:
            return self.persisted.document(params)
        except GatewayError as exc:
            return exc

    async def _execute(
        self,
        params: GraphQLParams,
        document: str | GatewayError,
        context: GraphQLContext,
        allowed: frozenset[OperationType],
        media: str,
    ) -> _Outcome:
        if isinstance(document, GatewayError):
            return _refusal(document)
        try:
            result = await self.schema.execute(
                document,
                variable_values=params.variables,
                context_value=context,
                operation_name=params.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=params.extensions,
            )
        except InvalidOperationTypeError as exc:
            if exc.operation_type is OperationType.SUBSCRIPTION:
                # No method runs a subscription here: a request error naming the
                # transports that do (as graphql-http's reference server answers).
                return _request_error(InvalidGraphQLDocument(SUBSCRIPTION_TRANSPORTS), media)
            # GraphQL over HTTP: a mutation sent with GET is 405, and names POST.
            return _refusal(MethodNotAllowed(exc.as_http_error_reason(context.request.method)), {"Allow": "POST"})
        except CannotGetOperationTypeError as exc:
            return _request_error(request_error(exc), media)
        if not is_request_error(result):
            self.persisted.remember(params)
        return _Outcome(result_body(result), result_status(result, media))

    def _count_errors(self, body: Mapping[str, Any]) -> None:
        for error in body.get("errors", ()):
            extensions = error.get("extensions") or {}
            self.metrics.error(extensions.get("reason") or extensions.get("code") or "UNKNOWN")

    def _answer(self, outcome: _Outcome, media: str) -> Response:
        self._count_errors(outcome.body)
        return GraphQLResponse(outcome.body, media_type=media, status_code=outcome.status, headers=outcome.headers)
