"""Errors at the GraphQL edge: a `GatewayError` becomes `extensions.code` (and
`extensions.reason` for client errors); anything else is masked and logged."""

from __future__ import annotations

import logging
import re

from graphql import GraphQLError

from gateway.errors import GatewayError, InvalidParameterType, InvalidQuery, LimitExceeded

log = logging.getLogger("gateway.graphql")

MASKED_MESSAGE = "Internal server error."
# The reason of a document that does not parse or validate against the schema.
INVALID_DOCUMENT = "ERROR_INVALID_GRAPHQL_DOCUMENT"


# Strawberry's limiters answer with validation errors; these are the client's limits.
_LIMITS = (
    (re.compile(r"exceeds maximum operation depth"), "max_query_depth"),
    (re.compile(r"aliases found\. Allowed"), "max_aliases"),
    (re.compile(r"Document contains more than \d+ tokens"), "max_tokens"),
)


def _rebuilt(error: GraphQLError, message: str, extensions: dict[str, str]) -> GraphQLError:
    """The same error (locations, path) with our message and extensions."""
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
    )


def _mapped(error: GraphQLError, request_id: str) -> GraphQLError:
    original = error.original_error
    if original is None:
        for pattern, limit in _LIMITS:
            if pattern.search(error.message):
                return _rebuilt(error, f"{error.message} (limit {limit})", _bad_input(LimitExceeded.code))
        # Parse and validation errors: the document itself is wrong.
        return _rebuilt(error, error.message, _bad_input(INVALID_DOCUMENT))
    if isinstance(original, GraphQLError):
        # Variables that do not fit their declared types.
        return _rebuilt(error, error.message, _bad_input(InvalidParameterType.code))
    if isinstance(original, GatewayError):
        if isinstance(original, InvalidQuery):
            return _rebuilt(error, original.message, _bad_input(original.code))
        if original.graphql_code != "INTERNAL_SERVER_ERROR":
            return _rebuilt(error, original.message, {"code": original.graphql_code})
        log.error(
            "internal error in GraphQL operation",
            exc_info=original.__cause__ or original,
            extra={"request_id": request_id},
        )
    else:
        log.error("unexpected error in GraphQL operation", exc_info=original, extra={"request_id": request_id})
    return _rebuilt(error, MASKED_MESSAGE, {"code": "INTERNAL_SERVER_ERROR"})


def _bad_input(reason: str) -> dict[str, str]:
    return {"code": "BAD_USER_INPUT", "reason": reason}


def map_errors(errors: list[GraphQLError], *, request_id: str = "") -> list[GraphQLError]:
    """Called on every result the HTTP view returns, pre-execution errors included;
    internal errors are logged with the request id, then masked."""
    return [_mapped(e, request_id) for e in errors]
