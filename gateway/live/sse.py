"""GraphQL over Server-Sent Events on ``/graphql/stream``: the "distinct connections mode"
of the ``graphql-sse`` protocol (https://github.com/enisdenjo/graphql-sse/blob/master/PROTOCOL.md),
which its client (``createClient({url, singleConnection: false})``) speaks.

``POST`` a GraphQL request (``{query, variables?, operationName?, extensions?}``) with
``Accept: text/event-stream`` and the token in ``Authorization``; the answer is a stream
of ``event: next`` messages (each an execution result) and a final ``event: complete``.
An operation that is not a subscription answers one ``next``. A request the transport
refuses (method, media type, body, token, too many streams) is a plain JSON error
response in the one GraphQL error shape. The stream sends a comment every
``keep_alive`` seconds, and ends when the client goes away or the subscription ends.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from gateway.auth import Authenticator
from gateway.encoding import encode_json
from gateway.errors import GatewayError, LimitExceeded, MethodNotAllowed, NotAcceptable, UnsupportedMediaType
from gateway.graphql.context import GraphQLContext
from gateway.http.body import expect_object, read_json
from gateway.http.params import params_from_json
from gateway.http.responses import error_body, result_body
from gateway.settings import Settings

EVENT_STREAM = "text/event-stream"


class SSESubscriptions:
    """The ASGI app of ``/graphql/stream``."""

    def __init__(self, schema: Any, *, settings: Settings, authenticator: Authenticator) -> None:
        self.schema = schema
        self.settings = settings
        self.authenticator = authenticator
        self.open = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            response = await self._respond(request)
        except GatewayError as exc:
            response = Response(
                encode_json(error_body(exc)),
                status_code=exc.http_status,
                media_type="application/json",
                headers=dict(exc.http_headers),
            )
        await response(scope, receive, send)

    async def _respond(self, request: Request) -> Response:
        if request.method != "POST":
            raise MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}; POST a GraphQL request.")
        if EVENT_STREAM not in request.headers.get("accept", ""):
            raise NotAcceptable(f"{request.url.path} answers in {EVENT_STREAM}; send Accept: {EVENT_STREAM}.")
        if not request.headers.get("content-type", "").startswith("application/json"):
            raise UnsupportedMediaType(f"{request.url.path} reads application/json request bodies.")
        principal = self.authenticator.authenticate(request.headers.get("authorization"))
        settings = self.settings
        body = await read_json(request, max_bytes=settings.max_body_bytes, max_depth=settings.max_json_depth)
        params = params_from_json(expect_object(body))
        if self.open >= settings.max_subscription_connections:
            raise LimitExceeded(
                f"{self.open} streams are open, the limit max_subscription_connections; try again later."
            )
        state = request.state
        context = GraphQLContext(service=state.service, principal=principal, request=request, hub=state.hub)
        return StreamingResponse(
            self._events(params, context),
            media_type=EVENT_STREAM,
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def _events(self, params: Any, context: GraphQLContext) -> AsyncIterator[bytes]:
        self.open += 1
        results = await self.schema.stream(
            params.query,
            variable_values=params.variables,
            context_value=context,
            operation_name=params.operation_name,
            operation_extensions=params.extensions,
        )
        pending: asyncio.Task[Any] | None = None
        try:
            iterator = aiter(results)
            while True:
                pending = pending or asyncio.ensure_future(anext(iterator))
                done, _ = await asyncio.wait({pending}, timeout=self.settings.subscription_keep_alive_seconds)
                if not done:
                    yield b":\n\n"  # keep-alive
                    continue
                try:
                    body = result_body(pending.result())
                except StopAsyncIteration:
                    break
                except GraphQLError as exc:
                    # An error raised out of an extension's hook once the stream has
                    # begun, in the gateway's shape (GatewayErrors): its one event. (A
                    # request error, before the first result, comes as that result:
                    # GatewaySchema.stream.)
                    body = {"errors": [exc.formatted]}
                    yield b"event: next\ndata: " + encode_json(body) + b"\n\n"
                    break
                finally:
                    pending = None
                yield b"event: next\ndata: " + encode_json(body) + b"\n\n"
            yield b"event: complete\ndata: \n\n"
        finally:
            self.open -= 1
            if pending is not None:
                pending.cancel()
            with contextlib.suppress(Exception):
                await results.aclose()
