"""A real Redis Cluster for tests: 3 masters and 3 replicas from the ``redis-server``
binary on free ports, created with ``redis-cli --cluster create``.

Without ``redis-server``/``redis-cli`` on PATH the tests that need it skip, or fail
when ``LAUREL_TEST_REQUIRE_CLUSTER=1`` (CI, where a skip would hide a regression).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

__all__ = ["Cluster", "redis_cluster"]

_NODE_TIMEOUT_MS = 1000


@dataclass
class Cluster:
    """The nodes of a running cluster; ``url`` is a seed node's."""

    ports: list[int]
    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def cli(self, port: int, *args: str) -> str:
        done = subprocess.run(
            ["redis-cli", "-p", str(port), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return done.stdout

    def alive(self) -> list[int]:
        return [p for p, proc in self.processes.items() if proc.poll() is None]

    def masters(self) -> list[int]:
        """Ports of the masters whose process runs, as a live node's CLUSTER NODES says
        (a killed master stays listed until the others agree that it failed)."""
        alive = self.alive()
        for port in alive:
            lines = self.cli(port, "cluster", "nodes").splitlines()
            if lines:
                found = (
                    int(parts[1].split("@")[0].rsplit(":", 1)[1])
                    for parts in (line.split() for line in lines)
                    if "master" in parts[2] and "fail" not in parts[2]
                )
                return sorted(p for p in found if p in alive)
        return []

    def kill(self, port: int) -> None:
        """SIGKILL one node: no shutdown, no last write."""
        process = self.processes[port]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def wait_ok(self, seconds: float = 20, *, masters: int = 3) -> None:
        """Until every live node says ``cluster_state:ok`` with ``masters`` masters."""
        deadline = time.monotonic() + seconds
        while True:
            states = [self.cli(p, "cluster", "info") for p in self.alive()]
            if all("cluster_state:ok" in s for s in states) and len(self.masters()) == masters:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"the cluster is not ok: {states}")
            time.sleep(0.1)


def _missing_binaries() -> str | None:
    missing = [b for b in ("redis-server", "redis-cli") if shutil.which(b) is None]
    return f"{' and '.join(missing)} not on PATH: no Redis Cluster to test on" if missing else None


@contextlib.contextmanager
def redis_cluster(data: Path) -> Iterator[Cluster]:
    """Six nodes in ``data``, made a cluster of three masters with a replica each."""
    problem = _missing_binaries()
    if problem:
        if os.environ.get("LAUREL_TEST_REQUIRE_CLUSTER") == "1":
            pytest.fail(problem + " (LAUREL_TEST_REQUIRE_CLUSTER=1)")
        pytest.skip(problem)
    cluster = Cluster(ports=_free_ports(6))
    try:
        for port in cluster.ports:
            node = data / str(port)
            node.mkdir(parents=True)
            options = {
                "port": str(port),
                "bind": "127.0.0.1",
                "dir": str(node),
                "cluster-enabled": "yes",
                "cluster-config-file": str(node / "nodes.conf"),
                "cluster-node-timeout": str(_NODE_TIMEOUT_MS),
                "appendonly": "no",
                "save": "",
            }
            command = ["redis-server", *(a for k, v in options.items() for a in (f"--{k}", v))]
            with (node / "log").open("wb") as log:
                cluster.processes[port] = subprocess.Popen(
                    command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
        for port in cluster.ports:
            _wait_answers(cluster, port)
        nodes = [f"127.0.0.1:{p}" for p in cluster.ports]
        created = subprocess.run(
            [
                "redis-cli",
                "--cluster",
                "create",
                *nodes,
                "--cluster-replicas",
                "1",
                "--cluster-yes",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if created.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed:\n{created.stdout}")
        cluster.wait_ok()
        yield cluster
    finally:
        for process in cluster.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in cluster.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _free_ports(n: int) -> list[int]:
    """``n`` ports free with their cluster bus port (port + 10000, so below 55536)."""
    found: list[int] = []
    while len(found) < n:
        port = random.randrange(20_000, 45_000)
        if port not in found and all(_free(p) for p in (port, port + 10_000)):
            found.append(port)
    return found


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _wait_answers(cluster: Cluster, port: int, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while "PONG" not in cluster.cli(port, "ping"):
        if cluster.processes[port].poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"redis-server on port {port} did not start")
        time.sleep(0.05)
