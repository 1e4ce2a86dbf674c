"""The start-up banner `serve` prints for a person at a terminal: where GraphiQL and
the REST routes are, which engine and data are loaded, whether authentication is on."""

from __future__ import annotations

import re

from gateway import __version__, rest
from gateway.display import counted
from gateway.settings import Settings
from gateway.store.factory import LoadedData


def _without_credentials(uri: str) -> str:
    """The URI's scheme and hosts only: no user, password or options."""
    return re.sub(r"//[^@/]*@", "//", uri).split("?", 1)[0]


def banner(settings: Settings, host: str, port: int, data: LoadedData | None) -> str:
    """The banner's lines (no trailing newline). ``data`` is what the embedded engine
    holds (None with MongoDB)."""
    base = f"http://{host}:{port}"
    workers = counted(settings.workers, "worker process", "worker processes")
    rest_routes = ", ".join(f"{' '.join(sorted((r.methods or set()) - {'HEAD'}))} {r.path}" for r in rest.routes)
    if data is not None:
        store = [
            f"embedded engine: {data.source}",
            f"{counted(data.jobs, 'job')}, {counted(data.collectors, 'collector')}, {counted(data.domains, 'domain')}",
        ]
    else:
        mongodb = _without_credentials(settings.mongodb_uri or "")
        store = [f"MongoDB {mongodb}, database {settings.database}"]
    if settings.auth_configured:
        auth = "on: a bearer token (JWT) names the caller's domain"
    else:
        auth = "OFF: every caller may read any domain it names (see README, Authentication)"
    lines = [
        f"job-gateway {__version__} on {base} ({workers})",
        f"  GraphiQL  {base}/graphql",
        f"  REST      {rest_routes}",
        "  probes    /healthz (alive), /readyz (database answers), /metrics (Prometheus)",
        f"  data      {store[0]}",
        *(f"            {line}" for line in store[1:]),
        f"  auth      {auth}",
        "Press Ctrl+C to stop.",
    ]
    return "\n".join(lines)
