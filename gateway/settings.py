"""Settings: read once at start-up from an environment mapping (and CLI overrides),
validated on construction, frozen. Nothing else in the package reads the environment.

The ``Settings`` fields are the one settings table: each declares its environment
variable, default, type, allowed range or values, and a one-line meaning, from which
``settings_table()`` derives what `--help` and the README show. Reading the mapping
and casting its strings is Starlette's ``Config``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any, get_type_hints

from starlette.config import Config

from gateway.display import json_fault, json_text

PREFIX = "JOB_GATEWAY_"
READ_PREFERENCES = ("primary", "primaryPreferred", "secondary", "secondaryPreferred", "nearest")
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
LOG_FORMATS = ("auto", "json", "text")


class SettingsError(ValueError):
    """A setting with a bad value; the message is one line naming it."""


def _setting(
    default: Any,
    meaning: str,
    *,
    env: str | None = None,
    flag: str | None = None,
    minimum: int | None = None,
    maximum: int | None = None,
    choices: Sequence[str] = (),
    secret: bool = False,
) -> Any:
    """A row of the settings table (a dataclass field; ``env`` defaults to
    ``JOB_GATEWAY_<NAME>``; ``flag`` is the `serve` flag that overrides it)."""
    metadata = {"meaning": meaning, "env": env, "flag": flag, "minimum": minimum, "maximum": maximum}
    return field(default=default, repr=not secret, metadata={**metadata, "choices": tuple(choices)})


def _comma_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


@dataclass(frozen=True)
class Settings:
    """Every setting of the gateway. Construction validates (``SettingsError``, one line
    naming the setting), so every ``Settings`` in the program is a valid one."""

    # Store: no MONGODB_URI means the embedded engine with demo data (or --data files).
    mongodb_uri: str | None = _setting(
        None, "a MongoDB URI; unset means the embedded engine", env="MONGODB_URI", secret=True
    )
    database: str = _setting("inventory", "database name")
    job_collection: str = _setting("job", "collection of jobs")
    collector_collection: str = _setting("collector", "collection of collectors")
    max_time_ms: int = _setting(
        5000,
        "time budget of all the database work of one request, retries included (pymongo's timeoutMS on MongoDB; "
        "the embedded engine stops its queries at the same deadline), milliseconds; at most a day (86400000: "
        "MongoDB's maxTimeMS is a 32-bit count, and a request is no batch job)",
        minimum=1,
        maximum=86_400_000,
    )
    server_selection_timeout_ms: int = _setting(
        3000,
        "how long a request waits for a MongoDB server once none is known to answer, and to open a connection "
        "(serverSelectionTimeoutMS, connectTimeoutMS), milliseconds",
        minimum=1,
    )
    list_read_preference: str = _setting("primary", "read preference of lists", choices=READ_PREFERENCES)
    stat_read_preference: str = _setting(
        "secondaryPreferred", "read preference of statistics", choices=READ_PREFERENCES
    )
    data_files: tuple[str, ...] = _setting(
        (), "data files for the embedded engine, os.pathsep-separated", flag="--data"
    )
    demo_jobs: int = _setting(3000, "generated demo jobs when no data file is given", minimum=0)
    # HTTP
    host: str = _setting("127.0.0.1", "address to listen on", flag="--host")
    port: int = _setting(8000, "port to listen on", flag="--port", minimum=1, maximum=65535)
    workers: int = _setting(1, "worker processes", flag="--workers", minimum=1)
    log_level: str = _setting("info", "log level", choices=LOG_LEVELS)
    log_format: str = _setting(
        "auto",
        "log lines; auto: text and a start-up banner on a terminal, JSON lines otherwise",
        choices=LOG_FORMATS,
    )
    cors_origins: str = _setting("", "browser origins allowed to call the API, comma-separated")
    cors_headers: str = _setting(
        "Authorization,Content-Type,X-Request-ID",
        "request headers those origins may send (besides the CORS-safelisted ones), comma-separated",
    )
    # Limits
    max_page_size: int = _setting(1000, "page size cap (rows)", minimum=1)
    max_conditions: int = _setting(50, "conditions per filter / filter_or", minimum=1)
    max_regex_length: int = _setting(1024, "length of a regex value (characters)", minimum=1)
    max_stages: int = _setting(30, "stages per aggregate", minimum=1)
    max_sort_keys: int = _setting(32, "keys of a sort (list sort, stat sort stage)", minimum=1)
    max_list_values: int = _setting(
        1000,
        "values of a list operator (in, contain_in, ...), of a shortcut list, of any list or object inside a condition "
        "value, and ids of nodes(ids:)",
        minimum=1,
    )
    max_value_depth: int = _setting(
        32,
        "nesting of arrays and objects in a condition value (at most 40: what MongoDB's 100 levels of BSON leave "
        "beside the gateway's own nesting)",
        minimum=1,
        maximum=40,
    )
    max_only_fields: int = _setting(50, "paths of a list's only", minimum=1)
    max_keyword_words: int = _setting(20, "words of a keyword", minimum=1)
    max_patterns: int = _setting(
        50, "patterns one query matches each document against: contain/regex values and keyword words", minimum=1
    )
    max_group_keys: int = _setting(20, "keys of a group stage", minimum=1)
    max_group_fields: int = _setting(
        20, "values a group row accumulates: one per group field, one per field a push pushes", minimum=1
    )
    max_project_fields: int = _setting(50, "fields of a project stage, and operands of one operation", minimum=1)
    max_expression_depth: int = _setting(10, "nesting of project arithmetic", minimum=1)
    max_expression_size: int = _setting(
        200, "operations and operands of one project stage's arithmetic, all its fields together", minimum=1
    )
    max_stat_rows: int = _setting(10_000, "rows of a stat answer without page.limit", minimum=1)
    max_stat_bytes: int = _setting(16 * 1024 * 1024, "size of a stat answer, as JSON (bytes)", minimum=1)
    max_body_bytes: int = _setting(1_048_576, "request body size (bytes)", minimum=1)
    max_json_depth: int = _setting(64, "nesting of arrays and objects in a JSON body or parameter", minimum=1)
    max_query_depth: int = _setting(12, "GraphQL query depth", minimum=1)
    max_aliases: int = _setting(30, "GraphQL aliases per document", minimum=1)
    max_tokens: int = _setting(5000, "GraphQL tokens per document", minimum=1)
    max_variable_values: int = _setting(
        10_000,
        "values in the variables of a GraphQL operation: list items and input object fields (each a step of "
        "graphql-core's coercion); JSON values count as one",
        minimum=1,
    )
    introspection: bool = _setting(True, "GraphQL introspection")
    public_introspection: bool = _setting(
        False, "with authentication on, answer introspection-only documents without a token"
    )
    # GraphQL over HTTP (docs/graphql-over-http.md)
    max_batch_operations: int = _setting(10, "operations in one batched GraphQL request (0: no batching)", minimum=0)
    trusted_documents: str | None = _setting(
        None, "trusted-documents manifest replacing the shipped one (graphql-codegen, Relay or Apollo format)"
    )
    trusted_documents_only: bool = _setting(False, "refuse every GraphQL document outside the manifest")
    persisted_query_cache_bytes: int = _setting(
        4_194_304, "Apollo automatic persisted queries cache, bytes of documents (0: off)", minimum=0
    )
    graphiql: bool = _setting(True, "GraphiQL for browsers on GET /graphql")
    strict_request_fields: bool = _setting(
        False,
        "refuse (400) request fields the published messages do not have, instead of ignoring them "
        "(and logging each name once), as the published gateway does; see docs/language.md",
    )
    # Subscriptions (gateway/live): WebSocket (graphql-transport-ws) and /graphql/stream (SSE)
    simulate: bool = _setting(
        False,
        "make the embedded demo live: jobs start, make progress and finish (never on MongoDB)",
        flag="--simulate",
    )
    change_poll_ms: int = _setting(
        1000, "on a MongoDB without change streams (a standalone), how often jobs are polled, milliseconds", minimum=10
    )
    max_subscriptions_per_connection: int = _setting(20, "subscriptions on one WebSocket connection", minimum=1)
    max_subscription_connections: int = _setting(
        2000, "WebSocket connections, and SSE streams, open at once in one process (each)", minimum=1
    )
    subscription_queue: int = _setting(
        100, "events a subscriber may fall behind before it is closed as a slow consumer", minimum=1
    )
    subscription_keep_alive_seconds: int = _setting(
        15, "keep-alive interval of subscription connections (pings, SSE comments), seconds", minimum=1
    )
    subscription_idle_seconds: int = _setting(
        300, "a WebSocket connection without any subscription is closed after this long, seconds", minimum=1
    )
    live_list_ms: int = _setting(
        500, "a live list (jobsLive) is pushed again at most this often, milliseconds", minimum=10
    )
    # Authentication: RS256 public keys per domain (a JSON file), or an HS256 secret.
    jwt_public_keys: str | None = _setting(None, "JSON file: domain id -> public JWK (RS256)")
    jwt_secret: str | None = _setting(
        None, "HS256 shared secret, 32+ characters (for the domains without a public key)", secret=True
    )
    jwt_audience: str | None = _setting(None, "accepted token audiences (aud), comma-separated; unset: not checked")
    jwt_issuer: str | None = _setting(None, "the token issuer (iss) required; unset: not checked")
    insecure_no_auth: bool = _setting(False, "serve a MongoDB without authentication", flag="--insecure-no-auth")

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], **overrides: Any) -> Settings:
        """Build from ``environ`` (each setting's variable; an empty value counts as
        unset), then apply ``overrides`` (CLI flags; None means "not given").

        Raises ``SettingsError`` naming the variable when a value does not cast or
        does not validate."""
        config = Config(environ={k: v for k, v in environ.items() if v != ""})
        values: dict[str, Any] = {}
        for row in settings_table():
            try:
                value = config(row.env, cast=_CASTS[row.kind], default=None)
            except ValueError:
                shown = _shown(environ[row.env])
                raise SettingsError(f"{row.env} must be {_EXPECTED[row.kind]}, got {shown}") from None
            if value is not None:
                values[row.name] = value
        for row in settings_table():
            given = overrides.get(row.name)
            if given is not None:
                # A flag's value is refused in the flag's name (the one the person typed).
                row.check(given, source=row.flag or row.env)
                values[row.name] = given
        return cls(**values)

    def __post_init__(self) -> None:
        object.__setattr__(self, "log_level", self.log_level.lower())  # as logging's names, in any case
        for row in settings_table():
            row.check(getattr(self, row.name))
        if self.jwt_secret is not None and len(self.jwt_secret) < 32:
            raise SettingsError("JOB_GATEWAY_JWT_SECRET must be at least 32 characters")
        for name in ("database", "job_collection", "collector_collection"):
            value = getattr(self, name)
            if not value or "$" in value or "\x00" in value:
                raise SettingsError(f"{PREFIX}{name.upper()} must be a non-empty name without $, got {_shown(value)}")
        if self.mongodb_uri is not None:
            self._check_mongodb()
            if self.simulate:
                raise SettingsError("--simulate writes to the embedded demo; it cannot be combined with MONGODB_URI")

    def _check_mongodb(self) -> None:
        assert self.mongodb_uri is not None
        if not self.mongodb_uri.startswith(("mongodb://", "mongodb+srv://")):
            raise SettingsError("MONGODB_URI must start with mongodb:// or mongodb+srv://")
        # Imported only when there is a URI: the driver costs ~75 ms, and `--help` is fast.
        from pymongo.errors import ConfigurationError  # noqa: PLC0415

        from gateway.store.mongo import written_options  # noqa: PLC0415

        try:
            written_options(self.mongodb_uri)
        except (ConfigurationError, ValueError) as exc:
            raise SettingsError(f"MONGODB_URI {_refused_option(self.mongodb_uri, exc)}") from None
        if self.data_files:
            raise SettingsError("--data loads the embedded store; it cannot be combined with MONGODB_URI")
        if not self.auth_configured and not self.insecure_no_auth:
            raise SettingsError(
                "MONGODB_URI is set but no token key is configured: set JOB_GATEWAY_JWT_PUBLIC_KEYS or "
                "JOB_GATEWAY_JWT_SECRET, or run with --insecure-no-auth on purpose"
            )

    @property
    def cors_origin_list(self) -> list[str]:
        """``cors_origins`` split at commas, blanks dropped."""
        return _comma_list(self.cors_origins)

    @property
    def cors_header_list(self) -> list[str]:
        """``cors_headers`` split at commas, blanks dropped."""
        return _comma_list(self.cors_headers)

    @property
    def auth_configured(self) -> bool:
        """Whether a token key (RS256 public keys or an HS256 secret) is configured."""
        return bool(self.jwt_public_keys or self.jwt_secret)


@dataclass(frozen=True)
class SettingRow:
    """One row of the settings table: a ``Settings`` field as a person reads it."""

    name: str
    env: str
    kind: str  # "int", "bool", "str", "paths"
    default: Any
    meaning: str
    flag: str | None
    minimum: int | None
    maximum: int | None
    choices: tuple[str, ...]

    @property
    def shown_default(self) -> str:
        """The default as the README and `--help` show it."""
        if self.default is None or self.default == ():
            return "unset"
        if self.default == "":
            return "empty"
        if isinstance(self.default, bool):
            return str(self.default).lower()
        return str(self.default)

    @property
    def accepts(self) -> str:
        """What values are allowed, in words."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.maximum is not None:
            return f"between {self.minimum} and {self.maximum}"
        if self.minimum is not None:
            return "a positive integer" if self.minimum == 1 else f"an integer of at least {self.minimum}"
        return _EXPECTED[self.kind]

    def check(self, value: Any, *, source: str | None = None) -> None:
        """Raise ``SettingsError`` naming ``source`` (default: the variable) when
        ``value`` is out of this setting's range or choices."""
        source = source or self.env
        if self.choices and value not in self.choices:
            raise SettingsError(f"{source} must be {self.accepts}, got {_shown(value)}")
        if self.minimum is not None and (value < self.minimum or (self.maximum is not None and value > self.maximum)):
            raise SettingsError(f"{source} must be {self.accepts}, got {value}")


