"""uvicorn's supervisor, mended: a worker killed while the parent waits for its
health-check answer is seen within a moment, not after the whole timeout."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.connection import Connection

from server.cli import supervision


def _never_answer(conn: Connection) -> None:
    time.sleep(60)


def _answer_once(conn: Connection) -> None:
    conn.recv()
    conn.send(True)  # started
    time.sleep(60)


def _handle(target: object) -> supervision._Process:
    """The worker handle with only what a health check uses: the pipe and the process."""
    context = multiprocessing.get_context("spawn")
    handle = object.__new__(supervision._Process)
    handle.parent_conn, handle.child_conn = context.Pipe()
    handle.process = context.Process(target=target, args=(handle.child_conn,))  # type: ignore[arg-type]
    handle.process.start()
    return handle


def test_a_worker_killed_while_its_check_waits_is_seen_at_once() -> None:
    handle = _handle(_never_answer)
    try:
        time.sleep(1.0)
        assert handle.process.is_alive()  # it waits: killed below while the check waits
        threading.Timer(1.0, os.kill, (handle.process.pid, signal.SIGKILL)).start()
        began = time.monotonic()
        assert handle._healthcheck(30) is None
        # uvicorn's own check sat out all 30 s: the pipe's other end stays open in the parent.
        assert time.monotonic() - began < 10
    finally:
        handle.process.kill()
        handle.process.join()


def test_a_live_worker_still_answers_its_check() -> None:
    handle = _handle(_answer_once)
    try:
        assert handle._healthcheck(30) is True
        assert handle.process.is_alive()
    finally:
        handle.process.kill()
        handle.process.join()
