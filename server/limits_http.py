"""HTTP limits: request size, slow clients, ambiguous documents and echoed input.

``BodyLimit`` is a pure ASGI middleware in front of everything: a body larger than
``LAUREL_MAX_BODY_BYTES`` is refused with 413 before anything parses it (a declared
``Content-Length`` up front, otherwise counted while it streams), and a body that does
not arrive within ``LAUREL_BODY_TIMEOUT_SECONDS`` is answered 408. The whole body is
read here, so what runs behind it never waits on the client.

uvicorn has no timeout for the request line and headers (its keep-alive timer only
runs between requests), so ``laurel serve`` runs ``H11WithHeaderTimeout``, which answers
408 and closes a connection whose next request's headers are not complete within
``LAUREL_HEADER_TIMEOUT_SECONDS``. h11 (not httptools) because h11 also bounds their
size (``h11_max_incomplete_event_size``); httptools has no such limit.
"""

from __future__ import annotations

import asyncio
import functools
import re
from typing import Any

import orjson
from graphql import GraphQLError, OperationDefinitionNode, parse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from server.i18n import render
from server.rewards.text import Text, msg, msg_n
from server.settings import load_settings

__all__ = [
    "MAX_EXCERPT",
    "BodyLimit",
    "H11WithHeaderTimeout",
    "excerpt",
    "operation_kind",
    "several_operations_without_name",
    "shorten_errors",
]

MAX_EXCERPT = 40  # characters of a client's input an error message may quote
# A run without spaces longer than MAX_EXCERPT: a client's value or token, never our
# prose. (Matching quote pairs took "'$x' has invalid value: ...'" for one quotation.)
_LONG_RUN = re.compile(rf"\S{{{MAX_EXCERPT + 1},}}")
# Before any header is read, so before anyone asked for a language: English.
_LATE = {"message": "The request headers took too long.", "extensions": {"code": "TIMEOUT"}}
_TIMEOUT_BODY = orjson.dumps({"errors": [_LATE]})
_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
    b"content-length: " + str(len(_TIMEOUT_BODY)).encode() + b"\r\n\r\n" + _TIMEOUT_BODY
)


class _TooLarge(Exception):
    pass


class _Disconnected(Exception):
    pass


def _error(status: int, message: Text, code: str) -> tuple[int, bytes]:
    words = render(message)
    return status, orjson.dumps({"errors": [{"message": words, "extensions": {"code": code}}]})


class BodyLimit:
    """Read and bound the whole request body before the app sees it (see the module)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = self._declared(scope)
        body = b""
        if refused is None:
            try:
                async with asyncio.timeout(self.timeout):
                    body = await self._read(receive)
            except _Disconnected:
                return
            except _TooLarge:
                refused = self._too_large()
            except TimeoutError:
                refused = _error(
                    408,
                    msg(
                        "The request body did not arrive within {seconds:g} seconds.",
                        seconds=self.timeout,
                    ),
                    "TIMEOUT",
                )
        if refused is not None:
            await _answer(send, *refused)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    def _too_large(self) -> tuple[int, bytes]:
        most = self.max_bytes
        return _error(
            413,
            msg_n(
                "The request body is larger than {most:,} bytes.",
                "The request body is larger than {most:,} bytes.",
                most,
                most=most,
            ),
            "PAYLOAD_TOO_LARGE",
        )

    def _declared(self, scope: Scope) -> tuple[int, bytes] | None:
        for name, value in scope.get("headers") or ():
            if name != b"content-length":
                continue
            if not value.strip().isdigit():
                return _error(400, msg("Content-Length is not a number."), "BAD_REQUEST")
            if int(value) > self.max_bytes:
                return self._too_large()
        return None

    async def _read(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


async def _answer(send: Send, status: int, body: bytes) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),  # the rest of the body is not read
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@functools.cache
def _header_timeout() -> float:
    return load_settings().header_timeout_seconds


class _HeaderTimeout:
    """Close a connection whose next request line and headers take too long.

    A new request cycle starts once its headers are parsed; the timer runs from the
    connection's start, and again from the end of each response, until one does.
    """

    cycle: Any
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    _header_timer: asyncio.TimerHandle | None = None

    def _arm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        waiting = self.cycle
        self._header_timer = self.loop.call_later(_header_timeout(), self._headers_late, waiting)

    def _headers_late(self, waiting: object) -> None:
        self._header_timer = None
        if self.cycle is waiting and not self.transport.is_closing():
            self.transport.write(_TIMEOUT_RESPONSE)
            self.transport.close()


class H11WithHeaderTimeout(_HeaderTimeout, H11Protocol):
    """uvicorn's h11 protocol with a header timeout."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        super().connection_lost(exc)


def several_operations_without_name(query: object, operation_name: object, max_tokens: int) -> bool:
    """Whether a document has more than one operation and the request names none.

    graphql-core would run none of them, but strawberry picks the first one's type;
    we refuse the request instead. A document that does not parse is left to the
    schema, which answers its own syntax error.
    """
    if not isinstance(query, str) or operation_name is not None:
        return False
    return len(_operations_of(query, max_tokens)) > 1


def operation_kind(query: str, operation_name: str | None, max_tokens: int) -> str | None:
    """``"query"``, ``"mutation"`` or ``"subscription"``: the type of the operation the
    request runs; None when the document does not parse or names no such operation."""
    operations = _operations_of(query, max_tokens)
    if operation_name is None:
        return operations[0][1] if len(operations) == 1 else None
    return next((kind for name, kind in operations if name == operation_name), None)


_CACHED_DOCUMENT_CHARS = 10_000


def _operations_of(query: str, max_tokens: int) -> tuple[tuple[str | None, str], ...]:
    if len(query) <= _CACHED_DOCUMENT_CHARS:  # clients send the same few documents
        return _cached_operations(query, max_tokens)
    return _parse_operations(query, max_tokens)


@functools.lru_cache(maxsize=1024)
def _cached_operations(query: str, max_tokens: int) -> tuple[tuple[str | None, str], ...]:
    return _parse_operations(query, max_tokens)


def _parse_operations(query: str, max_tokens: int) -> tuple[tuple[str | None, str], ...]:
    """(name, type) of each operation; none when the document does not parse (the
    schema answers that)."""
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
    except (GraphQLError, RecursionError):
        return ()
    return tuple(
        (d.name.value if d.name else None, d.operation.value)
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    )


def excerpt(text: str, limit: int = MAX_EXCERPT) -> str:
    """At most ``limit`` characters of ``text``, marked when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shorten_errors(errors: list[dict[str, Any]]) -> None:
    """Cut every quoted piece of input in GraphQL error messages to a short excerpt.

    graphql-core quotes the offending token or value ("Unexpected Name 'aaaa…'",
    "got invalid value …"); a long one would come back whole. Every run of more than
    ``MAX_EXCERPT`` characters without a space is cut; the message, to 300.
    """
    for error in errors:
        message = error.get("message")
        if isinstance(message, str) and len(message) > MAX_EXCERPT:
            shortened = _LONG_RUN.sub(lambda m: excerpt(m[0]), message)
            error["message"] = excerpt(shortened, 300)
