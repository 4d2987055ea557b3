"""`laurel serve` as a fresh clone runs it: SQLite in the data dir, its own Valkey,
a clean stop on SIGTERM and a clean restart after a crash."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.embedded_only

LAUREL = str(Path(sys.executable).with_name("laurel"))  # the installed console script
BOARD = "{ leaderboard(first: 5) { totalMembers entries { rank score member { displayName } } } }"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting to be reaped is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _wait_gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while _running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@dataclass
class Served:
    """A running `laurel serve` and the file its output goes to."""

    proc: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def _serve(data_dir: Path, port: int, *args: str) -> Iterator[Served]:
    """`laurel serve ARGS` in its own session; the whole process group dies at the end."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUREL_")}
    env |= {"LAUREL_DATA_DIR": str(data_dir), "LAUREL_PORT": str(port)}
    log = data_dir / f"serve-{port}-{time.monotonic_ns()}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [LAUREL, "serve", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield Served(proc, log)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _wait_healthy(server: Served, port: int) -> dict[str, Any]:
    """Poll /healthz until it answers 200; fail with the server's output otherwise."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            pytest.fail(f"laurel serve exited with {server.proc.returncode}:\n{server.output()}")
        with contextlib.suppress(httpx.TransportError):
            response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            if response.status_code == 200:
                body: dict[str, Any] = response.json()
                return body
        time.sleep(0.2)
    pytest.fail(f"laurel serve did not answer /healthz in {START_TIMEOUT} s:\n{server.output()}")


def _valkey_pid(data_dir: Path) -> int:
    """The embedded valkey-server's pid, from its pidfile; checked to be that server."""
    pid = int((data_dir / "valkey" / "valkey.pid").read_text().strip())
    assert b"valkey-server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    assert _running(pid)
    return pid


def _board(port: int) -> dict[str, Any]:
    response = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": BOARD}, timeout=10)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    board: dict[str, Any] = body["data"]["leaderboard"]
    return board


def _assert_demo_board(board: dict[str, Any]) -> None:
    entries = board["entries"]
    assert board["totalMembers"] >= len(entries) == 5
    ranks = [e["rank"] for e in entries]
    scores = [e["score"] for e in entries]
    assert ranks[0] == 1
    assert ranks == sorted(ranks)
    assert scores == sorted(scores, reverse=True)
    assert all(score > 0 for score in scores)
    # Demo members are named "First Last".
    assert all(len(e["member"]["displayName"].split()) == 2 for e in entries)


def test_serve_answers_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    with _serve(tmp_path, port, "--seed-demo") as server:
        health = _wait_healthy(server, port)
        assert (health["status"], health["database"], health["redis"]) == ("ok", True, "ok")
        assert set(health["events"]["consumers"]) == {
            "boards",
            "effects",
            "live",
            "hooks",
            "webhooks",
            "viewer",
        }
        assert health["events"]["consumers"]["boards"]["lag"] == 0
        valkey = _valkey_pid(tmp_path)

        _assert_demo_board(_board(port))

        index = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert index.status_code == 200
        assert index.headers["content-type"].startswith("text/html")
        assert "<html" in index.text.lower()

        graphiql = httpx.get(
            f"http://127.0.0.1:{port}/graphql", headers={"Accept": "text/html"}, timeout=5
        )
        assert graphiql.status_code == 200
        assert graphiql.headers["content-type"].startswith("text/html")
        assert "graphiql" in graphiql.text.lower()

        server.proc.send_signal(signal.SIGTERM)
        try:
            server.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"laurel serve still runs {STOP_TIMEOUT} s after SIGTERM")
        assert _wait_gone(valkey), f"valkey-server {valkey} outlived laurel serve"
        assert "Traceback" not in server.output()


def test_serve_recovers_from_a_killed_predecessor(tmp_path: Path) -> None:
    port = _free_port()
    with _serve(tmp_path, port, "--seed-demo") as crashed:
        _wait_healthy(crashed, port)
        board_before = _board(port)
        _assert_demo_board(board_before)
        orphan = _valkey_pid(tmp_path)
        crashed.proc.kill()  # the parent only: its valkey-server is left behind
        crashed.proc.wait(timeout=10)

        with _serve(tmp_path, port) as restarted:
            health = _wait_healthy(restarted, port)
            assert health["status"] == "ok"
            assert health["redis"] == "ok"
            assert _wait_gone(orphan), f"the orphaned valkey-server {orphan} still runs"
            assert _valkey_pid(tmp_path) != orphan
            # Nothing was seeded this time: the board comes from the persisted data.
            assert _board(port) == board_before
