"""Settings: read once at start-up from an environment mapping (and CLI overrides),
validated, frozen. Nothing else in the package reads the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

PREFIX = "JOB_GATEWAY_"
READ_PREFERENCES = ("primary", "primaryPreferred", "secondary", "secondaryPreferred", "nearest")


class SettingsError(ValueError):
    """A setting with a bad value; the message is one line naming it."""


@dataclass(frozen=True)
class Settings:
    # Store. No MONGODB_URI means the embedded engine with demo data (or --data files).
    # (It may carry a password: kept out of repr and logs.)
    mongodb_uri: str | None = field(default=None, repr=False)
    database: str = "inventory"
    job_collection: str = "job"
    collector_collection: str = "collector"
    max_time_ms: int = 5000
    server_selection_timeout_ms: int = 3000
    list_read_preference: str = "primary"
    stat_read_preference: str = "secondaryPreferred"
    data_files: tuple[str, ...] = ()
    demo_jobs: int = 3000
    # HTTP
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    log_level: str = "info"
    # Browser origins allowed to call the API (comma-separated); none by default.
    cors_origins: str = ""
    # Limits
    max_page_size: int = 1000
    max_conditions: int = 50
    max_regex_length: int = 1024
    max_stages: int = 30
    max_body_bytes: int = 1_048_576
    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 5000
    introspection: bool = True
    # Authentication: RS256 public keys per domain (a JSON file), or an HS256 secret.
    jwt_public_keys: str | None = None
    jwt_secret: str | None = field(default=None, repr=False)
    insecure_no_auth: bool = False

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], **overrides: Any) -> Settings:
        """Build from ``environ`` (``MONGODB_URI`` and ``JOB_GATEWAY_*``), then apply
        ``overrides`` (CLI flags; None means "not given"), then validate."""
        values: dict[str, Any] = {}
        if environ.get("MONGODB_URI"):
            values["mongodb_uri"] = environ["MONGODB_URI"]
        for f in fields(cls):
            if f.name in ("mongodb_uri", "data_files"):
                continue
            raw = environ.get(PREFIX + f.name.upper())
            if raw is not None and raw != "":
                values[f.name] = _cast(f.name, raw, _KINDS.get(f.name) or type(f.default))
        if environ.get(PREFIX + "DATA_FILES"):
            # os.pathsep-separated, as PATH is.
            values["data_files"] = tuple(p for p in environ[PREFIX + "DATA_FILES"].split(os.pathsep) if p)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``SettingsError`` (one line naming the setting) on a bad value; run on
        construction, so every ``Settings`` in the program is a valid one."""
        positive = (
            "max_time_ms",
            "server_selection_timeout_ms",
            "max_page_size",
            "max_conditions",
            "max_regex_length",
            "max_stages",
            "max_body_bytes",
            "max_query_depth",
            "max_aliases",
            "max_tokens",
            "workers",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise SettingsError(f"{PREFIX}{name.upper()} must be a positive integer, got {getattr(self, name)}")
        if not 0 < self.port < 65536:
            raise SettingsError(f"{PREFIX}PORT must be between 1 and 65535, got {self.port}")
        if self.demo_jobs < 0:
            raise SettingsError(f"{PREFIX}DEMO_JOBS must not be negative, got {self.demo_jobs}")
        for name in ("list_read_preference", "stat_read_preference"):
            if getattr(self, name) not in READ_PREFERENCES:
                raise SettingsError(
                    f"{PREFIX}{name.upper()} must be one of {', '.join(READ_PREFERENCES)}, got {getattr(self, name)!r}"
                )
        if self.log_level.lower() not in ("critical", "error", "warning", "info", "debug"):
            raise SettingsError(f"{PREFIX}LOG_LEVEL must be one of critical, error, warning, info, debug")
        if self.jwt_secret is not None and len(self.jwt_secret) < 32:
            raise SettingsError("JOB_GATEWAY_JWT_SECRET must be at least 32 characters")
        for name in ("database", "job_collection", "collector_collection"):
            value = getattr(self, name)
            if not value or "$" in value or "\x00" in value:
                raise SettingsError(f"{PREFIX}{name.upper()} must be a non-empty name without '$', got {value!r}")
        self._validate_store_and_auth()

    def _validate_store_and_auth(self) -> None:
        if self.mongodb_uri is None:
            return
        if not self.mongodb_uri.startswith(("mongodb://", "mongodb+srv://")):
            raise SettingsError("MONGODB_URI must start with mongodb:// or mongodb+srv://")
        if self.data_files:
            raise SettingsError("--data loads the embedded store; it cannot be combined with MONGODB_URI")
        if not self.auth_configured and not self.insecure_no_auth:
            raise SettingsError(
                "MONGODB_URI is set but no token key is configured: set JOB_GATEWAY_JWT_PUBLIC_KEYS or "
                "JOB_GATEWAY_JWT_SECRET, or run with --insecure-no-auth on purpose"
            )

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def auth_configured(self) -> bool:
        return bool(self.jwt_public_keys or self.jwt_secret)


# Fields whose default (None) does not tell their type.
_KINDS: dict[str, type] = {"jwt_public_keys": str, "jwt_secret": str}


def _cast(name: str, raw: str, kind: type) -> Any:
    env = PREFIX + name.upper()
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"{env} must be true or false, got {raw!r}")
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"{env} must be an integer, got {raw!r}") from None
    return raw
