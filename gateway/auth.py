"""Authentication: a bearer token -> the Principal it proves (who is calling).

Tokens are JWTs as SpaceONE's identity service issues them: `did` (domain id), `aud`
(user id), `user_type`, `exp`, and optionally `projects` (which makes the caller
project-scoped). RS256 tokens are checked against the public key of the domain they
name; HS256 tokens against one shared secret. Only configured algorithms are
accepted, `none` never. What a principal may read is decided in the service.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from gateway.errors import Unauthenticated
from gateway.settings import Settings, SettingsError


@dataclass(frozen=True)
class Principal:
    domain_id: str
    user_id: str | None = None
    user_type: str | None = None
    projects: tuple[str, ...] | None = None  # None: every project of the domain


def load_public_keys(path: str) -> dict[str, Any]:
    """The JSON file mapping each domain id to its public JWK, loaded at start-up."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SettingsError(f"JOB_GATEWAY_JWT_PUBLIC_KEYS: cannot read {path}: {exc}") from None
    if not isinstance(raw, dict) or not raw:
        raise SettingsError(f"JOB_GATEWAY_JWT_PUBLIC_KEYS: {path} must map domain ids to public JWKs")
    keys = {}
    for domain, jwk in raw.items():
        try:
            key = jwt.PyJWK(jwk, algorithm="RS256")
        except (jwt.PyJWKError, jwt.InvalidKeyError, TypeError, ValueError) as exc:
            raise SettingsError(
                f"JOB_GATEWAY_JWT_PUBLIC_KEYS: the key of {domain!r} is not an RSA public JWK: {exc}"
            ) from None
        if not isinstance(jwk, dict) or "d" in jwk:
            raise SettingsError(f"JOB_GATEWAY_JWT_PUBLIC_KEYS: the key of {domain!r} must be a public key")
        keys[domain] = key
    return keys


class Authenticator:
    def __init__(self, public_keys: Mapping[str, Any] | None = None, secret: str | None = None) -> None:
        self._public_keys = dict(public_keys or {})
        self._secret = secret
        self._algorithms = ({"RS256"} if self._public_keys else set()) | ({"HS256"} if secret else set())

    @classmethod
    def from_settings(cls, settings: Settings) -> Authenticator:
        keys = load_public_keys(settings.jwt_public_keys) if settings.jwt_public_keys else None
        return cls(keys, settings.jwt_secret)

    @property
    def enabled(self) -> bool:
        return bool(self._algorithms)

    def authenticate(self, authorization: str | None) -> Principal | None:
        """The principal of an `Authorization: Bearer ...` header; None when auth is off."""
        if not self.enabled:
            return None
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("a bearer token is required (Authorization: Bearer <token>).")
        return self._verify(token.strip())

    def _verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise Unauthenticated("the token is not a well-formed JWT.") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg.lower() == "none":
            raise Unauthenticated("unsigned tokens (alg none) are not accepted.")
        if alg not in self._algorithms:
            raise Unauthenticated(f"tokens signed with {alg} are not accepted here.")
        domain = unverified.get("did")
        if not isinstance(domain, str) or not domain:
            raise Unauthenticated("the token has no domain (did claim).")
        key: Any
        if alg == "RS256":
            key = self._public_keys.get(domain)
            if key is None:
                raise Unauthenticated(f"no public key is configured for domain {domain!r}.")
        else:
            key = self._secret
        try:
            claims = jwt.decode(token, key, algorithms=[alg], options={"require": ["exp", "did"], "verify_aud": False})
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired.") from None
        except jwt.PyJWTError:
            raise Unauthenticated("the token's signature or claims are invalid.") from None
        return _principal(claims)


def _principal(claims: Mapping[str, Any]) -> Principal:
    projects = claims.get("projects")
    if projects is not None and (not isinstance(projects, list) or not all(isinstance(p, str) for p in projects)):
        raise Unauthenticated("the token's projects claim must be a list of project ids.")
    audience = claims.get("aud")
    return Principal(
        domain_id=claims["did"],
        user_id=audience if isinstance(audience, str) else None,
        user_type=claims.get("user_type") if isinstance(claims.get("user_type"), str) else None,
        projects=tuple(projects) if projects is not None else None,
    )
