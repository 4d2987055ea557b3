"""What the HTTP benchmarks share: a benchmark server process on the embedded defaults
(SQLite + a private Valkey), started on a free port and waited for."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import uvicorn

from leaderboards import EmbeddedValkey, Leaderboards, connect
from server.db import apply_migrations, orm
from server.settings import Settings

__all__ = [
    "embedded",
    "free_port",
    "serve",
    "stop_group",
    "stop_on_sigterm",
    "wait_until_answers",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_answers(
    port: int, proc: subprocess.Popen[bytes], path: str, *, attempts: int = 600
) -> None:
    """Until ``GET path`` answers (a server listens once it has seeded its data)."""
    for _ in range(attempts):
        if proc.poll() is not None:
            raise SystemExit("benchmark server exited early")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("benchmark server did not start")


@asynccontextmanager
async def embedded(data_dir: Path, secret: str) -> AsyncIterator[tuple[Settings, Leaderboards]]:
    """Settings (LAUREL_* from the environment), a migrated SQLite database with the ORM
    open, and boards on a private Valkey, stopped on the way out."""
    # Rate limits off unless the environment says (a bench's load comes from one address;
    # bench.rate_limit sets LAUREL_RATE_LIMIT_ENABLED to measure them). An argument would
    # override the environment, so it is only given when the environment is silent.
    settings = Settings(data_dir=data_dir, jwt_secret=secret)
    if "LAUREL_RATE_LIMIT_ENABLED" not in os.environ:
        settings = settings.model_copy(update={"rate_limit_enabled": False})
    valkey = EmbeddedValkey(data_dir)
    redis = connect(valkey.start())
    try:
        await apply_migrations(settings.resolved_database_url)
        async with orm(settings.resolved_database_url):
            yield settings, Leaderboards(redis)
    finally:
        await redis.aclose()
        valkey.stop()


async def serve(app: Any, port: int) -> None:
    """Serve ``app`` on 127.0.0.1 until stopped, quietly (no access log, no lifespan)."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off"
    )
    await uvicorn.Server(config).serve()


def _exit(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def stop_on_sigterm() -> None:
    """uvicorn re-raises the SIGTERM it handled; make it an exception, so that the
    ``embedded`` context stops its Valkey."""
    signal.signal(signal.SIGTERM, _exit)


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM a server's process group (uvicorn and its workers), then SIGKILL."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
