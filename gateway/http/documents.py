"""Trusted documents (persisted operations) and Apollo's automatic persisted queries.

A manifest maps a document id to a GraphQL document. Two formats are read: the flat
``{"<id>": "<document>"}`` object that graphql-codegen's client preset
(``persisted-documents.json``) and Relay's compiler (``persisted_queries.json``) write,
and Apollo's ``{"format": "apollo-persisted-query-manifest", "operations": [...]}``.
The gateway ships one built from ``schema/operations/`` (``job-gateway
export-documents``); ``JOB_GATEWAY_TRUSTED_DOCUMENTS`` replaces it with a client's own.

A request names a document by ``documentId``, or by Apollo's
``extensions.persistedQuery.sha256Hash`` (looked up in the manifest, then in the
bounded cache of automatic persisted queries). With trusted documents only, any other
document is refused (``UntrustedDocument``) and the cache is off.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from cachetools import LRUCache
from graphql import GraphQLError, OperationDefinitionNode, parse, print_ast

from gateway.display import json_text
from gateway.errors import NO_QUERY, InvalidRequestBody, PersistedQueryNotFound, UntrustedDocument
from gateway.http.params import GraphQLParams
from gateway.settings import Settings, SettingsError, read_json_file

APOLLO_MANIFEST_FORMAT = "apollo-persisted-query-manifest"
_SHA256_PREFIX = "sha256:"


def sha256_id(document: str) -> str:
    """The id graphql-codegen's client preset and Apollo give a document: the hex
    SHA-256 of its UTF-8 text."""
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


def operation_names(document: str) -> list[str]:
    """The names of the operations ``document`` defines (``GraphQLError`` if it does
    not parse)."""
    return [
        d.name.value
        for d in parse(document, no_location=True).definitions
        if isinstance(d, OperationDefinitionNode) and d.name is not None
    ]


def canonical_document(source: str) -> str:
    """``source`` as graphql-codegen's client preset prints it into a manifest:
    comments and layout normalised by graphql-core's printer."""
    return print_ast(parse(source, no_location=True))


