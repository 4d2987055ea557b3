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
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import asyncpg
import orjson
from redis.asyncio import Redis

from bench.servers import free_port, stop_group
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


class _Connection:
    """One keep-alive HTTP/1.1 connection posting GraphQL as an admin (plain asyncio
    streams: the client stays cheap next to four workers on the same machine)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, port: int) -> AsyncIterator[_Connection]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            yield cls(reader, writer)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def mutate(self, key: str, query: str, variables: dict[str, str]) -> dict[str, Any]:
        """The mutation's result; raises unless it answered 200 without errors."""
        body = orjson.dumps({"query": query, "variables": variables})
        self.writer.write(
            b"POST /graphql HTTP/1.1\r\nHost: bench\r\nConnection: keep-alive\r\n"
            b"Content-Type: application/json\r\nAuthorization: Bearer " + key.encode() + b"\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        answer = orjson.loads(await self.reader.readexactly(length))
        if not head.startswith(b"HTTP/1.1 200") or "errors" in answer:
            raise RuntimeError(f"{head.splitlines()[0]!r}: {answer}")
        data: dict[str, Any] = next(iter(answer["data"].values()))
        return data


async def _adjust(conn: _Connection, key: str, member: str) -> None:
    done = await conn.mutate(key, _ADJUST, {"k": secrets.token_hex(8), "m": member})
    if done["__typename"] != "PointsAdjusted":
        raise RuntimeError(f"adjustPoints answered {done}")


async def _seed(port: int, key: str) -> list[str]:
    async def some(start: int) -> list[str]:
        async with _Connection.open(port) as conn:
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
            async with _Connection.open(port) as conn:  # any worker may take it
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
            async with _Connection.open(port) as conn:
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


async def _database(base_url: str, sql: str) -> None:
    conn = await asyncpg.connect(base_url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _flush(redis_url: str) -> None:
    redis = connect(redis_url)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


def _environment(
    tree: Path, database_url: str, redis_url: str, data: Path, port: int
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUREL_")}
    env.update(
        PYTHONPATH=str(tree),  # this tree's packages, not an installed copy's
        LAUREL_DATABASE_URL=database_url,
        LAUREL_REDIS_URL=redis_url,
        LAUREL_JWT_SECRET="event-log-bench-" + "z" * 32,
        LAUREL_DATA_DIR=str(data),
        LAUREL_HOST="127.0.0.1",
        LAUREL_PORT=str(port),
        LAUREL_LOG_LEVEL="warning",
        # The load comes from one address and key: the limiter (benched on its own in
        # bench.rate_limit) would throttle it; the floor's tree has none.
        LAUREL_RATE_LIMIT_ENABLED="false",
    )
    return env


def _check_imports(tree: Path, env: dict[str, str]) -> None:
    """Fail unless the server's packages come from ``tree`` (not an installed copy)."""
    packages = "badges, leaderboards, schema, server"
    code = f"import {packages}; print({packages})"
    shown = subprocess.run(
        [sys.executable, "-c", code], cwd=tree, env=env, capture_output=True, text=True, check=True
    )
    paths = re.findall(r"from '([^']+)'", shown.stdout)
    if len(paths) != 4 or not all(Path(p).resolve().is_relative_to(tree.resolve()) for p in paths):
        raise SystemExit(f"event_log: not all of {packages} from {tree}: {shown.stdout}")


@contextlib.contextmanager
def _serving(tree: Path, base_url: str, redis_url: str) -> Iterator[tuple[int, str]]:
    """A fresh database and Redis db, ``serve --workers 4`` from ``tree`` on them, and an
    admin API key; yields (port, key), then stops the server and drops the database."""
    name = f"laurel_bench_{secrets.token_hex(4)}"
    asyncio.run(_flush(redis_url))
    asyncio.run(_database(base_url, f'CREATE DATABASE "{name}"'))
    try:
        with tempfile.TemporaryDirectory(prefix="laurel-event-log-") as tmp:
            port = free_port()
            database_url = f"{base_url.rpartition('/')[0]}/{name}"
            env = _environment(tree, database_url, redis_url, Path(tmp), port)
            _check_imports(tree, env)
            log = Path(tmp) / "server.log"
            with log.open("wb") as out:
                proc = subprocess.Popen(
                    [*_SERVER, "serve", "--workers", str(WORKERS)],
                    cwd=tree,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            try:
                _wait_healthy(proc, port, log)
                yield port, _api_key(tree, env)
            finally:
                stop_group(proc)
    finally:
        asyncio.run(_database(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        asyncio.run(_flush(redis_url))


def _api_key(tree: Path, env: dict[str, str]) -> str:
    made = subprocess.run(
        [*_SERVER, "create-api-key", "--role", "admin", "--name", "event log bench"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return made.stdout.split()[-1]


def _wait_healthy(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"event_log: the server exited:\n{log.read_text()}")
        with contextlib.suppress(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return
        time.sleep(0.2)
    raise SystemExit(f"event_log: the server did not become healthy:\n{log.read_text()}")


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


def _percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _each(rates: list[float]) -> str:
    return ", ".join(f"{r:,.0f}" for r in rates) or "-"


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run() -> None:
    base_url = os.environ.get("LAUREL_BENCH_DATABASE_URL")
    redis_url = os.environ.get("LAUREL_BENCH_REDIS_URL")
    if not (base_url and redis_url):
        print(
            "event_log: skipped (needs PostgreSQL + Redis: set LAUREL_BENCH_DATABASE_URL "
            "and LAUREL_BENCH_REDIS_URL)"
        )
        return
    load_before = _loadavg()
    log, floor = _Result(), _Result()
    with _floor_tree() as tree:
        runs = [(REPO, log), (tree, floor)] * 2 if tree else [(REPO, log)] * 2
        for source, into in runs:
            with _serving(source, base_url, redis_url) as (port, key):
                asyncio.run(_measure(port, key, redis_url, into))
    rate = statistics.mean(log.rates)
    line = (
        f"event_log: commit-to-board p50 {_percentile(log.latencies_ms, 50):.1f} ms "
        f"p99 {_percentile(log.latencies_ms, 99):.1f} ms"
    )
    if floor.rates:
        before = statistics.mean(floor.rates)
        ratio = rate / before
        line += (
            f" (before: p50 {_percentile(floor.latencies_ms, 50):.1f} ms "
            f"p99 {_percentile(floor.latencies_ms, 99):.1f} ms); events/s end to end "
            f"{rate:,.0f} (before: {before:,.0f}), ratio {ratio:.2f} (target >= {TARGET}) "
            f"{'ok' if ratio >= TARGET else 'BELOW TARGET'}"
        )
    else:
        line += (
            f"; events/s end to end {rate:,.0f} (no floor: commit {FLOOR_COMMIT} "
            "is not in this clone's history, so absolute numbers only)"
        )
    print(f"{line}; load average {load_before} at start, {_loadavg()} at end")
    print(f"event_log: events/s of each server: log {_each(log.rates)}; floor {_each(floor.rates)}")


if __name__ == "__main__":
    run()
