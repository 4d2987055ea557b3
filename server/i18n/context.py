"""The language of the request being answered, in a context variable.

``Localized`` sets it for each HTTP request and WebSocket connection from its
``Accept-Language`` header; tasks started while answering copy it. A WebSocket client
(a browser cannot set the handshake's headers) may name one in its ``connection_init``
payload instead (``choose``). JSON answers say which language they are in
(``Content-Language``) and that it depends on the header (``Vary``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.i18n.catalogs import LANGUAGES
from server.i18n.negotiation import negotiate

__all__ = ["Localized", "choose", "language", "using"]

_language: ContextVar[str] = ContextVar("laurel_language", default=LANGUAGES[0])


def language() -> str:
    """The current reader's language (English outside any request)."""
    return _language.get()


def choose(header: str | None) -> str:
    """Read the rest of this task (and the tasks it starts) in the language ``header``
    (an ``Accept-Language`` value) asks for; returns it."""
    chosen = negotiate(header)
    _language.set(chosen)
    return chosen


@contextlib.contextmanager
def using(chosen: str) -> Iterator[None]:
    """Render in ``chosen`` within the block (the CLI, tests)."""
    token = _language.set(chosen if chosen in LANGUAGES else LANGUAGES[0])
    try:
        yield
    finally:
        _language.reset(token)


class Localized:
    """Pure ASGI middleware: each request is answered in the language it asks for."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = [v for k, v in scope.get("headers") or () if k == b"accept-language"]
        chosen = negotiate(b",".join(given).decode("latin-1") if given else None)
        token = _language.set(chosen)
        # A shipped file (the pages' JSON catalogs among them) is the same in any
        # language; its 404 is not.
        static = str(scope.get("path", "")).startswith("/static/")

        async def labelled(message: Message) -> None:
            shipped = static and int(message.get("status", 200)) < 400
            if message["type"] == "http.response.start" and not shipped:
                headers = list(message.get("headers") or [])
                kind = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if kind.startswith(b"application/json"):
                    headers.append((b"content-language", chosen.encode()))
                    headers.append((b"vary", b"Accept-Language"))
                    message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, labelled if scope["type"] == "http" else send)
        finally:
            _language.reset(token)
