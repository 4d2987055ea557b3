"""Real `laurel serve` processes for tests that need several workers or processes."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Backend

REPO = Path(__file__).resolve().parents[1]
SECRET = "process-test-secret-" + "y" * 32


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(
    backend: Backend, data: Path, *, workers: int = 1, env: dict[str, str] | None = None
) -> Iterator[str]:
    """`python -m server serve --workers N` on the test database and Redis; yields its URL.
    ``env`` adds to (or overrides) the server's environment."""
    with server_process(backend, data, workers=workers, env=env) as (_, base):
        yield base


@contextlib.contextmanager
def server_process(
    backend: Backend, data: Path, *, workers: int = 1, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Like ``serving``, also yielding the process (the leader of its own process group,
    for tests that kill it)."""
    port = free_port()
    env = {
        **os.environ,
        "LAUREL_DATABASE_URL": backend.database_url,
        "LAUREL_REDIS_URL": backend.redis_url,
        "LAUREL_JWT_SECRET": SECRET,
        "LAUREL_DATA_DIR": str(data),
        "LAUREL_HOST": "127.0.0.1",
        "LAUREL_PORT": str(port),
        "LAUREL_LOG_LEVEL": "warning",
        # Load tests are not what rate limits are about (test_rate_limits.py turns them on).
        "LAUREL_RATE_LIMIT_ENABLED": "false",
        **(env or {}),
    }
    data.mkdir(parents=True, exist_ok=True)
    log_path = data / f"server-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--workers", str(workers)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        problem = wait_healthy(process, base, log_path, seconds=60)
        if problem:
            pytest.fail(problem)
        yield process, base
    finally:
        stop(process)


def wait_healthy(
    process: subprocess.Popen[bytes], base: str, log_path: Path, *, seconds: float
) -> str | None:
    """None once /healthz answers 200; else what went wrong, with the server's log."""
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            return f"the server exited with {process.returncode}:\n{log_path.read_text()}"
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return None
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            return f"the server did not become healthy:\n{log_path.read_text()}"
        time.sleep(0.2)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group (uvicorn and its workers), then SIGKILL."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
