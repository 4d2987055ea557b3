"""uvicorn's worker supervisor with one mend: a worker that dies while the parent waits
for its health-check answer is seen at once, not after the whole timeout.

uvicorn's parent pings each worker every half second over a pipe and waits up to
``timeout_worker_healthcheck`` for the answer. It keeps the pipe's other end open itself,
so a worker killed between the ping and its answer leaves no end-of-file to notice: the
parent sat out the full timeout (60 s by default here) before it replaced that worker or
looked at any other. Here the wait is cut into short slices and the worker's process is
looked at between them (decision 0020).
"""

from __future__ import annotations

import pickle
import time

from uvicorn.supervisors import multiprocess

__all__ = ["install"]

SLICE_SECONDS = 0.25  # how often a wait for an answer looks whether the worker still lives


class _Process(multiprocess.Process):
    def _healthcheck(self, timeout: float) -> bool | None:
        """The worker's startup flag, or None if it does not answer within ``timeout``
        or is gone meanwhile."""
        deadline = time.monotonic() + timeout
        try:
            self.parent_conn.send(b"ping")
            while True:
                left = deadline - time.monotonic()
                if self.parent_conn.poll(max(0.0, min(SLICE_SECONDS, left))):
                    started: bool = self.parent_conn.recv()
                    return started
                if left <= 0 or not self.process.is_alive():
                    return None
        except (OSError, EOFError, pickle.UnpicklingError):
            return None


def install() -> None:
    """Make uvicorn's supervisor use the mended worker handle (before ``uvicorn.run``)."""
    multiprocess.Process = _Process  # type: ignore[misc]
