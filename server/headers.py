"""Security headers on every HTTP response, as a pure ASGI middleware.

HTML pages get a strict Content-Security-Policy: scripts, styles, fonts and fetches
from this origin only (plus the WebSocket of the same host for subscriptions), no
inline script or style, no framing, no ``<base>``, no plugins. Every other response
(JSON, JS, CSS, PNG) gets ``default-src 'none'``: it is never meant to run as a
document. ``X-Content-Type-Options``, ``X-Frame-Options`` and ``Referrer-Policy`` go on
everything; HSTS only when ``LAUREL_PUBLIC_URL`` is https, since a browser that saw it
over a plain-http deployment would refuse the site for a year.

A header the route set itself is kept, so one response can loosen or tighten its own.
A page whose library injects a fixed ``<style>`` element (GraphiQL's dialogs) gets that
one style allowed by its hash (``style_hashes``), never ``'unsafe-inline'``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SecurityHeaders", "page_policy"]

_HSTS = b"max-age=31536000"
_OTHER_POLICY = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# A Host header worth echoing into connect-src: a name or an IP literal, an optional port.
_HOST = re.compile(r"(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
_HTML = re.compile(rb"^\s*text/html\b", re.IGNORECASE)


def page_policy(host: str | None, style_hashes: Sequence[str] = ()) -> str:
    """The CSP of an HTML page served to ``host`` (``None``: unknown, same origin only);
    ``style_hashes`` (``sha256-...``) are inline ``<style>`` elements the page may add.

    ``connect-src 'self'`` covers ws:/wss: of the same host only in CSP Level 3
    browsers, so the WebSocket URLs of the host are named explicitly as well.
    """
    connect = "'self'"
    if host is not None and _HOST.fullmatch(host):
        connect += f" ws://{host} wss://{host}"
    style = " ".join(["'self'", *(f"'{h}'" for h in style_hashes)])
    return (
        f"default-src 'self'; script-src 'self'; style-src {style}; "
        "img-src 'self' data:; font-src 'self' data:; "
        f"connect-src {connect}; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
    )


class SecurityHeaders:
    """ASGI middleware adding the security headers to every HTTP response.

    ``public_url`` is ``LAUREL_PUBLIC_URL``: with it, the page policy names that host's
    WebSocket (not whatever Host the request carried) and, if it is https, HSTS is sent.
    ``style_hashes`` maps a page's path to the hashes of the ``<style>`` elements it adds.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        public_url: str | None = None,
        style_hashes: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.app = app
        self.style_hashes = dict(style_hashes or {})
        self.host = _host_of(public_url) if public_url else None
        common = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
        ]
        if public_url is not None and public_url.lower().startswith("https://"):
            common.append((b"strict-transport-security", _HSTS))
        self.common = common

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = self._add(scope, list(message.get("headers", [])))
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _add(self, scope: Scope, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        present = {name.lower() for name, _ in headers}
        content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
        if b"content-security-policy" not in present:
            if _HTML.match(content_type):
                hashes = self.style_hashes.get(scope.get("path", ""), ())
                host = self.host or _request_host(scope)
                policy = page_policy(host, hashes).encode("latin-1")
            else:
                policy = _OTHER_POLICY
            headers.append((b"content-security-policy", policy))
        headers.extend((n, v) for n, v in self.common if n not in present)
        return headers


def _host_of(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[0]


def _request_host(scope: Scope) -> str | None:
    for name, value in scope.get("headers") or []:
        if name == b"host":
            return str(value.decode("latin-1"))
    server = scope.get("server")
    if server and server[1] is not None:
        return f"{server[0]}:{server[1]}"
    return None
