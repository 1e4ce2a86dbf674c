"""The one error hierarchy of job-gateway.

Every expected failure is a ``GatewayError``; the adapters map it at the edge, REST to
an HTTP status and ``{"error": {"code", "message"}}``, GraphQL to ``extensions.code``
(and ``extensions.reason`` for client errors). Anything else is a bug: it is logged and
answered as a masked internal error.

    GatewayError
    ├── InvalidQuery             400  BAD_USER_INPUT        (client sent something wrong)
    │   ├── RequiredParameter        ERROR_REQUIRED_PARAMETER
    │   ├── InvalidParameterType     ERROR_INVALID_PARAMETER_TYPE
    │   ├── UnsupportedOperator      ERROR_UNSUPPORTED_OPERATOR
    │   ├── LimitExceeded            ERROR_LIMIT_EXCEEDED
    │   │   └── PayloadTooLarge      413 (request body over max_body_bytes)
    │   └── InvalidRequestBody       ERROR_INVALID_REQUEST_BODY
    ├── Unauthenticated          401  UNAUTHENTICATED
    ├── Forbidden                403  FORBIDDEN
    ├── NotFound                 404  NOT_FOUND
    ├── StoreUnavailable         503  UNAVAILABLE
    └── InternalError            500  INTERNAL_SERVER_ERROR (message masked)
"""

from __future__ import annotations


class GatewayError(Exception):
    """Base of every expected error; ``code`` is stable and part of the API."""

    code = "ERROR_UNKNOWN"
    http_status = 500
    graphql_code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidQuery(GatewayError):
    """The request is malformed; the message names the offending part."""

    code = "ERROR_INVALID_PARAMETER"
    http_status = 400
    graphql_code = "BAD_USER_INPUT"


class RequiredParameter(InvalidQuery):
    code = "ERROR_REQUIRED_PARAMETER"


class InvalidParameterType(InvalidQuery):
    code = "ERROR_INVALID_PARAMETER_TYPE"


class UnsupportedOperator(InvalidQuery):
    code = "ERROR_UNSUPPORTED_OPERATOR"


class LimitExceeded(InvalidQuery):
    code = "ERROR_LIMIT_EXCEEDED"


class InvalidRequestBody(InvalidQuery):
    code = "ERROR_INVALID_REQUEST_BODY"


class PayloadTooLarge(LimitExceeded):
    http_status = 413


class Unauthenticated(GatewayError):
    code = "ERROR_AUTHENTICATE_FAILURE"
    http_status = 401
    graphql_code = "UNAUTHENTICATED"


class Forbidden(GatewayError):
    code = "ERROR_PERMISSION_DENIED"
    http_status = 403
    graphql_code = "FORBIDDEN"


class NotFound(GatewayError):
    code = "ERROR_NOT_FOUND"
    http_status = 404
    graphql_code = "NOT_FOUND"


class StoreUnavailable(GatewayError):
    code = "ERROR_DB_UNAVAILABLE"
    http_status = 503
    graphql_code = "UNAVAILABLE"


class InternalError(GatewayError):
    code = "ERROR_INTERNAL"
    http_status = 500
    graphql_code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str = "Internal server error.") -> None:
        super().__init__(message)
