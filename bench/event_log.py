"""The event log: how soon a committed ``adjustPoints`` is on the board, and how many a
second reach it end to end, with ``laurel serve --workers 4`` on PostgreSQL + Redis.

Commit to board: 300 mutations at about 100/s from 4 clients; per mutation, the time
from its response (the commit) until the all-time global board in Redis shows the new
score (read directly, ZMSCORE about every millisecond). Events/s end to end: 16 clients
send mutations for 10 s; the count over the time until the board's sum holds them all.

Floor: the same mutations against the tree before the log (commit 21de1f1, where each
mutation flushed an SQL outbox to Redis right after its commit), checked out in a git
worktree and served the same way in the same run, on its own database. Servers run
alternately (log, floor, log, floor) so drift hits both alike. Target: events/s end to
end >= 0.8 of the floor's.

Needs LAUREL_BENCH_DATABASE_URL (a PostgreSQL server; each run creates and drops a
database ``laurel_bench_<random>`` on it) and LAUREL_BENCH_REDIS_URL (a database of its
own: it is flushed). Without them it says so and skips.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from redis.asyncio import Redis

from bench.pg_servers import Connection, bench_urls, loadavg, percentile, serving
from leaderboards import Board, connect
from leaderboards.windows import board_key

__all__ = ["run"]

FLOOR_COMMIT = "21de1f1"
REPO = Path(__file__).resolve().parents[1]
# The all-time global board; its key has no period, and 21de1f1 names it the same.
BOARD = board_key("laurel", Board(), datetime.now(UTC))
WORKERS = 4
MEMBERS = 200
LATENCY_MUTATIONS = 300
LATENCY_CLIENTS = 4
LATENCY_RATE = 100.0  # mutations/s over all latency clients: moderate, not saturating
LOAD_CLIENTS = 16
LOAD_SECONDS = float(os.environ.get("BENCH_EVENT_LOG_SECONDS", "10"))
TARGET = 0.8
# Which worker takes a keep-alive connection is up to the kernel, and uneven (10 of 16
# on one worker was seen); only one worker projects inline, so the load clients
# reconnect now and then to average that out, and each latency mutation connects anew.
_REQUESTS_PER_CONNECTION = 25
_SERVER = (sys.executable, "-m", "server")

_UPSERT = (
    "mutation($e: String!) { upsertMember(input: {externalId: $e, displayName: $e}) "
    "{ __typename ... on MemberSaved { member { id } } } }"
)
# +1 each: a member stays far below the first points badge (500), so no bonus points
# land on the board and its sum is exactly what was credited.
_ADJUST = (
    "mutation($k: String!, $m: ID!) { adjustPoints(input: {idempotencyKey: $k, memberId: $m, "
    'amount: 1, reason: "bench"}) { __typename } }'
)


@dataclass
class _Result:
    latencies_ms: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)


async def _adjust(conn: Connection, key: str, member: str) -> None:
    done = await conn.mutate(key, _ADJUST, {"k": secrets.token_hex(8), "m": member})
    if done["__typename"] != "PointsAdjusted":
        raise RuntimeError(f"adjustPoints answered {done}")


async def _seed(port: int, key: str) -> list[str]:
    async def some(start: int) -> list[str]:
        async with Connection.open(port) as conn:
            return [
                (await conn.mutate(key, _UPSERT, {"e": f"bench-{i}"}))["member"]["id"]
                for i in range(start, MEMBERS, 8)
            ]

    return [m for ids in await asyncio.gather(*(some(s) for s in range(8))) for m in ids]


async def _scores(redis: Redis, members: list[str]) -> list[float]:
    return [s or 0.0 for s in await redis.zmscore(BOARD, members)]


async def _latency(port: int, key: str, redis: Redis, members: list[str]) -> list[float]:
    """Per mutation, ms from its response (the commit) until the board shows it. Each
    client owns its members, so a member's score after a +1 is known; one watcher
    checks every pending mutation in one ZMSCORE, about every millisecond."""
    expected = dict(zip(members, await _scores(redis, members), strict=True))
    pending: list[tuple[str, float, float]] = []  # member, score to reach, response time
    latencies: list[float] = []
    arrived = asyncio.Event()
    sent = asyncio.Event()

    async def client(mine: list[str], count: int) -> None:
        interval = LATENCY_CLIENTS / LATENCY_RATE
        for i in range(count):
            began = time.perf_counter()
            member = mine[i % len(mine)]
            async with Connection.open(port) as conn:  # any worker may take it
                await _adjust(conn, key, member)
            expected[member] += 1
            pending.append((member, expected[member], time.perf_counter()))
            arrived.set()
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - began)))

    async def watcher() -> None:
        while pending or not sent.is_set():
            if not pending:
                await arrived.wait()
                arrived.clear()
                continue
            scores = await redis.zmscore(BOARD, [m for m, _, _ in pending])
            seen = time.perf_counter()
            left = []
            for (member, score, answered), now in zip(pending[: len(scores)], scores, strict=True):
                if (now or 0.0) >= score:
                    latencies.append((seen - answered) * 1000)
                else:
                    left.append((member, score, answered))
            pending[: len(scores)] = left
            await asyncio.sleep(0.001)

    async def clients() -> None:
        share = LATENCY_MUTATIONS // LATENCY_CLIENTS
        await asyncio.gather(
            *(client(members[c::LATENCY_CLIENTS], share) for c in range(LATENCY_CLIENTS))
        )
        sent.set()
        arrived.set()

    await asyncio.wait_for(asyncio.gather(clients(), watcher()), timeout=120)
    return latencies


async def _board_sum(redis: Redis) -> int:
    rows = cast(list[tuple[str, float]], await redis.zrange(BOARD, 0, -1, withscores=True))
    return int(sum(score for _, score in rows))


async def _throughput(port: int, key: str, redis: Redis, members: list[str]) -> float:
    """Mutations/s from the first request until the board sum shows every one of them."""
    before = await _board_sum(redis)
    counts = [0]

    async def client(mine: list[str], deadline: float) -> None:
        i = 0
        while time.perf_counter() < deadline:
            async with Connection.open(port) as conn:
                for _ in range(_REQUESTS_PER_CONNECTION):
                    await _adjust(conn, key, mine[i % len(mine)])
                    counts[0] += 1
                    i += 1
                    if time.perf_counter() >= deadline:
                        break

    began = time.perf_counter()
    deadline = began + LOAD_SECONDS
    await asyncio.gather(*(client(members[c::LOAD_CLIENTS], deadline) for c in range(LOAD_CLIENTS)))
    while (on_board := await _board_sum(redis) - before) < counts[0]:
        if time.perf_counter() - deadline > 60:
            raise RuntimeError(f"only {on_board} of {counts[0]} mutations reached the board")
        await asyncio.sleep(0.002)
    ended = time.perf_counter()
    if on_board != counts[0]:
        raise RuntimeError(f"the board gained {on_board} points for {counts[0]} credits")
    return counts[0] / (ended - began)


async def _measure(port: int, key: str, redis_url: str, into: _Result) -> None:
    redis = connect(redis_url)
    try:
        members = await _seed(port, key)
        into.latencies_ms += await _latency(port, key, redis, members)
        into.rates.append(await _throughput(port, key, redis, members))
    finally:
        await redis.aclose()


@contextlib.contextmanager
def _floor_tree() -> Iterator[Path | None]:
    """A worktree of the commit before the event log, removed on the way out; None
    without that commit (a shallow clone, an export)."""
    git = ["git", "-C", str(REPO)]
    found = subprocess.run(
        [*git, "cat-file", "-e", f"{FLOOR_COMMIT}^{{commit}}"], capture_output=True
    )
    if found.returncode != 0:
        yield None
        return
    path = Path(tempfile.gettempdir()) / f"laurel-floor-{secrets.token_hex(4)}"
    subprocess.run(
        [*git, "worktree", "add", "--detach", str(path), FLOOR_COMMIT],
        capture_output=True,
        check=True,
    )
    try:
        yield path
    finally:
        subprocess.run([*git, "worktree", "remove", "--force", str(path)], capture_output=True)


def _each(rates: list[float]) -> str:
    return ", ".join(f"{r:,.0f}" for r in rates) or "-"


def run() -> None:
    urls = bench_urls("event_log")
    if urls is None:
        return
    base_url, redis_url = urls
    load_before = loadavg()
    log, floor = _Result(), _Result()
    with _floor_tree() as tree:
        runs = [(REPO, log), (tree, floor)] * 2 if tree else [(REPO, log)] * 2
        for source, into in runs:
            with serving(source, base_url, redis_url) as server:
                asyncio.run(_measure(server.port, server.key, redis_url, into))
    rate = statistics.mean(log.rates)
    line = (
        f"event_log: commit-to-board p50 {percentile(log.latencies_ms, 50):.1f} ms "
        f"p99 {percentile(log.latencies_ms, 99):.1f} ms"
    )
    if floor.rates:
        before = statistics.mean(floor.rates)
        ratio = rate / before
        line += (
            f" (before: p50 {percentile(floor.latencies_ms, 50):.1f} ms "
            f"p99 {percentile(floor.latencies_ms, 99):.1f} ms); events/s end to end "
            f"{rate:,.0f} (before: {before:,.0f}), ratio {ratio:.2f} (target >= {TARGET}) "
            f"{'ok' if ratio >= TARGET else 'BELOW TARGET'}"
        )
    else:
        line += (
            f"; events/s end to end {rate:,.0f} (no floor: commit {FLOOR_COMMIT} "
            "is not in this clone's history, so absolute numbers only)"
        )
    print(f"{line}; load average {load_before} at start, {loadavg()} at end")
    print(f"event_log: events/s of each server: log {_each(log.rates)}; floor {_each(floor.rates)}")


if __name__ == "__main__":
    run()
