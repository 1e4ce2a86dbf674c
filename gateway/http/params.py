"""The parameters of a GraphQL-over-HTTP request (specification section "Request
Parameters"), read from a JSON body (POST) or the query string (GET), and checked
for type before anything runs.

``query``, ``operationName``, ``variables`` and ``extensions`` are the specification's;
``documentId`` names a trusted document instead of sending it (graphql-codegen's
client preset and Relay send this); Apollo's automatic persisted queries put a hash in
``extensions.persistedQuery``. Unknown parameters are ignored, as other servers do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.display import got
from gateway.errors import InvalidRequestBody
from gateway.http.body import expect_object, parse_json

_GET_PARAMETERS = ("query", "operationName", "variables", "extensions", "documentId")


@dataclass(frozen=True)
class GraphQLParams:
    """One operation's parameters, each of its specified type (or None)."""

    query: str | None = None
    operation_name: str | None = None
    variables: dict[str, Any] | None = None
    extensions: dict[str, Any] | None = None
    document_id: str | None = None

    @property
    def persisted_hash(self) -> str | None:
        """Apollo's ``extensions.persistedQuery.sha256Hash``, if sent (its shape checked)."""
        persisted = (self.extensions or {}).get("persistedQuery")
        if persisted is None:
            return None
        digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if not isinstance(digest, str) or not digest:
            raise InvalidRequestBody("extensions.persistedQuery must be an object with a string sha256Hash.")
        version = persisted.get("version")
        if version != 1 or isinstance(version, bool):
            # Apollo's automatic persisted queries protocol has one version, 1.
            raise InvalidRequestBody(
                f"extensions.persistedQuery.version must be 1 (the only version of the protocol), got {got(version)}."
            )
        return digest


def _typed(value: object, kind: type, name: str, where: str) -> Any:
    if value is None or isinstance(value, kind):
        return value
    expected = "a string" if kind is str else "an object"
    raise InvalidRequestBody(f"{where}{name} must be {expected} or null, got {got(value)}.")


def params_from_json(value: object, where: str = "") -> GraphQLParams:
    """The parameters of one JSON request object; ``InvalidRequestBody`` naming the
    parameter when one has the wrong type, or when ``value`` is not an object."""
    value = expect_object(value, where.strip() or "the request body")
    return GraphQLParams(
        query=_typed(value.get("query"), str, "query", where),
        operation_name=_typed(value.get("operationName"), str, "operationName", where),
        variables=_typed(value.get("variables"), dict, "variables", where),
        extensions=_typed(value.get("extensions"), dict, "extensions", where),
        document_id=_typed(value.get("documentId"), str, "documentId", where),
    )


def params_from_query_string(query_params: Mapping[str, str], *, max_depth: int) -> GraphQLParams:
    """The parameters of a GET request: strings, with ``variables`` and ``extensions``
    as URL-encoded JSON (bounded as bodies are)."""
    values: dict[str, Any] = {}
    for name in _GET_PARAMETERS:
        raw = query_params.get(name)
        if raw is None or raw == "":
            continue
        if name in ("variables", "extensions"):
            values[name] = parse_json(raw, max_depth=max_depth, source=f"the {name} parameter")
        else:
            values[name] = raw
    return params_from_json(values)
