"""``make bench-large``: one board of 10,000,000 members. Takes about 6 minutes on
2 cores; peaks near 1.1 GB in the Valkey holding the big board and 0.5 GB here.

memory: ``MEMORY USAGE <board> SAMPLES 0`` (every element counted, not a sample) over
the members. An absolute target, no floor: <= 130 bytes per member.

top10 and around: the product's own reads, ``Leaderboards.page(first=10, offset=0)`` and
``Leaderboards.around(radius=2)`` (the GraphQL default) of a random member, timed one
call at a time in this process (client side: round trip, script, decoding), median and
p99; the time Redis reports for the scripts (INFO commandstats) is printed beside them.
The floor is the same reads on a 10,000-member board in the same Redis, the two boards
read in alternating rounds so that other load on the machine hits both alike.
Target: 10M / 10k <= 2 for the median and for the p99 (else OVER TARGET).

rebuild: ``rebuild_leaderboards`` (the use case ``laurel rebuild-leaderboards`` calls)
from SQLite against the floor of ``bench.rebuild``: a pipelined ZADD of the same rows
(member, points) with redis-py. The median of 3 runs (floor then rebuild each time).
Target: ratio >= 0.5. The first run uses the product's client (``leaderboards.connect``,
2 s socket timeout); if that times out the line says so and where, and the runs go on
with a 600 s timeout. It runs at BENCH_LARGE_REBUILD_ROWS ledger rows (default
1,000,000, one per member), not 10M: seeding 10M members and rows into SQLite (about
200 s) and rebuilding them three times (about 400 s each) would take most of an hour.
The line prints the size used. (No PostgreSQL COPY path: SQLite only.)

How the 10M board is built: pipelined ZADD, 10,000 members per ZADD, ten ZADDs per round
trip (about 100 s), not the product's apply path: ``Leaderboards.apply`` writes each
event to up to ten boards (global and community, five windows) and leaves a marker key
per event and board, hours of work and gigabytes of markers for 10M events; the board
itself (member -> score) is the same either way. Appending to the AOF is turned off on
these private servers (nothing here needs to survive them; a rewrite would fork mid-run).
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
import statistics
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from redis.asyncio import Redis
from redis.exceptions import TimeoutError as RedisTimeoutError

from bench.rebuild import floor_of, seed
from leaderboards import Board, EmbeddedValkey, Leaderboards, connect
from server.actions.rebuilds import rebuild_leaderboards
from server.actions.services import make_services
from server.db import apply_migrations, orm
from server.settings import Settings

LARGE = int(os.environ.get("BENCH_LARGE_MEMBERS", "10000000"))
SMALL = 10_000
READS = int(os.environ.get("BENCH_LARGE_READS", "10000"))  # per read, per board
ROUNDS = 10
REBUILD_ROWS = int(os.environ.get("BENCH_LARGE_REBUILD_ROWS", "1000000"))
REBUILD_MEMBERS = int(os.environ.get("BENCH_LARGE_REBUILD_MEMBERS", str(REBUILD_ROWS)))
REBUILD_RUNS = 3
BYTES_TARGET = 130
LATENCY_TARGET = 2.0
REBUILD_TARGET = 0.5
_NOW = datetime(2026, 1, 15, tzinfo=UTC)
_PER_ZADD = 10_000
_ZADDS_PER_TRIP = 10


def _verdict(ok: bool, failed: str) -> str:
    return "ok" if ok else failed


async def _fill(boards: Leaderboards, members: int) -> float:
    """A board of ``members`` random scores (1..members, so ties happen); seconds taken."""
    key = boards.key(Board(), at=_NOW)
    redis = boards.redis
    await redis.unlink(key)
    rng = random.Random(members)
    started = time.perf_counter()
    step = _PER_ZADD * _ZADDS_PER_TRIP
    for first in range(1, members + 1, step):
        async with redis.pipeline(transaction=False) as pipe:
            for start in range(first, min(first + step, members + 1), _PER_ZADD):
                stop = min(start + _PER_ZADD, members + 1)
                pipe.zadd(key, {str(m): rng.randint(1, members) for m in range(start, stop)})
            await pipe.execute()
    took = time.perf_counter() - started
    assert await redis.zcard(key) == members
    await boards.set_epoch("bench-large")
    return took


def _top10(boards: Leaderboards, _: random.Random, __: int) -> Awaitable[object]:
    return boards.page(Board(), first=10, offset=0, at=_NOW)


def _around(boards: Leaderboards, rng: random.Random, members: int) -> Awaitable[object]:
    return boards.around(Board(), rng.randint(1, members), radius=2, at=_NOW)


_Read = Callable[[Leaderboards, random.Random, int], Awaitable[object]]


@dataclass(slots=True)
class _Timings:
    """Client-side seconds per call, and what Redis reports it spent (INFO commandstats)."""

    seconds: list[float] = field(default_factory=list)
    server_usec: float = 0.0
    server_calls: int = 0

    def summary(self) -> tuple[float, float, float]:
        """Median and p99 client side, mean server side, in microseconds."""
        p99 = statistics.quantiles(self.seconds, n=100)[98]
        mean = self.server_usec / max(1, self.server_calls)
        return statistics.median(self.seconds) * 1e6, p99 * 1e6, mean


async def _timed(
    read: _Read, boards: Leaderboards, members: int, calls: int, into: _Timings
) -> None:
    """``calls`` calls of ``read``, one at a time, added to ``into``."""
    rng = random.Random(calls + len(into.seconds))
    await boards.redis.config_resetstat()
    for _ in range(calls):
        began = time.perf_counter()
        page = await read(boards, rng, members)
        into.seconds.append(time.perf_counter() - began)
        assert getattr(page, "rows", None)
    stats = (await boards.redis.info("commandstats"))["cmdstat_evalsha"]
    into.server_usec += float(stats["usec"])
    into.server_calls += int(stats["calls"])


async def _reads(small: Leaderboards, large: Leaderboards) -> dict[str, tuple[_Timings, _Timings]]:
    """Per read: (timings on the small board, timings on the large one)."""
    reads: dict[str, _Read] = {"top10": _top10, "around": _around}
    found = {name: (_Timings(), _Timings()) for name in reads}
    for read in reads.values():  # load the scripts, warm the connection
        await _timed(read, small, SMALL, 200, _Timings())
        await _timed(read, large, LARGE, 200, _Timings())
    per_round = max(1, READS // ROUNDS)
    for _ in range(ROUNDS):
        for name, read in reads.items():
            await _timed(read, small, SMALL, per_round, found[name][0])
            await _timed(read, large, LARGE, per_round, found[name][1])
    return found


async def _memory_usage(url: str, key: str) -> int:
    """Exact bytes of ``key``: SAMPLES 0 walks all 10M elements, seconds beyond the
    product client's 2 s timeout, so it gets a client of its own."""
    admin: Redis = Redis.from_url(url, socket_timeout=600)
    try:
        used = await admin.memory_usage(key, samples=0)  # MEMORY USAGE key SAMPLES 0
        assert used is not None
        return int(used)
    finally:
        await admin.aclose()


