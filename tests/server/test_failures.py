"""A database that goes away is answered ``503`` JSON with ``Retry-After``, and a bug
``500`` JSON, never plain text: ``is_transient`` on exceptions from the real drivers, the
middleware on a real app, and a real server whose connection to PostgreSQL is cut (a
TCP proxy in front of it stops forwarding and refuses new connections, as a stopped
database or a failover does) during the API-key lookup and inside a GraphQL resolver.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from tortoise.backends.asyncpg import AsyncpgDBClient
from tortoise.backends.sqlite import SqliteClient
from tortoise.exceptions import IntegrityError

from server.failures import UNAVAILABLE_MESSAGE, ErrorsAsJSON, is_transient
from tests.conftest import Backend, on_postgres
from tests.servers import free_port, serving

needs_postgres = pytest.mark.skipif(not on_postgres(), reason="needs PostgreSQL")

UNAVAILABLE = {
    "errors": [{"message": UNAVAILABLE_MESSAGE, "extensions": {"code": "SERVICE_UNAVAILABLE"}}]
}
INTERNAL = {
    "errors": [
        {"message": "Internal server error.", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
    ]
}
PRIZES = "{ prizes(first: 5) { edges { cursor } } }"


def _pg_dsn(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


async def _raised(awaitable: Coroutine[Any, Any, object]) -> BaseException:
    try:
        await awaitable
    except Exception as exc:
        return exc
    raise AssertionError("expected the database call to fail")


# is_transient on what the drivers really raise


async def test_a_refused_connection_is_transient() -> None:
    """Nothing listens on the port (a stopped database): asyncpg's connect is refused."""
    exc = await _raised(asyncpg.connect(f"postgresql://postgres@127.0.0.1:{free_port()}/x"))
    assert isinstance(exc, OSError), repr(exc)
    assert is_transient(exc)


@needs_postgres
async def test_a_terminated_connection_is_transient(database: Backend) -> None:
    """pg_terminate_backend (an operator, a failover): the next query on that connection
    fails, whether it is sent at once or after the loss was noticed."""
    seen: list[str] = []
    admin = await asyncpg.connect(_pg_dsn(database.database_url))
    try:
        for pause in (0.0, 0.3):
            victim = await asyncpg.connect(_pg_dsn(database.database_url))
            pid = victim.get_server_pid()
            await admin.execute("SELECT pg_terminate_backend($1)", pid)
            await asyncio.sleep(pause)
            exc = await _raised(victim.fetchval("SELECT 1"))
            seen.append(f"{type(exc).__name__}: {exc}")
            assert is_transient(exc), repr(exc)
            victim.terminate()
    finally:
        await admin.close()
    print("asyncpg raised:", seen)


@needs_postgres
async def test_a_cut_tortoise_connection_is_transient(database: Backend) -> None:
    """The same through Tortoise's asyncpg client, which passes the driver's error on. The
    connection goes through a proxy that is then cut (the open connection reset, new ones
    refused), so the pool cannot quietly reconnect as it may after pg_terminate_backend."""
    url = urlsplit(database.database_url)
    proxy = _CuttableProxy(url.hostname or "127.0.0.1", url.port or 5432)
    proxy.open()
    client = AsyncpgDBClient(
        connection_name="probe",
        host="127.0.0.1",
        port=proxy.port,
        user=url.username,
        password=url.password,
        database=url.path.lstrip("/"),
        minsize=1,
        maxsize=1,
    )
    await client.create_connection(with_db=True)
    try:
        # A query is no connection problem: a syntax error is a bug.
        assert not is_transient(await _raised(client.execute_query("SELEC 1")))
        proxy.cut()
        exc = await _raised(client.execute_query("SELECT 1"))
        assert is_transient(exc), repr(exc)
    finally:
        proxy.close()
        with contextlib.suppress(Exception):
            await client.close()


async def test_a_locked_sqlite_database_is_transient(tmp_path: Path) -> None:
    """Another process holds the write lock: Tortoise's SQLite client says it is locked."""
    path = tmp_path / "locked.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    client = SqliteClient(file_path=str(path), connection_name="probe", busy_timeout=0)
    await client.create_connection(with_db=True)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        exc = await _raised(client.execute_query("INSERT INTO t (id) VALUES (1)"))
        assert "locked" in str(exc)
        assert is_transient(exc)
        holder.execute("ROLLBACK")
        await client.execute_query("INSERT INTO t (id) VALUES (1)")
        duplicate = await _raised(client.execute_query("INSERT INTO t (id) VALUES (1)"))
        assert isinstance(duplicate, IntegrityError)
        assert not is_transient(duplicate)
    finally:
        await client.close()
        holder.close()


def _fail_while_handling() -> None:
    try:
        raise KeyError("x")
    except KeyError as inner:
        raise RuntimeError("while handling") from inner