def build_manifest(directory: Path) -> dict[str, str]:
    """The flat manifest of the ``*.graphql`` files of ``directory``, in file-name
    order: SHA-256 id -> canonical document."""
    documents = (canonical_document(p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.graphql")))
    return {sha256_id(d): d for d in documents}


def read_manifest(raw: Any, source: str) -> dict[str, str]:
    """id -> document from either manifest format; ``SettingsError`` naming ``source``."""
    if isinstance(raw, dict) and raw.get("format") == APOLLO_MANIFEST_FORMAT:
        operations = raw.get("operations")
        if not isinstance(operations, list) or not all(
            isinstance(o, dict) and isinstance(o.get("id"), str) and isinstance(o.get("body"), str) for o in operations
        ):
            raise SettingsError(f"{source}: an Apollo manifest's operations must each have a string id and body")
        return {o["id"]: o["body"] for o in operations}
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise SettingsError(f"{source}: a manifest maps document ids to documents (strings)")
    return dict(raw)


TRUSTED_DOCUMENTS = "JOB_GATEWAY_TRUSTED_DOCUMENTS"


class TrustedDocuments:
    """A manifest, checked at start-up (``SettingsError`` if a document does not parse)."""

    def __init__(self, by_id: Mapping[str, str]) -> None:
        self.by_id = dict(by_id)
        names: set[str] = set()
        for key, document in self.by_id.items():
            try:
                names.update(operation_names(document))
            except GraphQLError as exc:
                raise SettingsError(f"trusted document {json_text(key)} does not parse: {exc.message}") from None
        self.operation_names = frozenset(names)
        self._by_hash = {sha256_id(d): d for d in self.by_id.values()}
        self._texts = frozenset(self.by_id.values())

    @classmethod
    def shipped(cls) -> TrustedDocuments:
        """The manifest built from ``schema/operations/``, shipped with the package."""
        text = resources.files("gateway.http").joinpath("persisted-documents.json").read_text(encoding="utf-8")
        return cls(read_manifest(json.loads(text), "the shipped persisted-documents.json"))

    @classmethod
    def from_settings(cls, settings: Settings) -> TrustedDocuments:
        """``JOB_GATEWAY_TRUSTED_DOCUMENTS`` if set, else the shipped manifest."""
        if not settings.trusted_documents:
            return cls.shipped()
        raw = read_json_file(settings.trusted_documents, TRUSTED_DOCUMENTS)
        return cls(read_manifest(raw, f"{TRUSTED_DOCUMENTS}: {settings.trusted_documents}"))

    def get(self, document_id: str) -> str | None:
        """The document of an id as the manifest writes it, with or without the
        ``sha256:`` prefix of the GraphQL-over-HTTP persisted documents proposal."""
        found = self.by_id.get(document_id)
        if found is None and document_id.startswith(_SHA256_PREFIX):
            found = self.by_id.get(document_id.removeprefix(_SHA256_PREFIX))
        if found is None:
            found = self._by_hash.get(document_id.removeprefix(_SHA256_PREFIX).lower())
        return found

    def trusts(self, document: str) -> bool:
        """Whether ``document`` is, to the character, one of the manifest's."""
        return document in self._texts


# What one cached automatic persisted query costs besides its document: its key, a hex SHA-256.
_KEY_BYTES = 64


def _entry_bytes(document: str) -> int:
    return len(document.encode("utf-8", "surrogatepass")) + _KEY_BYTES


class PersistedQueries:
    """Where a request's document comes from: the trusted manifest, Apollo's automatic
    persisted queries (a cache bounded by the total size of its documents, least
    recently used first out), or the request itself."""

    def __init__(self, trusted: TrustedDocuments, *, trusted_only: bool, cache_bytes: int) -> None:
        self.trusted = trusted
        self.trusted_only = trusted_only
        # Sized by each entry's UTF-8 bytes, its hash (the key) included.
        self._cache: LRUCache[str, str] | None = (
            None if trusted_only or cache_bytes <= 0 else LRUCache(maxsize=cache_bytes, getsizeof=_entry_bytes)
        )

    def document(self, params: GraphQLParams) -> str:
        """The document to execute for ``params``.

        Raises ``UntrustedDocument`` (unknown ``documentId``; a document outside the
        manifest when trusted documents only), ``PersistedQueryNotFound`` (a hash with
        no document: send it again with the query), ``InvalidRequestBody`` (a hash that
        is not the query's, or no document at all)."""
        if params.document_id is not None:
            if params.query is not None or params.persisted_hash is not None:
                raise InvalidRequestBody(
                    "send a documentId or a query (with or without extensions.persistedQuery), not both."
                )
            found = self.trusted.get(params.document_id)
            if found is None:
                raise UntrustedDocument(f"no trusted document has the id {params.document_id!r}.")
            return found
        digest = params.persisted_hash
        if digest is not None and params.query is None:
            found = self.trusted.get(digest)
            if found is None and self._cache is not None:
                found = self._cache.get(digest.lower())
            if found is None:
                raise PersistedQueryNotFound("PersistedQueryNotFound")
            return found
        if params.query is None or not params.query.strip():
            raise InvalidRequestBody(NO_QUERY)
        if digest is not None and sha256_id(params.query) != digest.lower():
            raise InvalidRequestBody("provided sha does not match query (extensions.persistedQuery.sha256Hash).")
        if self.trusted_only and not self.trusted.trusts(params.query):
            raise UntrustedDocument(
                "this gateway runs trusted documents only: send the documentId of a document in its manifest."
            )
        return params.query

    def remember(self, params: GraphQLParams) -> None:
        """Keep an automatic persisted query sent with its document (call once it ran)."""
        digest = params.persisted_hash
        if self._cache is None or digest is None or params.query is None:
            return
        # A document larger than the whole cache is not kept (it runs, as sent).
        if _entry_bytes(params.query) <= self._cache.maxsize:
            self._cache[digest.lower()] = params.query


EXAMPLE_VARIABLES = "variables.json"


def export_documents(operations: Path) -> dict[str, str]:
    """The files built from the example operations of ``operations`` (its ``*.graphql``
    files, each named after its operation and opening with a comment that says what it
    is for; and ``variables.json``: operation name -> example variables, in the order
    GraphiQL opens them): name -> text, for ``persisted-documents.json`` (the
    manifest) and ``examples.json`` (``[{name, description, documentId, variables}]``)."""
    manifest = build_manifest(operations)
    variables = json.loads((operations / EXAMPLE_VARIABLES).read_text(encoding="utf-8"))
    ids = {operation_names(document)[0]: key for key, document in manifest.items()}
    missing = set(ids) ^ set(variables)
    if missing:
        raise ValueError(f"{operations / EXAMPLE_VARIABLES} and the operations disagree on {sorted(missing)}")
    examples = [
        {
            "name": name,
            "description": _leading_comment(operations / f"{name}.graphql"),
            "documentId": ids[name],
            "variables": values,
        }
        for name, values in variables.items()
    ]
    return {
        "persisted-documents.json": json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
        "examples.json": json.dumps(examples, indent=2, ensure_ascii=False) + "\n",
    }


def _leading_comment(path: Path) -> str:
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("# ").rstrip())
    return " ".join(lines)


def shipped_examples() -> list[dict[str, Any]]:
    """The shipped ``examples.json``."""
    text = resources.files("gateway.http").joinpath("examples.json").read_text(encoding="utf-8")
    examples: list[dict[str, Any]] = json.loads(text)
    return examples
