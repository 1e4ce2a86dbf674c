"""The one error hierarchy of job-gateway.

Every expected failure is a ``GatewayError``; the adapters map it at the edge, REST to
an HTTP status and ``{"error": {"code", "message"}}``, GraphQL to ``extensions.code``
(and ``extensions.reason`` for client errors). Anything else is a bug: it is logged and
answered as a masked internal error. Every code below belongs to exactly one class;
no code is made up where an error is raised.

    GatewayError
    ├── InvalidQuery             400  BAD_USER_INPUT  ERROR_INVALID_PARAMETER
    │   ├── RequiredParameter         ERROR_REQUIRED_PARAMETER
    │   ├── InvalidParameterType      ERROR_INVALID_PARAMETER_TYPE
    │   ├── UnsupportedOperator       ERROR_UNSUPPORTED_OPERATOR
    │   ├── LimitExceeded             ERROR_LIMIT_EXCEEDED
    │   │   └── PayloadTooLarge  413
    │   ├── InvalidRequestBody        ERROR_INVALID_REQUEST_BODY
    │   │   ├── UnsupportedMediaType  415  BAD_REQUEST  ERROR_UNSUPPORTED_MEDIA_TYPE
    │   │   └── NotAcceptable    406  BAD_REQUEST  ERROR_NOT_ACCEPTABLE
    │   ├── PersistedQueryNotFound    PERSISTED_QUERY_NOT_FOUND  ERROR_PERSISTED_QUERY_NOT_FOUND
    │   ├── UntrustedDocument         ERROR_UNTRUSTED_DOCUMENT (trusted documents only)
    │   ├── InvalidGraphQLDocument    ERROR_INVALID_GRAPHQL_DOCUMENT (does not parse or validate)
    │   ├── QueryRejected             ERROR_DB_QUERY (the database refused the query as written)
    │   └── UnsupportedByEngine       ERROR_UNSUPPORTED_BY_ENGINE (MongoDB would answer; the embedded engine cannot)
    ├── Unauthenticated          401  UNAUTHENTICATED  ERROR_AUTHENTICATE_FAILURE
    ├── Forbidden                403  FORBIDDEN        ERROR_PERMISSION_DENIED
    ├── NotFound                 404  NOT_FOUND        ERROR_NOT_FOUND
    ├── MethodNotAllowed         405  BAD_REQUEST      ERROR_METHOD_NOT_ALLOWED
    ├── StoreUnavailable         503  UNAVAILABLE      ERROR_DB_UNAVAILABLE
    │   └── QueryTimedOut             (the request's database time budget ran out)
    ├── StoredDocumentInvalid    500  STORED_DOCUMENT_INVALID  ERROR_STORED_DOCUMENT (names the document)
    ├── SlowConsumer             429  SLOW_CONSUMER    ERROR_SLOW_CONSUMER (a subscriber that falls behind)
    └── InternalError            500  INTERNAL_SERVER_ERROR  ERROR_INTERNAL (message masked)
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar


class GatewayError(Exception):
    """Base of every expected error; ``code`` is stable and part of the API.

    ``http_status`` is the REST status, ``graphql_code`` the GraphQL
    ``extensions.code``; both come from the class, never from the raising site.
    """

    code = "ERROR_UNKNOWN"
    http_status = 500
    graphql_code = "INTERNAL_SERVER_ERROR"
    # Headers every HTTP answer of this error carries (both adapters).
    http_headers: ClassVar[Mapping[str, str]] = MappingProxyType({})

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidQuery(GatewayError):
    """The request is malformed; the message names the offending part."""

    code = "ERROR_INVALID_PARAMETER"
    http_status = 400
    graphql_code = "BAD_USER_INPUT"


class RequiredParameter(InvalidQuery):
    """A required field is missing."""

    code = "ERROR_REQUIRED_PARAMETER"


class InvalidParameterType(InvalidQuery):
    """A field has the wrong type or shape."""

    code = "ERROR_INVALID_PARAMETER_TYPE"


class UnsupportedOperator(InvalidQuery):
    """A condition or stage names an operator the language does not have."""

    code = "ERROR_UNSUPPORTED_OPERATOR"


class LimitExceeded(InvalidQuery):
    """A request over a configured limit; the message names the limit."""

    code = "ERROR_LIMIT_EXCEEDED"


class PayloadTooLarge(LimitExceeded):
    """A request body over ``max_body_bytes``."""

    http_status = 413


class InvalidRequestBody(InvalidQuery):
    """A body that is not the JSON object the route reads."""

    code = "ERROR_INVALID_REQUEST_BODY"


NO_QUERY = "a GraphQL request needs a query (or a documentId)."  # InvalidRequestBody's message for it


class UnsupportedMediaType(InvalidRequestBody):
    """A body in a media type the route does not read (``/graphql`` reads
    ``application/json``)."""

    code = "ERROR_UNSUPPORTED_MEDIA_TYPE"
    http_status = 415
    graphql_code = "BAD_REQUEST"


class NotAcceptable(InvalidRequestBody):
    """An ``Accept`` header naming no media type the route answers in."""

    code = "ERROR_NOT_ACCEPTABLE"
    http_status = 406
    graphql_code = "BAD_REQUEST"


class PersistedQueryNotFound(InvalidQuery):
    """A persisted document id (Apollo's ``extensions.persistedQuery.sha256Hash``) the
    gateway does not know; the client may send it again with its ``query``. The GraphQL
    code is the one Apollo's and urql's persisted-query links retry on."""

    code = "ERROR_PERSISTED_QUERY_NOT_FOUND"
    graphql_code = "PERSISTED_QUERY_NOT_FOUND"


class UntrustedDocument(InvalidQuery):
    """A document that is not in the trusted-documents manifest, sent to a gateway that
    runs trusted documents only (or an unknown ``documentId``)."""

    code = "ERROR_UNTRUSTED_DOCUMENT"


class InvalidGraphQLDocument(InvalidQuery):
    """A GraphQL document that does not parse or does not validate against the schema."""

    code = "ERROR_INVALID_GRAPHQL_DOCUMENT"


class QueryRejected(InvalidQuery):
    """The database refused the query as the client wrote it (a regular expression it
    cannot compile, an expression over values of the wrong type...)."""

    code = "ERROR_DB_QUERY"


class UnsupportedByEngine(InvalidQuery):
    """A query MongoDB would answer that the embedded engine cannot answer exactly as
    MongoDB does (a regular-expression construct it cannot emulate, ...): refused
    rather than answered differently. The message names the construct."""

    code = "ERROR_UNSUPPORTED_BY_ENGINE"


class Unauthenticated(GatewayError):
    """No valid bearer token."""

    code = "ERROR_AUTHENTICATE_FAILURE"
    http_status = 401
    graphql_code = "UNAUTHENTICATED"
    # RFC 6750 section 3: a 401 names the scheme the client should use.
    http_headers = MappingProxyType({"WWW-Authenticate": "Bearer"})


class Forbidden(GatewayError):
    """A valid caller asking for what it may not read."""

    code = "ERROR_PERMISSION_DENIED"
    http_status = 403
    graphql_code = "FORBIDDEN"


class NotFound(GatewayError):
    """No such route."""

    code = "ERROR_NOT_FOUND"
    http_status = 404
    graphql_code = "NOT_FOUND"


class MethodNotAllowed(GatewayError):
    """A route called with a method it does not serve (the answer carries ``Allow``)."""

    code = "ERROR_METHOD_NOT_ALLOWED"
    http_status = 405
    graphql_code = "BAD_REQUEST"


class StoreUnavailable(GatewayError):
    """The database cannot be reached, stopped answering, or did not answer within the
    request's time budget. The message names which, in the API's words (never a
    driver's): build it with ``unreachable``, ``connection_lost`` or ``QueryTimedOut``."""

    code = "ERROR_DB_UNAVAILABLE"
    http_status = 503
    graphql_code = "UNAVAILABLE"

    @classmethod
    def unreachable(cls, waited_ms: int) -> StoreUnavailable:
        """No database server could be found to answer, after waiting ``waited_ms``."""
        return cls(f"the database is unreachable: no server answered within {waited_ms} ms.")

    @classmethod
    def connection_lost(cls) -> StoreUnavailable:
        """The server stopped answering and the connection to it was dropped mid-query
        (the driver's health check found it down, or the network broke)."""
        return cls("the database stopped answering: the connection to it was lost before the query finished.")


class StoredDocumentInvalid(GatewayError):
    """A stored document breaks a promise of the schema (a non-null field missing, a
    status no enum knows). Reported as a field error naming the document, never masked:
    the data, not the request, needs fixing."""

    code = "ERROR_STORED_DOCUMENT"
    http_status = 500
    graphql_code = "STORED_DOCUMENT_INVALID"


class SlowConsumer(GatewayError):
    """A subscription whose client does not read its events as fast as they come: its
    bounded queue filled, so it is closed rather than buffered without end."""

    code = "ERROR_SLOW_CONSUMER"
    http_status = 429
    graphql_code = "SLOW_CONSUMER"


class QueryTimedOut(StoreUnavailable):
    """The request's database work did not finish within its time budget of
    ``budget_ms`` (``JOB_GATEWAY_MAX_TIME_MS``): the one time-out of both engines (on
    MongoDB, pymongo's ``timeoutMS`` and the server's ``maxTimeMS`` expire there)."""

    def __init__(self, budget_ms: int) -> None:
        super().__init__(f"the database did not answer within the request's time budget of {budget_ms} ms.")


class InternalError(GatewayError):
    """A bug or an unexpected database answer; the message is masked."""

    code = "ERROR_INTERNAL"
    http_status = 500
    graphql_code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str = "Internal server error.") -> None:
        super().__init__(message)


def _classes(base: type[GatewayError]) -> list[type[GatewayError]]:
    """``base`` and its subclasses, depth first in definition order."""
    return [base, *(c for sub in base.__subclasses__() for c in _classes(sub))]


def error_codes_markdown() -> str:
    """The README's table of error codes: one row per stable code (the REST ``code``,
    GraphQL ``extensions.reason``), with its GraphQL ``extensions.code``, its HTTP
    status and the first sentence of its class's docstring (a test keeps the two equal)."""
    lines = [
        "| `extensions.reason` / REST `code` | `extensions.code` | HTTP | when |",
        "|---|---|---|---|",
    ]
    seen: set[str] = set()
    for cls in _classes(GatewayError)[1:]:
        if cls.code in seen:
            continue
        seen.add(cls.code)
        doc = " ".join((cls.__doc__ or "").split())
        when = doc.split(". ")[0].rstrip(".").replace("``", "`").replace("|", "\\|")
        lines.append(f"| `{cls.code}` | `{cls.graphql_code}` | {cls.http_status} | {when} |")
    return "\n".join(lines) + "\n"