def test_bugs_are_not_transient(tmp_path: Path) -> None:
    """A missing file is an OSError too, and a bug raised while handling one is a bug."""
    with pytest.raises(FileNotFoundError) as missing:
        (tmp_path / "nope").read_text()
    assert not is_transient(missing.value)
    assert not is_transient(ValueError("bad"))
    with pytest.raises(RuntimeError) as outer:
        _fail_while_handling()
    assert not is_transient(outer.value)


# The middleware on a real app


async def _refused(request: Request) -> Response:
    await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{free_port()}/x")
    return Response("unreachable")


async def _bug(request: Request) -> Response:
    return Response({}["missing"])


async def _half_sent(request: Request) -> Response:
    async def body() -> Any:
        yield b"partial"
        raise RuntimeError("after the response started")

    return StreamingResponse(body())


@pytest.fixture
def app_client() -> httpx.AsyncClient:
    app = Starlette(
        routes=[Route("/refused", _refused), Route("/bug", _bug), Route("/half", _half_sent)],
        middleware=[Middleware(ErrorsAsJSON)],
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_an_unreachable_database_answers_503_json(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/refused")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.headers["content-type"] == "application/json"
    assert response.json() == UNAVAILABLE


async def test_a_bug_answers_500_json_and_is_logged(
    app_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="laurel.failures"):
        response = await app_client.get("/bug")
    assert response.status_code == 500
    assert "retry-after" not in response.headers
    assert response.json() == INTERNAL
    [record] = [r for r in caplog.records if r.name == "laurel.failures"]
    assert record.exc_info is not None
    assert record.exc_info[0] is KeyError


async def test_a_started_response_is_not_replaced(app_client: httpx.AsyncClient) -> None:
    """Headers already went out: the error goes to the server, which drops the connection."""
    with pytest.raises(RuntimeError, match="after the response started"):
        await app_client.get("/half")


# A real server whose database goes away


class _CuttableProxy:
    """A TCP proxy to PostgreSQL, in its own thread, that the test can cut: open
    connections are reset and new ones refused until it is opened again."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    def _run(self, coro: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)

    def open(self) -> None:
        self._run(self._start())

    def cut(self) -> None:
        self._run(self._cut())

    def close(self) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _start(self) -> None:
        self._server = await asyncio.start_server(
            self._pipe, "127.0.0.1", self.port, reuse_address=True
        )

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._open |= {writer, up_writer}

        async def copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))
        self._open -= {writer, up_writer}


@pytest.fixture(scope="module")
def proxied(
    database: Backend, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, _CuttableProxy]]:
    """`laurel serve` whose only way to the test database is a proxy the test can cut."""
    if not on_postgres():
        pytest.skip("needs PostgreSQL")
    url = urlsplit(database.database_url)
    proxy = _CuttableProxy(url.hostname or "127.0.0.1", url.port or 5432)
    proxy.open()
    netloc = f"{url.username}@127.0.0.1:{proxy.port}" if url.username else f"127.0.0.1:{proxy.port}"
    via_proxy = Backend("postgres", urlunsplit(url._replace(netloc=netloc)), database.redis_url)
    try:
        with serving(via_proxy, tmp_path_factory.mktemp("proxied")) as base:
            yield base, proxy
    finally:
        proxy.close()


def _post(base: str, query: str, key: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.post(f"{base}/graphql", json={"query": query}, headers=headers, timeout=30)


def _until_recovered(base: str, query: str, key: str | None = None) -> httpx.Response:
    """Once the database is back the same request succeeds (the pool reconnects)."""
    deadline = time.monotonic() + 15
    while True:
        response = _post(base, query, key)
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


@needs_postgres
def test_the_api_key_lookup_answers_503_when_the_database_is_gone(
    proxied: tuple[str, _CuttableProxy], keys: dict[str, str]
) -> None:
    base, proxy = proxied
    key = keys["SERVICE"]
    assert _until_recovered(base, "{ __typename }", key).status_code == 200
    proxy.cut()
    try:
        for _ in range(3):  # the pooled connection is lost, then reconnecting is refused
            response = _post(base, "{ __typename }", key)
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "1"
            assert response.headers["content-type"] == "application/json"
            assert response.json() == UNAVAILABLE
    finally:
        proxy.open()
    recovered = _until_recovered(base, "{ __typename }", key)
    assert recovered.status_code == 200, recovered.text


@needs_postgres
def test_a_graphql_resolver_answers_503_when_the_database_is_gone(
    proxied: tuple[str, _CuttableProxy],
) -> None:
    base, proxy = proxied
    assert _until_recovered(base, PRIZES).status_code == 200
    proxy.cut()
    try:
        # Another document than the one just answered: an anonymous answer may come from
        # the response cache for a second (server/response_cache.py), without the database.
        response = _post(base, PRIZES.replace("first: 5", "first: 4"))
    finally:
        proxy.open()
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    [error] = response.json()["errors"]
    assert error["message"] == UNAVAILABLE_MESSAGE  # not masked as "Unexpected error."
    assert error["extensions"] == {"code": "SERVICE_UNAVAILABLE"}
    assert error["path"] == ["prizes"]
    assert _until_recovered(base, PRIZES).status_code == 200
