"""Schema extensions of our own."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from contextvars import ContextVar
from typing import Any

from graphql import OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from gateway.errors import InvalidGraphQLDocument
from gateway.middleware import GRAPHQL_OPERATION, request_state

# The operationName the transport gave (None: none), set by ``GatewaySchema`` for each
# operation it runs. Strawberry's execution context answers the name of the document's
# first operation when none was given, so its extensions cannot tell the two apart.
REQUESTED_OPERATION: ContextVar[str | None] = ContextVar("requested_operation", default=None)


class OperationChoice(SchemaExtension):
    """Refuse a document of several operations sent without ``operationName``: the
    GraphQL specification's GetOperation ("Otherwise produce a query error requiring
    operationName"), which graphql-core applies but Strawberry does not (it runs the
    first operation). Checked once the document parses, before the operation's type is
    read, so every transport (POST, GET, batches, SSE, WebSocket) answers a request
    error (``InvalidGraphQLDocument``)."""

    def on_parse(self) -> Iterator[None]:
        """Strawberry's parsing hook: after parsing, the choice of the operation."""
        yield
        document = self.execution_context.graphql_document
        if document is None or REQUESTED_OPERATION.get() is not None:
            return
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        names = [o.name.value if o.name else "(anonymous)" for o in operations]
        if len(names) > 1:
            raise InvalidGraphQLDocument(
                f"the document defines {len(names)} operations ({', '.join(names)}): "
                "send operationName to choose the one to run."
            )


class OperationName(SchemaExtension):
    """Tell the request middleware the GraphQL operation's name, for logs and metrics."""

    def on_operation(self) -> Iterator[None]:
        """After the operation: its name (the ``operationName`` given, else the name of
        the document's only operation, else ``anonymous``) in the request's state."""
        yield
        ctx = self.execution_context
        name = ctx.operation_name
        if name is None and ctx.graphql_document is not None:
            operations = [d for d in ctx.graphql_document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) == 1 and operations[0].name is not None:
                name = operations[0].name.value
        request = getattr(ctx.context, "request", None)
        if request is not None:
            request_state(request.scope)[GRAPHQL_OPERATION] = name or "anonymous"


class ValidatedDocuments(SchemaExtension):
    """Validation results cached by the parsed document itself, as Strawberry's
    ``ValidationCache`` caches them by the document's value (with the same validation,
    Strawberry's ``validate_document``): the parser cache hands
    back the same document object for the same text, and looking it up by identity
    costs nothing, where hashing and comparing a document node tree costs a walk of it
    on every request. The cache (``cache``, bounded) is shared by the schema's
    requests; the graphql-core schema is read from ``holder.schema``."""

    def __init__(self, holder: Any, cache: MutableMapping[int, Any]) -> None:
        super().__init__()
        self.holder = holder
        self.cache = cache

    def on_validate(self) -> Iterator[None]:
        """Strawberry's validation hook: the document's errors (graphql-core's
        ``validate`` with the schema's rules) from the cache when this very document
        object was validated with the same rules, else validated and cached."""
        ctx = self.execution_context
        document, rules = ctx.graphql_document, tuple(ctx.validation_rules)
        hit = self.cache.get(id(document))
        if hit is not None and hit[0] is document and hit[1] == rules:
            ctx.pre_execution_errors = hit[2]
        else:
            errors = validate_document(self.holder.schema, document, rules)  # type: ignore[arg-type]
            self.cache[id(document)] = (document, rules, errors)
            ctx.pre_execution_errors = errors
        yield
