"""Schema extensions of our own."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from gateway.middleware import GRAPHQL_OPERATION, request_state


class OperationName(SchemaExtension):
    """Tell the request middleware the GraphQL operation's name, for logs and metrics."""

    def on_operation(self) -> Iterator[None]:
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