async def _board_phase(data: Path) -> list[str]:
    valkey = EmbeddedValkey(data)
    redis = connect(valkey.start())
    try:
        await redis.config_set("appendonly", "no")
        small = Leaderboards(redis, prefix="small")
        large = Leaderboards(redis, prefix="large")
        await _fill(small, SMALL)
        built = await _fill(large, LARGE)
        key = large.key(Board(), at=_NOW)
        used = await _memory_usage(valkey.url, key)
        encoding = str(await redis.object("ENCODING", key))
        version = str((await redis.info("server")).get("valkey_version", "?"))
        per_member = used / LARGE
        lines = [
            f"large_board memory: {LARGE:,} members (built by pipelined ZADD in {built:.0f} s), "
            f"MEMORY USAGE SAMPLES 0 {used:,} bytes ({encoding}, valkey {version}) = "
            f"{per_member:.1f} bytes/member; no floor (absolute target); "
            f"ratio to target {per_member / BYTES_TARGET:.2f} (target <= {BYTES_TARGET} "
            f"bytes/member) {_verdict(per_member <= BYTES_TARGET, 'OVER TARGET')}"
        ]
        for name, (on_small, on_large) in (await _reads(small, large)).items():
            s_med, s_p99, s_server = on_small.summary()
            l_med, l_p99, l_server = on_large.summary()
            med, p99 = l_med / s_med, l_p99 / s_p99
            ok = med <= LATENCY_TARGET and p99 <= LATENCY_TARGET
            lines.append(
                f"large_board {name}: {LARGE:,} members median {l_med:.0f} us, p99 {l_p99:.0f} us"
                f"; floor (same reads, {SMALL:,}-member board) median {s_med:.0f} us, p99 "
                f"{s_p99:.0f} us; ratio median {med:.2f}, p99 {p99:.2f} "
                f"(target <= {LATENCY_TARGET}, {READS:,} reads each) "
                f"{_verdict(ok, 'OVER TARGET')}; in Redis {l_server:.1f} vs {s_server:.1f} "
                "us/call"
            )
        return lines
    finally:
        await redis.aclose()
        valkey.stop()


