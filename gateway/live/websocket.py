"""GraphQL over WebSocket on ``/graphql``: the ``graphql-transport-ws`` protocol, served by
Strawberry (its ASGI view, WebSocket only: HTTP stays ``gateway.http``'s).

The token travels in ``connection_init``'s payload (``{"Authorization": "Bearer ..."}``,
or ``{"token": "..."}``); a missing or invalid one closes the connection (4403). Bounds:
subscriptions per connection (Strawberry answers an error beyond), connections per
process (``LiveConnections`` closes the extra ones before accepting, 1013), keep-alive
pings, and an idle time-out that closes a connection which has had no subscription for
``idle_seconds`` (4408).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import timedelta
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from gateway.auth import Authenticator
from gateway.errors import Unauthenticated
from gateway.graphql.context import GraphQLContext
from gateway.settings import Settings


def bearer(params: object) -> str | None:
    """The ``Authorization`` value a ``connection_init`` payload carries."""
    if not isinstance(params, dict):
        return None
    header = params.get("Authorization", params.get("authorization"))
    if isinstance(header, str):
        return header
    token = params.get("token")
    return f"Bearer {token}" if isinstance(token, str) else None


class WebSocketSubscriptions(GraphQL[GraphQLContext, None]):
    """Strawberry's view, for ``graphql-transport-ws`` only, with the gateway's context
    and authentication."""

    def __init__(self, schema: Any, *, settings: Settings, authenticator: Authenticator) -> None:
        super().__init__(
            schema,
            graphql_ide=None,
            keep_alive=True,
            keep_alive_interval=settings.subscription_keep_alive_seconds,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=10),
        )
        self.max_subscriptions_per_connection = settings.max_subscriptions_per_connection
        self.authenticator = authenticator

    async def get_context(self, request: Any, response: Any) -> GraphQLContext:
        """Strawberry's hook: a context per connection, over the app's service and hub
        (the principal is set by ``on_ws_connect``)."""
        state = request.state
        return GraphQLContext(service=state.service, request=request, hub=state.hub)

    async def on_ws_connect(self, context: GraphQLContext) -> UnsetType | dict[str, object] | None:
        """Strawberry's hook on ``connection_init`` (graphql-transport-ws): the caller
        authenticated from the payload's ``Authorization`` (or ``token``). A refused
        token closes the connection (4403) with the ``UNAUTHENTICATED`` payload of
        ``Unauthenticated``; otherwise an empty ``connection_ack``."""
        try:
            context.principal = self.authenticator.authenticate(bearer(context.connection_params))
        except Unauthenticated as exc:
            raise ConnectionRejectionError(
                {"message": exc.message, "code": exc.graphql_code, "reason": exc.code}
            ) from None
        return UNSET


class LiveConnections:
    """ASGI middleware over the WebSocket app: at most ``max_connections`` at once, and
    each closed after ``idle_seconds`` without a subscription (it tracks the protocol's
    ``subscribe`` and ``complete``/``error`` messages by id)."""

    def __init__(self, app: ASGIApp, *, max_connections: int, idle_seconds: float) -> None:
        self.app = app
        self.max_connections = max_connections
        self.idle_seconds = idle_seconds
        self.open = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        if self.open >= self.max_connections:
            await receive()  # websocket.connect
            # Accepted, then closed with 1013 ("try again later"), which clients report.
            requested = scope.get("subprotocols") or []
            await send({"type": "websocket.accept", "subprotocol": requested[0] if requested else None})
            await send({"type": "websocket.close", "code": 1013, "reason": "too many connections"})
            return
        self.open += 1
        try:
            await _Connection(self.idle_seconds).serve(self.app, scope, receive, send)
        finally:
            self.open -= 1


class _Connection:
    def __init__(self, idle_seconds: float) -> None:
        self.idle_seconds = idle_seconds
        self.active: set[str] = set()
        self.idle = asyncio.Event()
        self.idle.set()
        self.closed = asyncio.Event()

    def _seen(self, text: str | None, *, from_client: bool) -> None:
        if not text or (not from_client and '"complete"' not in text and '"error"' not in text):
            return
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            message = json.loads(text)
            kind, operation = message.get("type"), message.get("id")
            if kind == "subscribe" and from_client:
                self.active.add(operation)
            elif kind in ("complete", "error"):
                self.active.discard(operation)
        if self.active:
            self.idle.clear()
        else:
            self.idle.set()

    async def serve(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        async def receiving() -> Message:
            pending = asyncio.ensure_future(receive())
            closing = asyncio.ensure_future(self.closed.wait())
            done, _ = await asyncio.wait({pending, closing}, return_when=asyncio.FIRST_COMPLETED)
            if pending in done:
                closing.cancel()
                message = pending.result()
                if message["type"] == "websocket.receive":
                    self._seen(message.get("text"), from_client=True)
                return message
            pending.cancel()
            return {"type": "websocket.disconnect", "code": 4408}

        async def sending(message: Message) -> None:
            if message["type"] == "websocket.send":
                self._seen(message.get("text"), from_client=False)
            if not self.closed.is_set() or message["type"] == "websocket.close":
                await send(message)

        async def watchdog() -> None:
            while True:
                await self.idle.wait()
                try:
                    async with asyncio.timeout(self.idle_seconds):
                        while self.idle.is_set():
                            await asyncio.sleep(min(self.idle_seconds, 1.0))
                except TimeoutError:
                    await send({"type": "websocket.close", "code": 4408, "reason": "idle: no subscription"})
                    self.closed.set()
                    return

        guard = asyncio.create_task(watchdog())
        try:
            await app(scope, receiving, sending)
        finally:
            guard.cancel()
