"""Errors at the GraphQL edge, mapped by a schema extension (as Strawberry's own
``MaskErrors`` does) so that every entry point - HTTP, WebSocket, direct
``schema.execute`` - answers the same shape.

A ``GatewayError`` becomes ``extensions.code`` (its ``graphql_code``) and
``extensions.reason`` (its stable ``ERROR_...`` code): the shape the HTTP transport
gives its own errors too. A document that does not
parse or validate is ``BAD_USER_INPUT`` / ``ERROR_INVALID_GRAPHQL_DOCUMENT``; variables
that do not fit their types ``ERROR_INVALID_PARAMETER_TYPE``, described with the
values as sent (``gateway.graphql.variable_errors``); a validation limit
``ERROR_LIMIT_EXCEEDED``. Anything else is logged with its cause and masked as
``INTERNAL_SERVER_ERROR``.

graphql-core prints a document's literals in GraphQL syntax (``{ a: null }``), but
says "not to be None" of a null one: that is said "not to be null" here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError, GraphQLSchema
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from gateway.errors import (
    NO_QUERY,
    GatewayError,
    InternalError,
    InvalidGraphQLDocument,
    InvalidParameterType,
    InvalidQuery,
    InvalidRequestBody,
    LimitExceeded,
)
from gateway.graphql.variable_errors import rephrase

log = logging.getLogger("gateway.graphql")

# Raised by Strawberry for its transports to answer (no query, an operation name the
# document lacks, a mutation over GET): not errors of the operation, left as they are.
_TRANSPORT_ERRORS = (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError)


def request_error(exc: MissingQueryError | CannotGetOperationTypeError) -> InvalidQuery:
    """The request error a transport answers for Strawberry's ``exc``: no query, or an
    operationName the document does not define (or none where it defines several).
    The one translation: the HTTP endpoint (which gets it raised) and ``map_error``
    (WebSocket and SSE, which get it inside a result) both use it."""
    if isinstance(exc, MissingQueryError):
        return InvalidRequestBody(NO_QUERY)
    return InvalidGraphQLDocument(exc.as_http_error_reason())


# Strawberry's limiters answer with validation errors; these are the client's limits.
_LIMITS = (
    (re.compile(r"exceeds maximum operation depth"), "max_query_depth"),
    (re.compile(r"aliases found\. Allowed"), "max_aliases"),
    (re.compile(r"Document contains more than \d+ tokens"), "max_tokens"),
)


# graphql-core's one Python word in the messages of document validation.
_PYTHON_NULL = re.compile(r"(not to be )None(?=\.$)")


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


def _bad_input(error_class: type[InvalidQuery]) -> dict[str, str]:
    return {"code": error_class.graphql_code, "reason": error_class.code}


def _shape_request_error(error: GraphQLError, executed: bool) -> tuple[str, dict[str, str]]:
    """An error of the request itself (no Python exception behind it)."""
    message = _PYTHON_NULL.sub(r"\1null", error.message)
    if executed and error.path is None:
        # Raised before any field ran: the variables did not coerce (Strawberry's
        # @oneOf check raises its error bare, without graphql-core's wrapping).
        return message, _bad_input(InvalidParameterType)
    for pattern, limit in _LIMITS:
        if pattern.search(message):
            return f"{message} (limit {limit})", _bad_input(LimitExceeded)
    return message, _bad_input(InvalidGraphQLDocument)


def _shape(error: GraphQLError, executed: bool) -> tuple[str, dict[str, str]]:
    """The message and extensions an unmapped error gets (``executed``: it comes from
    the execution phase, not from parsing or validation)."""
    original = error.original_error
    if original is None:
        return _shape_request_error(error, executed)
    if isinstance(original, GraphQLError):
        # Variables that do not fit their declared types.
        return error.message, _bad_input(InvalidParameterType)
    if isinstance(original, MissingQueryError | CannotGetOperationTypeError):
        original = request_error(original)
    if isinstance(original, InvalidQuery):
        return original.message, _bad_input(type(original))
    if isinstance(original, GatewayError) and not isinstance(original, InternalError):
        return original.message, {"code": original.graphql_code, "reason": original.code}
    cause = original.__cause__ or original if isinstance(original, InternalError) else original
    log.error("internal error in GraphQL operation", exc_info=cause)
    return InternalError().message, {"code": InternalError.graphql_code, "reason": InternalError.code}


def map_error(error: GraphQLError, *, executed: bool = False) -> GraphQLError:
    """One error in the gateway's shape (see the module docstring); an error already
    in that shape is returned as it is. ``executed``: the error comes from execution
    (variable coercion included), not from parsing or validation."""
    if error.original_error is None and "code" in (error.extensions or {}):
        return error
    return _rebuilt(error, *_shape(error, executed))


def map_errors(errors: list[GraphQLError], *, executed: bool = False) -> list[GraphQLError]:
    """``map_error`` of each."""
    return [map_error(e, executed=executed) for e in errors]


class GatewayErrors(SchemaExtension):
    """Maps the errors of every operation's result (parse, validation and execution
    errors alike) with ``map_error``.

    An exception raised out of another extension's hook (Strawberry's ``ParserCache``
    parses inside ``on_parse``, so a syntax error leaves that way) is answered by
    Strawberry after this hook has run; it is replaced on its way out by its mapped form,
    which Strawberry then answers as it is."""

    executed = False

    def on_execute(self) -> Iterator[None]:
        """Strawberry's execution hook: marks the operation as executed (reached only
        once the document parsed and validated, so any later error comes from the
        variables or the fields)."""
        self.executed = True
        yield

    def on_operation(self) -> Iterator[None]:
        """Strawberry's operation hook: the result's errors mapped (``map_error``;
        after execution, variable errors rephrased with the values as sent, JSON), and
        an exception raised by another extension replaced by its mapped form; the
        transport's own errors pass unchanged."""
        try:
            yield
        except _TRANSPORT_ERRORS:
            raise
        except GraphQLError as exc:
            raise map_error(exc) from exc
        except Exception as exc:
            raise map_error(GraphQLError(str(exc), original_error=exc)) from exc
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if errors:
            if self.executed:
                ctx = self.execution_context
                errors = rephrase(errors, _graphql_schema(ctx), ctx.variables or {})
            result.errors = map_errors(errors, executed=self.executed)  # type: ignore[union-attr]

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Each result a subscription streams, mapped before it is sent."""
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = map_errors(errors, executed=self.executed)
        yield


def _graphql_schema(context: Any) -> GraphQLSchema:
    """The graphql-core schema Strawberry built. Strawberry has no public accessor for
    it; its own extensions (``ValidationCache``, directives) read it as here."""
    return context.schema._schema