async def _rebuild_once(
    settings: Settings, redis: Redis, rows: list[tuple[int, int]], now: datetime
) -> tuple[float, float, int]:
    """The floor, then the product's rebuild, on ``redis``: (floor s, rebuild s, boards)."""
    boards = Leaderboards(redis)
    svc = make_services(settings, boards)
    svc.clock = lambda: now  # every period board of the seeded rows is live
    floor = await floor_of(boards, rows)
    began = time.perf_counter()
    done = await rebuild_leaderboards(svc, settle=0)
    took = time.perf_counter() - began
    assert done.entries == REBUILD_ROWS
    return floor, took, done.boards


def _where(exc: BaseException) -> str:
    """The innermost function of ours (leaderboards/, bench/) where the first error of
    ``exc``'s chain passed: a timeout can strike again in a ``finally``, hiding the first."""
    found = "?"
    cause: BaseException | None = exc
    while cause is not None:
        ours = [
            f
            for f in traceback.extract_tb(cause.__traceback__)
            if "/leaderboards/" in f.filename or "/bench/" in f.filename
        ]
        if ours:
            found = f"{Path(ours[-1].filename).stem}.{ours[-1].name}"
        cause = cause.__context__
    return found


async def _rebuild_phase(data: Path) -> list[str]:
    """Runs on the product's client (``leaderboards.connect``, 2 s socket timeout) while it
    copes; if it times out, said so and the runs go on with a 600 s timeout instead."""
    valkey = EmbeddedValkey(data)
    url = valkey.start()
    product = connect(url)
    patient: Redis = Redis.from_url(url, decode_responses=True, socket_timeout=600)
    settings = Settings(data_dir=data, jwt_secret="b" * 40)
    lines = []
    client = "the product's client (2 s socket timeout)"
    runs: list[tuple[float, float, int]] = []
    try:
        await patient.config_set("appendonly", "no")
        await apply_migrations(settings.resolved_database_url)
        async with orm(settings.resolved_database_url):
            start = datetime(2025, 6, 1, tzinfo=UTC)
            began = time.perf_counter()
            rows = await seed(start, rows=REBUILD_ROWS, members=REBUILD_MEMBERS)
            seeded = time.perf_counter() - began
            try:
                runs.append(await _rebuild_once(settings, product, rows, start))
            except RedisTimeoutError as exc:
                lines.append(
                    f"large_board rebuild: FAILED with {client} at {REBUILD_ROWS:,} rows of "
                    f"{REBUILD_MEMBERS:,} members: {exc} in {_where(exc)}; "
                    "the runs below use a 600 s socket timeout"
                )
                client = "a client with a 600 s socket timeout"
                await patient.delete(Leaderboards(patient).rebuild_lock)  # left by the failure
            while len(runs) < REBUILD_RUNS:
                redis = product if not lines else patient
                runs.append(await _rebuild_once(settings, redis, rows, start))
    finally:
        await product.aclose()
        await patient.aclose()
        valkey.stop()
    ratios = [floor / took for floor, took, _ in runs]
    floor, took, made = runs[ratios.index(statistics.median(ratios))]
    ratio = floor / took
    size = "" if REBUILD_MEMBERS >= LARGE else f"; not {LARGE:,}"
    lines.append(
        f"large_board rebuild: {REBUILD_ROWS:,} ledger rows of {REBUILD_MEMBERS:,} members "
        f"(seeded into SQLite in {seeded:.0f} s{size}) into {made:,} boards in {took:.1f} s "
        f"({REBUILD_ROWS / took:,.0f} rows/s) on {client}; floor (pipelined ZADD of the same "
        f"rows) {floor:.1f} s ({REBUILD_ROWS / floor:,.0f} rows/s); ratio {ratio:.2f}, median "
        f"of {REBUILD_RUNS} (runs {', '.join(f'{r:.2f}' for r in ratios)}) "
        f"(target >= {REBUILD_TARGET}) {_verdict(ratio >= REBUILD_TARGET, 'BELOW TARGET')}"
    )
    return lines


def _peak_rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


def run() -> None:
    with tempfile.TemporaryDirectory(prefix="laurel-large-") as tmp:
        for line in asyncio.run(_board_phase(Path(tmp))):
            print(line, flush=True)
    with tempfile.TemporaryDirectory(prefix="laurel-large-rebuild-") as tmp:
        for line in asyncio.run(_rebuild_phase(Path(tmp))):
            print(line, flush=True)
    print(
        f"large_board peak RSS: this process {_peak_rss_mb(resource.RUSAGE_SELF):,.0f} MB, "
        f"largest server {_peak_rss_mb(resource.RUSAGE_CHILDREN):,.0f} MB",
        flush=True,
    )


if __name__ == "__main__":
    run()
