"""What the PostgreSQL benchmarks share: ``laurel serve --workers N`` from a source tree
on a fresh database of its own, an admin key, and a cheap keep-alive GraphQL client."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from bench.servers import free_port, stop_group
from leaderboards import connect

__all__ = [
    "JWT_SECRET",
    "Connection",
    "Serving",
    "api_key",
    "bench_urls",
    "database",
    "loadavg",
    "percentile",
    "serving",
]

WORKERS = 4
_SERVER = (sys.executable, "-m", "server")


class Connection:
    """One keep-alive HTTP/1.1 connection posting GraphQL as an admin (plain asyncio
    streams: the client stays cheap next to four workers on the same machine)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, port: int) -> AsyncIterator[Connection]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            yield cls(reader, writer)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def mutate(self, key: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """The mutation's result; raises unless it answered 200 without errors."""
        body = orjson.dumps({"query": query, "variables": variables})
        self.writer.write(
            b"POST /graphql HTTP/1.1\r\nHost: bench\r\nConnection: keep-alive\r\n"
            b"Content-Type: application/json\r\nAuthorization: Bearer " + key.encode() + b"\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        answer = orjson.loads(await self.reader.readexactly(length))
        if not head.startswith(b"HTTP/1.1 200") or "errors" in answer:
            raise RuntimeError(f"{head.splitlines()[0]!r}: {answer}")
        data: dict[str, Any] = next(iter(answer["data"].values()))
        return data


async def database(base_url: str, sql: str) -> None:
    conn = await asyncpg.connect(base_url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.contextmanager
def scratch_database(base_url: str, prefix: str) -> Iterator[str]:
    """A new database beside ``base_url``'s, dropped on the way out: its URL."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    asyncio.run(database(base_url, f'CREATE DATABASE "{name}"'))
    try:
        yield f"{base_url.rpartition('/')[0]}/{name}"
    finally:
        asyncio.run(database(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _flush(redis_url: str) -> None:
    redis = connect(redis_url)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


JWT_SECRET = "pg-bench-" + "z" * 32


def bench_urls(name: str) -> tuple[str, str] | None:
    """LAUREL_BENCH_DATABASE_URL and LAUREL_BENCH_REDIS_URL, or None (said so) without them."""
    base_url = os.environ.get("LAUREL_BENCH_DATABASE_URL")
    redis_url = os.environ.get("LAUREL_BENCH_REDIS_URL")
    if base_url and redis_url:
        return base_url, redis_url
    print(
        f"{name}: skipped (needs PostgreSQL + Redis: set LAUREL_BENCH_DATABASE_URL "
        "and LAUREL_BENCH_REDIS_URL)"
    )
    return None


def _environment(
    tree: Path, database_url: str, redis_url: str, data: Path, port: int
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUREL_")}
    env.update(
        PYTHONPATH=str(tree),  # this tree's packages, not an installed copy's
        LAUREL_DATABASE_URL=database_url,
        LAUREL_REDIS_URL=redis_url,
        LAUREL_JWT_SECRET=JWT_SECRET,
        LAUREL_DATA_DIR=str(data),
        LAUREL_HOST="127.0.0.1",
        LAUREL_PORT=str(port),
        LAUREL_LOG_LEVEL="warning",
        # The load comes from one address and key: the limiter (benched on its own in
        # bench.rate_limit) would throttle it; the floor's tree has none.
        LAUREL_RATE_LIMIT_ENABLED="false",
    )
    return env


def _check_imports(tree: Path, env: dict[str, str]) -> None:
    """Fail unless the server's packages come from ``tree`` (not an installed copy)."""
    packages = "badges, leaderboards, schema, server"
    code = f"import {packages}; print({packages})"
    shown = subprocess.run(
        [sys.executable, "-c", code], cwd=tree, env=env, capture_output=True, text=True, check=True
    )
    paths = re.findall(r"from '([^']+)'", shown.stdout)
    if len(paths) != 4 or not all(Path(p).resolve().is_relative_to(tree.resolve()) for p in paths):
        raise SystemExit(f"bench: not all of {packages} from {tree}: {shown.stdout}")


@dataclass(frozen=True)
class Serving:
    """A running ``laurel serve``: its port, an admin key, its environment (for more CLI
    calls), its process group id and its database's URL."""

    port: int
    key: str
    env: dict[str, str]
    group: int
    database_url: str
    tree: Path


@contextlib.contextmanager
def serving(
    tree: Path, base_url: str, redis_url: str, extra_env: dict[str, str] | None = None
) -> Iterator[Serving]:
    """A fresh database and Redis db, ``serve --workers 4`` from ``tree`` on them, and an
    admin API key; stops the server and drops the database on the way out. ``extra_env``
    adds settings."""
    asyncio.run(_flush(redis_url))
    try:
        with (
            scratch_database(base_url, "laurel_bench") as database_url,
            tempfile.TemporaryDirectory(prefix="laurel-pg-bench-") as tmp,
        ):
            port = free_port()
            env = {
                **_environment(tree, database_url, redis_url, Path(tmp), port),
                **(extra_env or {}),
            }
            _check_imports(tree, env)
            log = Path(tmp) / "server.log"
            with log.open("wb") as out:
                proc = subprocess.Popen(
                    [*_SERVER, "serve", "--workers", str(WORKERS)],
                    cwd=tree,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            try:
                _wait_healthy(proc, port, log)
                key = api_key(tree, env, "admin")
                yield Serving(port, key, env, proc.pid, database_url, tree)
            finally:
                stop_group(proc)
    finally:
        asyncio.run(_flush(redis_url))


def api_key(tree: Path, env: dict[str, str], role: str) -> str:
    made = subprocess.run(
        [*_SERVER, "create-api-key", "--role", role, "--name", f"bench {role}"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return made.stdout.split()[-1]


def _wait_healthy(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"bench: the server exited:\n{log.read_text()}")
        with contextlib.suppress(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return
        time.sleep(0.2)
    raise SystemExit(f"bench: the server did not become healthy:\n{log.read_text()}")


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])