def read_json_file(path: str, setting: str) -> Any:
    """The JSON value of the file at ``path``, which ``setting`` names (read at
    start-up). Raises ``SettingsError``, one line naming both, when it is not a regular
    file (a directory, a device), cannot be read, is not UTF-8 or is not JSON."""
    where = f"{setting}: {path}"
    file = Path(path)
    try:
        if not file.is_file():
            raise SettingsError(f"{where} is not a file" if file.exists() else f"{where}: no such file")
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"{where} cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise SettingsError(f"{where} is not UTF-8 (byte {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{where} is not JSON: {json_fault(exc)}") from None
    except ValueError:  # an integer of more digits than Python converts
        raise SettingsError(f"{where} holds a number too long to read") from None
    except RecursionError:
        raise SettingsError(f"{where} nests arrays or objects too deeply to read") from None


def _shown(value: str) -> str:
    """A setting's value in a message: quoted as JSON quotes it (control characters escaped)."""
    return json_text(value)


def _refused_option(uri: str, error: Exception) -> str:
    """Which option of ``uri`` pymongo refuses, and why: each ``name=value`` of the
    query is tried alone (the reason is pymongo's; names, never values, are shown:
    a value may be a credential). Options refused only together: pymongo's reason."""
    from pymongo.errors import ConfigurationError  # noqa: PLC0415

    from gateway.store.mongo import written_options  # noqa: PLC0415

    for pair in uri.partition("?")[2].split("&"):
        name = pair.partition("=")[0]
        try:
            written_options("mongodb://host/?" + pair)
        except (ConfigurationError, ValueError) as exc:
            return f"option {json_text(name)}: {_pymongo_reason(str(exc))}"
    return f"options: {_pymongo_reason(str(error))}"


def _pymongo_reason(text: str) -> str:
    """pymongo's reason, without its pointer to its docstring and its Python tuples."""
    text = text.replace(" Refer to docstring.", "").replace("Unknown option.", "not a MongoDB URI option.")
    text = text.replace(" must be in (", " must be one of (")
    return _PYTHON_TUPLE.sub(lambda m: ", ".join(_QUOTED.findall(m.group(0))), text)


_PYTHON_TUPLE = re.compile(r"\('[^']*'(?:, '[^']*')*\)")
_QUOTED = re.compile(r"'([^']*)'")


def _paths(raw: str) -> tuple[str, ...]:
    return tuple(p for p in raw.split(os.pathsep) if p)  # as PATH is


_CASTS: dict[str, Callable[[Any], Any]] = {"int": int, "bool": bool, "str": str, "paths": _paths}
_EXPECTED = {"int": "an integer", "bool": "true or false", "str": "text", "paths": "paths"}
_KINDS = {int: "int", bool: "bool", str: "str", str | None: "str", tuple[str, ...]: "paths"}


@cache
def settings_table() -> tuple[SettingRow, ...]:
    """Every setting, in declaration order: the source of `--help`'s and the README's
    settings tables."""
    hints = get_type_hints(Settings)
    return tuple(
        SettingRow(
            name=f.name,
            env=f.metadata["env"] or PREFIX + f.name.upper(),
            kind=_KINDS[hints[f.name]],
            default=f.default,
            meaning=f.metadata["meaning"],
            flag=f.metadata["flag"],
            minimum=f.metadata["minimum"],
            maximum=f.metadata["maximum"],
            choices=f.metadata["choices"],
        )
        for f in fields(Settings)
    )


def settings_markdown() -> str:
    """The settings table as the README shows it (a test keeps the two equal)."""
    lines = ["| variable | default | accepts | meaning |", "|---|---|---|---|"]
    for row in settings_table():
        default = row.shown_default if row.shown_default in ("unset", "empty") else f"`{row.shown_default}`"
        flag = f" (`serve {row.flag}`)" if row.flag else ""
        lines.append(f"| `{row.env}` | {default} | {row.accepts} | {row.meaning}{flag} |")
    return "\n".join(lines)
