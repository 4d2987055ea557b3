"""A worker SIGKILLed under load is replaced and stays up: `laurel serve --workers 2` on
PostgreSQL + Redis, a few clients querying /graphql and /healthz, one worker killed.

uvicorn's parent starts a replacement at once; the replacement must answer the parent's
health check while it is still starting (it re-imports the `laurel` script) or it is
killed in turn. Run with ``-s`` to see the timings and failed requests.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Backend, on_postgres
from tests.servers import REPO, SECRET, free_port, stop, wait_healthy

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not on_postgres(), reason="needs PostgreSQL: workers share the database"),
]

LAUREL = str(Path(sys.executable).with_name("laurel"))  # the console script, as deployed
WORKERS = 2
CLIENTS = 4
REPLACED_WITHIN = 10.0
STAYS_UP_FOR = 10.0
QUERY = "{ prizes(first: 5) { edges { cursor } } leaderboard(first: 5) { totalMembers } }"


def _children(parent: int) -> dict[int, str]:
    """Live child processes of ``parent``: pid -> command line."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        state, ppid = stat.rpartition(")")[2].split()[:2]
        if int(ppid) == parent and state != "Z":
            found[int(entry.name)] = cmdline
    return found


def _workers(parent: int) -> set[int]:
    """uvicorn's workers: spawned interpreters (not the resource tracker)."""
    return {pid for pid, cmd in _children(parent).items() if "spawn_main" in cmd}


def _serving_connections(pid: int, port: int) -> int:
    """Established TCP connections on ``port`` that ``pid`` holds: it accepted requests."""
    inodes: set[str] = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    count = 0
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
                fields = line.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                if local_port == port and fields[3] == "01" and fields[9] in inodes:
                    count += 1
    return count


class _Load:
    """Clients hammering /graphql and /healthz on fresh connections (so that a new worker
    gets some), counting outcomes per second since the start."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.stop = threading.Event()
        self.outcomes: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(i,)) for i in range(CLIENTS)]

    def __enter__(self) -> _Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _run(self, i: int) -> None:
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=self.base, timeout=10, limits=limits) as http:
            while not self.stop.is_set():
                try:
                    if i % 2:
                        response = http.get("/healthz")
                    else:
                        response = http.post("/graphql", json={"query": QUERY})
                    outcome = "ok" if response.status_code == 200 else str(response.status_code)
                except httpx.TransportError as exc:
                    outcome = type(exc).__name__
                with self._lock:
                    self.outcomes.append((time.monotonic(), outcome))

    def since(self, start: float) -> Counter[str]:
        with self._lock:
            return Counter(outcome for at, outcome in self.outcomes if at >= start)


@contextlib.contextmanager
def _laurel_serve(backend: Backend, data: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUREL_")}
    env |= {
        "LAUREL_DATABASE_URL": backend.database_url,
        "LAUREL_REDIS_URL": backend.redis_url,
        "LAUREL_JWT_SECRET": SECRET,
        "LAUREL_DATA_DIR": str(data),
        "LAUREL_PORT": str(port),
        "LAUREL_LOG_LEVEL": "info",
        "LAUREL_RATE_LIMIT_ENABLED": "false",  # the load below is one client address
        "PYTHONPATH": str(REPO),  # this checkout, whichever one the venv was installed from
    }
    data.mkdir(parents=True, exist_ok=True)
    log = data / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [LAUREL, "serve", "--workers", str(WORKERS)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        problem = wait_healthy(proc, f"http://127.0.0.1:{port}", log, seconds=60)
        if problem:
            pytest.fail(problem)
        deadline = time.monotonic() + 30
        while len(_workers(proc.pid)) < WORKERS and time.monotonic() < deadline:
            time.sleep(0.1)
        yield proc, port
    finally:
        stop(proc)
        print(log.read_text(errors="replace")[-3000:])


def test_a_killed_worker_is_replaced_and_stays_up(
    database: Backend, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with (
        _laurel_serve(database, tmp_path / "serve") as (proc, port),
        _Load(f"http://127.0.0.1:{port}") as load,
    ):
        before = _workers(proc.pid)
        assert len(before) == WORKERS, _children(proc.pid)
        time.sleep(2)
        assert load.since(0)["ok"] > 0, load.since(0)

        victim = min(before)
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        replacement: int | None = None
        replaced_after = serving_after = None
        while time.monotonic() - killed_at < REPLACED_WITHIN:
            new = _workers(proc.pid) - before
            if new and replacement is None:
                replacement = new.pop()
                replaced_after = time.monotonic() - killed_at
            if replacement is not None and _serving_connections(replacement, port) > 0:
                serving_after = time.monotonic() - killed_at
                break
            time.sleep(0.05)
        assert replacement is not None, f"no new worker within {REPLACED_WITHIN} s"
        assert serving_after is not None, f"worker {replacement} took no request in time"

        settled = time.monotonic()
        time.sleep(STAYS_UP_FOR)
        after = _workers(proc.pid)
        last = load.since(time.monotonic() - STAYS_UP_FOR / 2)
        around_kill = load.since(killed_at)
        assert proc.poll() is None
        # The replacement was not killed by a failed health check, and nothing else died.
        assert after == (before - {victim}) | {replacement}, (before, after)
        assert set(last) == {"ok"}, last
        assert last["ok"] > 10, last
        failed = sum(n for outcome, n in around_kill.items() if outcome != "ok")
        with capsys.disabled():
            print(
                f"\nworker {victim} killed; {replacement} started after {replaced_after:.2f} s"
                f" and took requests after {serving_after:.2f} s;"
                f" {failed} of {sum(around_kill.values())} requests failed since the kill"
                f" ({dict(around_kill)}); {WORKERS} workers {time.monotonic() - settled:.0f} s on"
            )
        assert failed <= 2 * CLIENTS, around_kill
