"""Authentication: a bearer token -> the Principal it proves (who is calling).

Tokens are JWTs as SpaceONE's identity service issues them. Which key checks a token
is decided by the domain it names (``did``), never by the token's own header:

- a domain listed in ``JOB_GATEWAY_JWT_PUBLIC_KEYS`` accepts only RS256 tokens signed
  by its own key;
- every other domain accepts only HS256 tokens signed with ``JOB_GATEWAY_JWT_SECRET``
  (when it is set; otherwise no token of that domain is valid).

The claims, and what each shape means (docs/security.md, "Token claims"):

- ``did``: a non-empty string, required: the caller's domain.
- ``exp``: required and checked.
- ``ttyp``: absent or ``"ACCESS_TOKEN"``; SpaceONE's ``REFRESH_TOKEN`` (or any other
  type) is refused.
- ``aud``: the user id in SpaceONE's tokens; one of ``JOB_GATEWAY_JWT_AUDIENCE`` when
  that is set. ``iss``: ``JOB_GATEWAY_JWT_ISSUER`` when that is set.
- ``projects``: absent means every project of the domain; a list of strings, those
  projects only (``[]``: none); ``null`` or any other shape is refused (fails closed).
- ``user_type``: read, not enforced.

Every refusal is ``Unauthenticated`` with one message, whatever the reason (the reason
goes to the log, never to the caller, so that answers do not tell which domains
exist or what was wrong). What a principal may read is decided in ``authorization``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jwt

from gateway.display import counted, got, json_text
from gateway.errors import Unauthenticated
from gateway.settings import Settings, SettingsError, read_json_file

log = logging.getLogger("gateway.auth")
ABSENT: Any = object()


@dataclass(frozen=True)
class Principal:
    """Who a valid token proves the caller is (spec section 7): the domain it may read
    (``did``), its user id (``aud``) and type, the projects it is limited to (None:
    every project of the domain), and when the token expires (``exp``, seconds since
    the epoch)."""

    domain_id: str
    user_id: str | None = None
    user_type: str | None = None
    projects: tuple[str, ...] | None = None  # None: every project of the domain
    expires_at: float | None = None  # the token's exp (seconds since the epoch); None: no token


PUBLIC_KEYS = "JOB_GATEWAY_JWT_PUBLIC_KEYS"


def load_public_keys(path: str, setting: str = PUBLIC_KEYS) -> dict[str, Any]:
    """The JSON file mapping each domain id to its public JWK (RFC 7517; RSA, RS256),
    loaded at start-up. Raises ``SettingsError``, one line naming ``setting`` (the
    variable or flag that names the file), the file and what is wrong with it (or with
    which domain's key)."""
    raw = read_json_file(path, setting)
    if not isinstance(raw, dict) or not raw:
        raise SettingsError(f"{setting}: {path} must be an object of domain ids to public JWKs, got {got(raw)}")
    keys = {}
    for domain, jwk in raw.items():
        where = f"{setting}: {path}: the key of {json_text(domain)}"
        if not isinstance(jwk, dict):
            raise SettingsError(f"{where} must be a JWK object, got {got(jwk)}")
        if jwk.get("kty") != "RSA":
            raise SettingsError(f'{where} must be an RSA JWK ("kty": "RSA"), got "kty": {json_text(jwk.get("kty"))}')
        if "d" in jwk:
            raise SettingsError(f"{where} is a private key: give its public half (without d, p, q, dp, dq, qi)")
        try:
            keys[domain] = jwt.PyJWK(jwk, algorithm="RS256")
        except (jwt.PyJWKError, jwt.InvalidKeyError, TypeError, ValueError) as exc:
            raise SettingsError(f"{where} is not an RSA public JWK: {exc}") from None
    return keys


ACCESS_TOKEN = "ACCESS_TOKEN"
FAILED = "authentication failed: send a valid access token (Authorization: Bearer <token>)."


def _refuse(reason: str) -> Unauthenticated:
    """The one refusal every caller sees; ``reason`` goes to the log only."""
    log.warning("authentication failed", extra={"reason": reason})
    return Unauthenticated(FAILED)


class Authenticator:
    """Checks bearer tokens (see the module docstring for the keys and claims)."""

    def __init__(
        self,
        public_keys: Mapping[str, Any] | None = None,
        secret: str | None = None,
        *,
        audience: Sequence[str] = (),
        issuer: str | None = None,
    ) -> None:
        self._public_keys = dict(public_keys or {})
        self._secret = secret
        self._audience = list(audience)
        self._issuer = issuer

    @classmethod
    def from_settings(cls, settings: Settings) -> Authenticator:
        """The authenticator the settings describe: the public keys file
        (``JOB_GATEWAY_JWT_PUBLIC_KEYS``), the HS256 secret, the accepted audiences
        (comma-separated) and issuer. Raises ``SettingsError`` (one line) for a keys
        file that cannot be read or holds a bad key."""
        keys = load_public_keys(settings.jwt_public_keys) if settings.jwt_public_keys else None
        audience = [a.strip() for a in (settings.jwt_audience or "").split(",") if a.strip()]
        return cls(keys, settings.jwt_secret, audience=audience, issuer=settings.jwt_issuer)

    @property
    def enabled(self) -> bool:
        """Whether any token can be valid (a public key or a secret is configured);
        False means authentication is off."""
        return bool(self._public_keys) or self._secret is not None

    def describe(self) -> str:
        """One line saying which tokens are accepted, for the start-up log."""
        if not self.enabled:
            return "authentication is off"
        modes = []
        if self._public_keys:
            modes.append(
                f"RS256 tokens signed by their own domain's key for the {counted(len(self._public_keys), 'domain')} "
                "of JOB_GATEWAY_JWT_PUBLIC_KEYS"
            )
        if self._secret is not None:
            others = "every other domain" if self._public_keys else "every domain"
            modes.append(f"HS256 tokens signed with JOB_GATEWAY_JWT_SECRET for {others}")
        checks = ["exp", "ttyp (no refresh tokens)"]
        if self._audience:
            checks.append("aud")
        if self._issuer:
            checks.append("iss")
        return f"authentication: {'; '.join(modes)}; checked: {', '.join(checks)}"

    def authenticate(self, authorization: str | None) -> Principal | None:
        """The principal of an ``Authorization: Bearer ...`` header; None when
        authentication is off. Raises ``Unauthenticated`` (one message) otherwise."""
        if not self.enabled:
            return None
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _refuse("no bearer token")
        return self._verify(token.strip())

    def _key(self, domain: str, alg: object) -> tuple[Any, str]:
        """The key that checks a token of ``domain``, and its algorithm: the domain's own
        when it has one, else the shared secret; a token signed otherwise is refused."""
        own = self._public_keys.get(domain)
        if own is not None:
            if alg != "RS256":
                raise _refuse(f"domain {json_text(domain)} has its own key; a {alg} token is not signed by it")
            return own, "RS256"
        if self._secret is None:
            raise _refuse(f"no key for domain {json_text(domain)}")
        if alg != "HS256":
            raise _refuse(f"a {alg} token for domain {json_text(domain)}, which only the shared secret serves")
        return self._secret, "HS256"

    def _verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise _refuse("not a well-formed JWT") from None
        domain = unverified.get("did")
        if not isinstance(domain, str) or not domain:
            raise _refuse("no did claim")
        key, alg = self._key(domain, header.get("alg"))
        required = ["exp", "did", *(["aud"] if self._audience else []), *(["iss"] if self._issuer else [])]
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self._audience or None,
                issuer=self._issuer,
                options={"require": required, "verify_aud": bool(self._audience)},
            )
        except jwt.PyJWTError as exc:
            raise _refuse(f"{type(exc).__name__}: {exc}") from None
        for name in ("exp", "nbf", "iat"):
            # NumericDate is a JSON number (RFC 7519, section 2); PyJWT also reads "123" as one.
            if name in claims and (isinstance(claims[name], bool) or not isinstance(claims[name], int | float)):
                raise _refuse(f"the {name} claim is not a number: {json_text(claims[name])}")
        if claims.get("ttyp", ACCESS_TOKEN) != ACCESS_TOKEN:
            raise _refuse(f"token type {json_text(claims.get('ttyp'))} is not an access token")
        return _principal(claims)


def _principal(claims: Mapping[str, Any]) -> Principal:
    projects = claims.get("projects", ABSENT)
    if projects is not ABSENT and (not isinstance(projects, list) or not all(isinstance(p, str) for p in projects)):
        # null included: only an absent claim means every project of the domain.
        raise _refuse("the projects claim is not a list of project ids")
    audience = claims.get("aud")
    user_type = claims.get("user_type")
    return Principal(
        domain_id=claims["did"],
        user_id=audience if isinstance(audience, str) else None,
        user_type=user_type if isinstance(user_type, str) else None,
        projects=None if projects is ABSENT else tuple(projects),
        expires_at=float(claims["exp"]) if isinstance(claims.get("exp"), int | float) else None,
    )
