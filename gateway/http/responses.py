"""GraphQL responses over HTTP: bodies and status codes as the GraphQL-over-HTTP
specification gives them for each media type, and the one error body of ``/graphql``.

A *request error* (the document does not parse or validate, variables do not coerce,
the operation cannot be chosen) happens before execution: the body has no ``data``
entry (GraphQL specification, "Response Format"), and with
``application/graphql-response+json`` the status is 400. Field errors happen during
execution and answer 200 with ``data``. Transport problems answer the same error body
as GraphQL errors do: ``{"errors": [{"message", "extensions": {"code", "reason"}}]}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import GraphQLError
from starlette.responses import Response
from strawberry.types import ExecutionResult

from gateway.encoding import encode_json
from gateway.errors import GatewayError
from gateway.http.media import GRAPHQL_RESPONSE_JSON


def is_request_error(result: ExecutionResult) -> bool:
    """Whether execution never began: no data, and no error located at a field."""
    errors = result.errors or []
    return result.data is None and bool(errors) and all(e.path is None for e in errors)


def result_body(result: ExecutionResult) -> dict[str, Any]:
    """The response map of a result: ``data`` unless execution never began, then
    ``errors`` and ``extensions`` when there are any."""
    body: dict[str, Any] = {}
    if not is_request_error(result):
        body["data"] = result.data
    if result.errors:
        body["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        body["extensions"] = result.extensions
    return body


def result_status(result: ExecutionResult, media_type: str) -> int:
    """200, but 400 for a request error answered as ``application/graphql-response+json``
    (``application/json`` answers 200 to every well-formed request)."""
    return 400 if media_type == GRAPHQL_RESPONSE_JSON and is_request_error(result) else 200


def error_entry(exc: GatewayError) -> dict[str, Any]:
    """One GraphQL error for a gateway error raised outside execution."""
    return GraphQLError(exc.message, extensions={"code": exc.graphql_code, "reason": exc.code}).formatted  # type: ignore[return-value]


def error_body(exc: GatewayError) -> dict[str, Any]:
    """A GraphQL response map holding only ``exc``: ``{"errors": [{"message",
    "extensions": {"code", "reason"}}]}`` (GraphQL over HTTP: a request error, no
    ``data``)."""
    return {"errors": [error_entry(exc)]}


class GraphQLResponse(Response):
    """A GraphQL response map (or a batch of them) in ``media_type``, UTF-8."""

    def __init__(
        self,
        content: Mapping[str, Any] | list[Mapping[str, Any]],
        *,
        media_type: str,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(content, status_code=status_code, headers=headers, media_type=f"{media_type}; charset=utf-8")

    def render(self, content: Any) -> bytes:
        """Compact JSON bytes (``encoding.encode_json``)."""
        return encode_json(content)
