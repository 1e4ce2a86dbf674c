"""Media types of the GraphQL-over-HTTP specification and ``Accept`` negotiation
(RFC 9110 section 12.5.1).

``application/graphql-response+json`` is the specification's response type; the
legacy ``application/json`` stays for clients that ask for it, for clients that send
no ``Accept`` (GraphQL-over-HTTP, "Legacy watershed"), and for ``*/*``.
"""

from __future__ import annotations

from collections.abc import Sequence

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
HTML = "text/html"
EVENT_STREAM = "text/event-stream"


def _ranges(accept: str) -> list[tuple[str, float, int]]:
    """(media range, quality, position) of each element of an ``Accept`` value."""
    ranges = []
    for position, element in enumerate(accept.split(",")):
        media_range, *params = (part.strip() for part in element.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media_range:
            ranges.append((media_range.lower(), min(max(quality, 0.0), 1.0), position))
    return ranges


def _precedence(media_type: str, media_range: str) -> int:
    """How specifically ``media_range`` names ``media_type`` (0: it does not)."""
    if media_range == media_type:
        return 3
    kind = media_type.split("/", maxsplit=1)[0]
    if media_range == f"{kind}/*":
        return 2
    if media_range == "*/*":
        return 1
    return 0


def negotiate(accept: str | None, offered: Sequence[str], *, default: str) -> str | None:
    """The type of ``offered`` the client prefers, or None when it accepts none.

    Each offered type takes the quality of the most specific range naming it. The
    highest quality wins; then a type the client named over one it reached through a
    wildcard; then, among named types, the order of ``offered``, and among types
    reached through a wildcard, ``default``. No ``Accept`` header means ``default``."""
    if accept is None or not accept.strip():
        return default
    ranges = _ranges(accept)
    best: tuple[float, int, int] | None = None
    chosen = None
    for rank, media_type in enumerate(offered):
        matches = [(_precedence(media_type, r), q) for r, q, _ in ranges if _precedence(media_type, r)]
        if not matches:
            continue
        precedence, quality = max(matches)
        if quality <= 0:
            continue
        order = -rank if precedence == 3 or media_type != default else 1
        key = (quality, precedence, order)
        if best is None or key > best:
            best, chosen = key, media_type
    return chosen
