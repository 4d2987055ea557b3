"""GraphiQL from files shipped in the package: no CDN, no inline script.

Strawberry's own page loads React, GraphiQL and the explorer plugin from a CDN and
boots them with an inline script; ours (``frontend_stub/graphiql.html``) loads the same
versions from ``/static/vendor/graphiql/`` and boots from ``/static/graphiql.js``, so it
works offline and under the page CSP of ``server.headers``. Where the files come from:
``frontend_stub/vendor/graphiql/README.md``.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib.resources import files

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

__all__ = ["GRAPHIQL_STYLE_HASHES", "graphiql_page", "vendor_routes"]

# The one <style> element graphiql.min.js adds, when a dialog (settings, short keys) opens:
# react-remove-scroll's scroll lock. Allowed by its hash on the GraphiQL page only; a new
# GraphiQL version may change it (tests/e2e/test_csp.py opens both dialogs and would tell).
GRAPHIQL_STYLE_HASHES = ("sha256-Y/huXlwoYkVyQlxwSVcCi1RCDGDCSVBzDt0hYP9qlTc=",)

_VENDOR = "vendor/graphiql"
# The only files served, with their types (nosniff: the type must be right).
_FILES = {
    "react.production.min.js": "text/javascript",
    "react-dom.production.min.js": "text/javascript",
    "graphiql.min.js": "text/javascript",
    "graphiql.min.css": "text/css",
    "plugin-explorer.umd.js": "text/javascript",
    "plugin-explorer.css": "text/css",
}


def graphiql_page() -> HTMLResponse:
    """The GraphiQL page (``GET /graphql`` from a browser)."""
    return HTMLResponse(files("frontend_stub").joinpath("graphiql.html").read_text("utf-8"))


@cache
def _asset(name: str) -> tuple[bytes, str]:
    """The file's bytes and a strong ETag; read once per process (about 4 MB in all)."""
    body = files("frontend_stub").joinpath(_VENDOR, name).read_bytes()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


async def _vendor(request: Request) -> Response:
    name = request.path_params["name"]
    kind = _FILES.get(name)
    if kind is None:
        return Response("not found", status_code=404, media_type="text/plain")
    body, etag = _asset(name)
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=kind, headers=headers)


def vendor_routes() -> list[Route]:
    """The routes of GraphiQL's third-party files (only mounted when GraphiQL is on)."""
    return [Route("/static/vendor/graphiql/{name}", _vendor)]
