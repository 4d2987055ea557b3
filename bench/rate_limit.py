"""What the rate limiter costs: ``leaderboard(first: 10)`` req/s with rate limiting on vs
off, two otherwise identical servers (``bench.leaderboard_server``, default 1 s top-page
cache), measured in alternating rounds. The limit is far above what the load reaches,
so every request pays the limiter's Redis round trip and none is refused.
Target: ratio >= 0.9.

Before measuring, two wrong credentials sent to each server show the limiter is
really counting on the "on" server (the second answers 429) and absent on the other.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import orjson

from bench.loadgen import alternating, http_request
from bench.servers import free_port, wait_until_answers

__all__ = ["run"]

ROUNDS = 3
SECONDS = 3.0
CONNECTIONS = 16
TARGET = 0.9
MEMBERS = "2000"
QUERY = (
    "{ leaderboard(first: 10) { totalMembers entries { rank score member { id displayName } } } }"
)


@contextmanager
def _server(enabled: bool) -> Iterator[int]:
    with tempfile.TemporaryDirectory(prefix="laurel-bench-rl-") as tmp:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("LAUREL_")}
        env["LAUREL_RATE_LIMIT_ENABLED"] = "true" if enabled else "false"
        env["LAUREL_RATE_LIMIT_PER_ADDRESS"] = "100000000/minute"  # never reached
        env["LAUREL_RATE_LIMIT_FAILED_AUTH"] = "1/minute"  # for the check below
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.leaderboard_server", tmp, str(port), MEMBERS],
            env=env,
            start_new_session=True,
        )
        try:
            wait_until_answers(port, proc, "/plain/top10")
            yield port
        finally:
            proc.terminate()
            proc.wait(timeout=15)


def _wrong_key_status(port: int) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=orjson.dumps({"query": "{ __typename }"}),
        headers={"Content-Type": "application/json", "Authorization": "Bearer lrl_bench_wrong"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (http://127.0.0.1)
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _check_limiter(on: int, off: int) -> None:
    seen = {port: [_wrong_key_status(port) for _ in range(2)] for port in (on, off)}
    if seen[on] != [401, 429] or seen[off] != [401, 401]:
        raise SystemExit(f"rate_limit: limiter not as configured: on {seen[on]}, off {seen[off]}")


async def _load(on: int, off: int) -> tuple[float, float]:
    request = http_request("POST", "/graphql", orjson.dumps({"query": QUERY}), "application/json")
    return await alternating(
        (on, request), (off, request), rounds=ROUNDS, seconds=SECONDS, connections=CONNECTIONS
    )


def run() -> None:
    with ExitStack() as stack:
        on = stack.enter_context(_server(enabled=True))
        off = stack.enter_context(_server(enabled=False))
        _check_limiter(on, off)
        limited, free = asyncio.run(_load(on, off))
    ratio = limited / free
    verdict = "ok" if ratio >= TARGET else "BELOW TARGET"
    with open("/proc/loadavg") as handle:
        load = " ".join(handle.read().split()[:3])
    print(
        f"rate_limit: leaderboard(first: 10) limiter on {limited:,.0f} req/s, "
        f"off {free:,.0f} req/s, ratio {ratio:.2f} (target >= {TARGET:.2f}) {verdict} "
        f"[load average {load}]"
    )


if __name__ == "__main__":
    run()
