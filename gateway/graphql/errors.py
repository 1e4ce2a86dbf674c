"""Errors at the GraphQL edge: a `GatewayError` becomes `extensions.code` (and
`extensions.reason` for client errors); anything else is masked and logged."""

from __future__ import annotations

import logging
import re

from graphql import GraphQLError

from gateway.errors import GatewayError, InvalidQuery, LimitExceeded

log = logging.getLogger("gateway.graphql")

MASKED_MESSAGE = "Internal server error."


# Strawberry's limiters answer with validation errors; these are the client's limits.
_LIMITS = (
    (re.compile(r"exceeds maximum operation depth"), "max_query_depth"),
    (re.compile(r"aliases found\. Allowed"), "max_aliases"),
    (re.compile(r"Document contains more than \d+ tokens"), "max_tokens"),
)


def _mapped(error: GraphQLError, request_id: str) -> GraphQLError:
    original = error.original_error
    for pattern, limit in _LIMITS:
        if original is None and pattern.search(error.message):
            return GraphQLError(
                f"{error.message} (limit {limit})",
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                extensions={"code": "BAD_USER_INPUT", "reason": LimitExceeded.code},
            )
    if isinstance(original, GatewayError):
        extensions = {"code": original.graphql_code}
        if isinstance(original, InvalidQuery):
            extensions["reason"] = original.code
        if original.graphql_code == "INTERNAL_SERVER_ERROR":
            log.error(
                "internal error in GraphQL operation",
                exc_info=original.__cause__ or original,
                extra={"request_id": request_id},
            )
            message = MASKED_MESSAGE
        else:
            message = original.message
        return GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=extensions,
        )
    if original is None:
        # Parse and validation errors: the document itself is wrong.
        return GraphQLError(
            error.message,
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "GRAPHQL_VALIDATION_FAILED", **(error.extensions or {})},
        )
    log.error("unexpected error in GraphQL operation", exc_info=original, extra={"request_id": request_id})
    return GraphQLError(
        MASKED_MESSAGE, nodes=error.nodes, path=error.path, extensions={"code": "INTERNAL_SERVER_ERROR"}
    )


def map_errors(errors: list[GraphQLError], *, request_id: str = "") -> list[GraphQLError]:
    """Called on every result the HTTP view returns, pre-execution errors included;
    internal errors are logged with the request id, then masked."""
    return [_mapped(e, request_id) for e in errors]
