"""Telling a database that is away from a bug, and answering both as JSON.

A lost or refused connection, a pool that cannot hand one out in time or a locked
SQLite file says nothing about the request: the same request succeeds once the
database is back, so it is answered ``503`` with ``Retry-After`` and the client
retries with the same idempotency key. Anything else that escapes the app is a
bug: ``500``, logged with its traceback. Either way the body is JSON in the shape
of a GraphQL error, never Starlette's plain-text ``Internal Server Error``.
"""

from __future__ import annotations

import errno
import logging
import socket
import sqlite3

import orjson
from asyncpg import exceptions as pg
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tortoise.exceptions import DBConnectionError

from server.i18n import render
from server.rewards.text import msg

__all__ = [
    "RETRY_AFTER_SECONDS",
    "UNAVAILABLE",
    "UNAVAILABLE_CODE",
    "UNAVAILABLE_MESSAGE",
    "ErrorsAsJSON",
    "http_error_as_json",
    "is_transient",
]

RETRY_AFTER_SECONDS = 1
UNAVAILABLE_CODE = "SERVICE_UNAVAILABLE"
UNAVAILABLE = msg("The database is unavailable right now; retry (with the same idempotency key).")
UNAVAILABLE_MESSAGE = str(UNAVAILABLE)  # the English

_log = logging.getLogger("laurel.failures")

# PostgreSQL said it is going away or cannot take us (SQLSTATE classes 08, 57P0x, 53300),
# or the connection could not be made or was lost under us.
_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    pg.PostgresConnectionError,  # 08xxx, incl. ConnectionDoesNotExistError
    pg.AdminShutdownError,  # 57P01: pg_terminate_backend, a fast shutdown
    pg.CrashShutdownError,  # 57P02
    pg.CannotConnectNowError,  # 57P03: starting up or shutting down
    pg.TooManyConnectionsError,  # 53300
    DBConnectionError,  # Tortoise could not connect
    ConnectionError,  # refused, reset, broken pipe; asyncpg's "unexpected connection_lost()"
    TimeoutError,  # connecting, or waiting for a pooled connection
)
# What asyncpg's protocol says when the server dropped the connection just as a query was
# sent ("cannot switch to state 12; another operation (2) is in progress").
_PG_DROPPED = ("cannot switch to state", "not connected")
_NETWORK_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.ETIMEDOUT,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.EHOSTDOWN,
    }
)
_SQLITE_BUSY = ("database is locked", "database table is locked")


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc``, or any exception it was raised from or while handling, means the
    database is away for now (lost, refused or timed-out connection, SQLite busy) rather
    than a bug. Tortoise wraps driver errors, so the whole chain is read."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if _transient_itself(current):
            return True
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return False


def _transient_itself(exc: BaseException) -> bool:
    if isinstance(exc, _TRANSIENT_TYPES):
        return True
    if isinstance(exc, pg.InternalClientError):
        return str(exc).startswith(_PG_DROPPED)
    if isinstance(exc, pg.InterfaceError):
        # "connection is closed"; other interface errors are misuse (bugs).
        return "connection is closed" in str(exc) or "pool is closing" in str(exc)
    if isinstance(exc, socket.gaierror):
        return True  # the database's host name does not resolve (DNS is down)
    if isinstance(exc, OSError):
        return exc.errno in _NETWORK_ERRNOS
    if isinstance(exc, sqlite3.OperationalError):
        return str(exc).startswith(_SQLITE_BUSY)
    return False


def _json_error(status: int, message: str, code: str) -> tuple[list[tuple[bytes, bytes]], bytes]:
    body = orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if status == 503:
        headers.append((b"retry-after", str(RETRY_AFTER_SECONDS).encode()))
    return headers, body


class ErrorsAsJSON:
    """Pure ASGI middleware: an exception escaping the app during an HTTP request is
    answered as JSON: ``503`` + ``Retry-After`` when ``is_transient``, else ``500``.

    Once the response has started there is nothing left to change: the exception is
    re-raised and the server closes the connection. WebSocket and lifespan scopes pass
    through untouched.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started:
                raise
            where = f"{scope.get('method', '')} {scope.get('path', '')}".strip()
            if is_transient(exc):
                _log.warning("database unavailable during %s: %r", where, exc)
                status, message, code = 503, UNAVAILABLE, UNAVAILABLE_CODE
            else:
                _log.exception("unexpected error during %s", where)
                status, message, code = 500, msg("Internal server error."), "INTERNAL_SERVER_ERROR"
            headers, body = _json_error(status, render(message), code)
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})


_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
# Starlette's own words for them, from the catalog.
_HTTP_WORDS = {"Not Found": msg("Not Found"), "Method Not Allowed": msg("Method Not Allowed")}


async def http_error_as_json(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such route: 404, wrong method: 405) as JSON errors
    in the same shape, instead of its plain text."""
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "BAD_REQUEST")
    _, body = _json_error(exc.status_code, render(_HTTP_WORDS.get(exc.detail, exc.detail)), code)
    response = Response(body, status_code=exc.status_code, media_type="application/json")
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response
