"""Tokens for trying authentication locally (`job-gateway dev-token`): one RSA key
pair made once, its public half in a file for ``JOB_GATEWAY_JWT_PUBLIC_KEYS``, and
tokens signed with its private half, shaped as SpaceONE's identity service shapes
them (``did``, ``aud``, ``user_type``, ``exp``, optionally ``projects``; see
``gateway.auth``). Never for a real inventory: the command refuses ``MONGODB_URI``."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def private_key_path(public_keys: Path) -> Path:
    """Where the signing key of ``public_keys`` is kept: beside it, ``NAME.private.pem``."""
    return public_keys.with_name(public_keys.stem + ".private.pem")


def _signing_key(path: Path) -> tuple[rsa.RSAPrivateKey, bool]:
    """The key pair kept at ``path`` (PEM, owner-only), made on first use; and
    whether it was made now."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"{path} does not hold an RSA private key")
        return key, False
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    return key, True


def dev_token(
    domain: str, projects: Sequence[str] | None, public_keys: Path, *, hours: float = 12.0
) -> tuple[str, list[str]]:
    """A token for ``domain`` (scoped to ``projects`` when given) valid ``hours``, and
    what was written to disk: the signing key (first use) and ``public_keys`` (when the
    domain's public JWK was not in it yet). Other domains' keys in the file are kept.

    Raises ``ValueError`` when ``public_keys`` exists and is not a JSON object, or the
    signing key file holds something else than an RSA key."""
    key, made = _signing_key(private_key_path(public_keys))
    written = [f"{private_key_path(public_keys)} (the signing key: keep it private)"] if made else []
    known: dict[str, Any] = {}
    if public_keys.exists():
        known = json.loads(public_keys.read_text(encoding="utf-8"))
        if not isinstance(known, dict):
            raise ValueError(f"{public_keys} is not a JSON object of domain ids to public keys")
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    if known.get(domain) != public:
        known[domain] = public
        public_keys.write_text(json.dumps(known, indent=2) + "\n", encoding="utf-8")
        written.append(f"{public_keys} (for JOB_GATEWAY_JWT_PUBLIC_KEYS)")
    now = int(time.time())
    claims: dict[str, Any] = {"did": domain, "aud": "dev-user", "user_type": "USER", "iat": now}
    claims["exp"] = now + int(hours * 3600)
    if projects is not None:
        claims["projects"] = list(projects)
    return jwt.encode(claims, key, algorithm="RS256"), written
