"""GraphiQL, served by the gateway itself: its assets are vendored in the package
(``gateway/http/assets``, pinned npm packages: see ``pins.json`` and
``scripts/vendor_graphiql.py``), so the page works with no internet, from a pip
install and from the container alike.

The page opens one tab per example operation of ``schema/operations/`` with its
example variables (``examples.json``); the first is a working query on the demo
domain. Its Content-Security-Policy allows nothing but the gateway itself.
"""

from __future__ import annotations

import base64
import hashlib
import json
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from gateway.http.documents import TrustedDocuments

ASSETS_PATH = "/graphiql"
_STYLES = ("graphiql.min.css", "plugin-explorer.css")
_SCRIPTS = ("react.production.min.js", "react-dom.production.min.js", "graphiql.min.js", "plugin-explorer.umd.js")
_OWN_SCRIPT = "start.js"
# GraphiQL sets inline styles on its elements; scripts and connections stay same-origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def assets_directory() -> Path:
    """The package's ``gateway/http/assets`` folder: GraphiQL's pinned files and their
    ``pins.json`` (served under ``ASSETS_PATH``)."""
    return Path(str(resources.files("gateway.http").joinpath("assets")))


def _integrity() -> dict[str, str]:
    """file -> its pinned Subresource Integrity value."""
    pins = json.loads((assets_directory() / "pins.json").read_text(encoding="utf-8"))
    return {asset["file"]: asset["sha384"] for asset in pins["assets"]}


def _sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def examples(trusted: TrustedDocuments, listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The examples GraphiQL opens with: name, description, document, variables
    (those of ``listed`` whose document is in ``trusted``)."""
    found = []
    for example in listed:
        document = trusted.get(example["documentId"])
        if document is not None:
            found.append({**example, "query": document})
    return found


def page_html(examples: list[dict[str, Any]], assets: str) -> str:
    """The GraphiQL page, loading its assets from ``assets`` (a URL path relative to
    the page, so that it works behind a path prefix)."""
    integrity = _integrity()
    own = _sri((assets_directory() / _OWN_SCRIPT).read_bytes())
    config = json.dumps({"examples": examples}).replace("<", "\\u003c")
    styles = "\n".join(
        f'<link rel="stylesheet" href="{assets}/{name}" integrity="{integrity[name]}">' for name in _STYLES
    )
    scripts = "\n".join(f'<script src="{assets}/{name}" integrity="{integrity[name]}"></script>' for name in _SCRIPTS)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>job-gateway · GraphiQL</title>
{styles}
<link rel="stylesheet" href="{assets}/page.css">
</head>
<body>
<div id="graphiql">Loading…</div>
<script id="graphiql-config" type="application/json">{config}</script>
{scripts}
<script src="{assets}/{_OWN_SCRIPT}" integrity="{escape(own)}"></script>
</body>
</html>
"""


class GraphiQLPage:
    """The page ``GET /graphql`` answers to browsers."""

    def __init__(self, examples: list[dict[str, Any]]) -> None:
        self.html = page_html(examples, ASSETS_PATH.lstrip("/"))

    def response(self, request: Request) -> Response:
        """The GraphiQL page, with a Content-Security-Policy that allows only the
        pinned same-origin assets (no request leaves for another origin)."""
        return HTMLResponse(
            self.html,
            headers={
                "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-cache",
            },
        )


def assets_app() -> StaticFiles:
    """The vendored assets, for mounting at ``ASSETS_PATH``."""
    return StaticFiles(directory=assets_directory())
