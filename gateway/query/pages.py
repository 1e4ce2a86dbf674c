"""The page of a list or a statistics answer (``spaceone.api.core.v1.Page``): the one
page parser both use (contract 3.1 and 4.1)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.errors import LimitExceeded


@dataclass(frozen=True)
class Page:
    """``start`` is 1-based (unset or 0 means 1); ``limit`` 0 means "not cut" (a list
    then answers up to the page cap, section 8)."""

    start: int = 1
    limit: int = 0

    @property
    def skip(self) -> int:
        """Rows before the page."""
        return self.start - 1


def read_page(page: Mapping[str, Any] | None, max_page_size: int) -> Page:
    """The page of a canonical ``Page`` message (``gateway.query.messages``: unset
    fields absent, numbers already range-checked). A start below 1 is 1.

    Raises ``LimitExceeded`` for a ``limit`` over ``max_page_size``, naming the cap."""
    page = page or {}
    start, limit = page.get("start", 1), page.get("limit", 0)
    if limit > max_page_size:
        raise LimitExceeded(f"query.page.limit {limit} is over the page size cap max_page_size={max_page_size}.")
    return Page(start=max(start, 1), limit=limit)
