"""Tokens for trying authentication locally (`job-gateway dev-token`): one RSA key
pair made once, its public half in a file for ``JOB_GATEWAY_JWT_PUBLIC_KEYS``, and
tokens signed with its private half, shaped as SpaceONE's identity service shapes
them (``did``, ``aud``, ``user_type``, ``exp``, optionally ``projects``; see
``gateway.auth``). Never for a real inventory: the command refuses ``MONGODB_URI``.

Every fault is a ``SettingsError`` of one line naming the flag, the file and what is
wrong; nothing already in a file is overwritten (another domain's key is kept, a
different key for the same domain refused)."""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.auth import load_public_keys
from gateway.display import json_text
from gateway.settings import SettingsError

KEYS_FLAG = "--keys"
MAX_HOURS = 24 * 366  # a year: a token for trying things out, not a credential to keep


def private_key_path(public_keys: Path) -> Path:
    """Where the signing key of ``public_keys`` is kept: beside it, ``NAME.private.pem``."""
    return public_keys.with_name(public_keys.stem + ".private.pem")


def _signing_key(path: Path) -> tuple[rsa.RSAPrivateKey, bool]:
    """The key pair kept at ``path`` (PEM, owner-only), made on first use; and
    whether it was made now."""
    if path.exists():
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except OSError as exc:
            raise _unwritable(path, exc, "read") from None
        except (ValueError, TypeError):  # not PEM, or encrypted
            key = None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise SettingsError(
                f"{KEYS_FLAG}: {path} is not an unencrypted RSA private key (PEM) of dev-token's: "
                "remove it, or choose another --keys file"
            )
        return key, False
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(f"{KEYS_FLAG}: cannot make the folder {path.parent}: {exc.strerror or exc}") from None
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
    except OSError as exc:
        raise _unwritable(path, exc, "write") from None
    return key, True


def _unwritable(path: Path, exc: OSError, action: str) -> SettingsError:
    return SettingsError(f"{KEYS_FLAG}: cannot {action} {path}: {exc.strerror or exc}")


def _known_keys(public_keys: Path) -> dict[str, Any]:
    """The domain ids and JWKs already in ``public_keys`` (none when it does not exist),
    checked as ``serve`` checks ``JOB_GATEWAY_JWT_PUBLIC_KEYS``."""
    if not public_keys.exists() and not public_keys.is_symlink():
        return {}
    load_public_keys(str(public_keys), KEYS_FLAG)
    known: dict[str, Any] = json.loads(public_keys.read_text(encoding="utf-8"))
    return known


def _write(path: Path, text: str) -> None:
    """``text`` into ``path`` whole or not at all (a temporary file renamed over it)."""
    try:
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except OSError as exc:
        raise _unwritable(path, exc, "write") from None


def check_claims(domain: str, projects: Sequence[str] | None, hours: float) -> None:
    """Refuse (``SettingsError``, naming the flag) a domain or project id that is empty
    or holds spaces or control characters, and ``hours`` that is not a positive
    number of at most ``MAX_HOURS``."""
    for flag, values in (("--domain", [domain]), ("--projects", list(projects or ()))):
        for value in values:
            if not value or any(c.isspace() or not c.isprintable() for c in value):
                raise SettingsError(
                    f"{flag} must be an id without spaces or control characters, got {json_text(value)}"
                )
    if not (math.isfinite(hours) and 0 < hours <= MAX_HOURS):
        raise SettingsError(f"--hours must be a number of hours above 0 and at most {MAX_HOURS}, got {hours:g}")


def dev_token(
    domain: str, projects: Sequence[str] | None, public_keys: Path, *, hours: float = 12.0
) -> tuple[str, list[str]]:
    """A token for ``domain`` (scoped to ``projects`` when given) valid ``hours``, and
    what was written to disk: the signing key (first use) and ``public_keys`` (when the
    domain's public JWK was not in it yet). Other domains' keys in the file are kept.

    Raises ``SettingsError`` (one line) for a bad domain, project or duration
    (``check_claims``); when ``public_keys`` is not a valid keys file or already holds
    another key for ``domain``; when the signing key file holds something else than
    an RSA private key; when a file cannot be read or written."""
    check_claims(domain, projects, hours)
    if public_keys.is_dir():
        raise SettingsError(f"{KEYS_FLAG}: {public_keys} is a directory: give the keys file's name")
    folder = next((p for p in public_keys.parents if p.exists()), None)
    if folder is not None and not folder.is_dir():
        raise SettingsError(f"{KEYS_FLAG}: {public_keys}: {folder} is a file, not a folder")
    known = _known_keys(public_keys)
    key, made = _signing_key(private_key_path(public_keys))
    written = [f"{private_key_path(public_keys)} (the signing key: keep it private)"] if made else []
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    if domain in known and known[domain] != public:
        raise SettingsError(
            f"{KEYS_FLAG}: {public_keys} already holds another key for {json_text(domain)} "
            f"(not the one in {private_key_path(public_keys)}): choose another --keys file"
        )
    if domain not in known:
        known[domain] = public
        _write(public_keys, json.dumps(known, indent=2) + "\n")
        written.append(f"{public_keys} (for JOB_GATEWAY_JWT_PUBLIC_KEYS)")
    now = int(time.time())
    claims: dict[str, Any] = {"did": domain, "aud": "dev-user", "user_type": "USER", "iat": now}
    claims["exp"] = now + round(hours * 3600)
    if projects is not None:
        claims["projects"] = list(dict.fromkeys(projects))
    return jwt.encode(claims, key, algorithm="RS256"), written
