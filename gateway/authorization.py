"""Authorization: what a request may read, decided once below both adapters
(contract section 7). Authentication (who is calling) is ``gateway.auth``'s."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.auth import FAILED, Principal
from gateway.display import got, json_text
from gateway.errors import Forbidden, InvalidParameterType, RequiredParameter, Unauthenticated


@dataclass(frozen=True)
class ReadScope:
    """What a request may read: one domain, and optionally only some projects
    (``projects`` None: every project of the domain)."""

    domain_id: str
    projects: tuple[str, ...] | None = None

    def job_filter(self) -> dict[str, Any]:
        """The MongoDB filter every job read is ANDed with."""
        scope: dict[str, Any] = {"domain_id": self.domain_id}
        if self.projects is not None:
            scope["projects"] = {"$in": list(self.projects)}
        return scope


def authorize(principal: Principal | None, domain_id: object, *, auth_required: bool) -> ReadScope:
    """What a request may read.

    With a principal: its domain (naming another one raises ``Forbidden``) and, for a
    project-scoped caller, its projects. Without one (only when authentication is
    off): the domain the request names, which is then required (``RequiredParameter``).
    ``Unauthenticated`` when authentication is on and there is no principal."""
    if domain_id is not None and domain_id != "" and not isinstance(domain_id, str):
        raise InvalidParameterType(f"domain_id must be a string, got {got(domain_id)}.")
    if principal is None:
        if auth_required:
            raise Unauthenticated(FAILED)
        if not domain_id:
            raise RequiredParameter("domain_id is required.")
        return ReadScope(domain_id=str(domain_id))
    if domain_id and domain_id != principal.domain_id:
        raise Forbidden(f"the token's domain may not read domain {json_text(domain_id)}.")
    return ReadScope(domain_id=principal.domain_id, projects=principal.projects)
