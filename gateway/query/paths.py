"""Field paths: the grammar a client key must follow (which paths exist is
``gateway.query.fields``).

A key reaches MongoDB as a field path, so it must never be able to smuggle in an
operator (``$where``), an empty segment (``a..b``) or a control character.
"""

from __future__ import annotations

import re

from gateway.display import got, json_text
from gateway.errors import InvalidQuery

MAX_PATH_LENGTH = 256

# Segments are anything but `$`, dots, whitespace and control characters; data keys
# such as `filters.resource-group` or `tags.Name` stay usable.
_SEGMENT = r"[^\s.$\x00-\x1f\x7f]+"
_PATH_RE = re.compile(rf"{_SEGMENT}(?:\.{_SEGMENT})*")

COLLECTOR_INFO = "collector_info"


def check_path(path: object, what: str = "key") -> str:
    """Return ``path`` if it is a well-formed dotted field path, else raise."""
    if not isinstance(path, str) or not path:
        raise InvalidQuery(f"{what} must be a non-empty string, got {got(path)}.")
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidQuery(f"{what} {json_text(path, 40)} is longer than {MAX_PATH_LENGTH} characters.")
    if not _PATH_RE.fullmatch(path):
        raise InvalidQuery(
            f"{what} {json_text(path)} is not a field path (dot-separated names, no '$', no empty segments, no spaces)."
        )
    return path


def collector_subpath(path: str) -> str | None:
    """For `collector_info.x.y` return `x.y`; None for paths outside collector_info."""
    head, _, rest = path.partition(".")
    if head != COLLECTOR_INFO:
        return None
    if not rest:
        raise InvalidQuery(f'key {json_text(path)} must name a collector field, e.g. "collector_info.provider".')
    return rest
