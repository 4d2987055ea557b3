"""Rebuild from 1,000,000 ledger rows, against the floor of a pipelined bulk ZADD of the
same rows (member, points) with redis-py. Target: ratio >= 0.5.

Both run here against one embedded Valkey and one SQLite file in a temporary dir.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tortoise import connections

from leaderboards import EmbeddedValkey, Leaderboards, connect
from leaderboards.rebuild import rebuild
from server.db import apply_migrations, orm
from server.settings import Settings

ROWS = int(os.environ.get("BENCH_REBUILD_ROWS", "1000000"))
MEMBERS = 50_000
COMMUNITIES = ("north", "south", "east", None)
TARGET = 0.5


async def seed(
    start: datetime, *, rows: int = ROWS, members: int = MEMBERS
) -> list[tuple[int, int]]:
    """Members and ledger rows written with plain bulk inserts; returns (member, points)."""
    conn = connections.get("default")
    for first in range(1, members + 1, 50_000):
        await conn.execute_many(
            "INSERT INTO members (id, external_id, display_name, community, referral_code, "
            "points_balance, pending_points, lifetime_points, debt_points, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, 0, 0, 0, 0, ?, ?)",
            [
                [m, f"m{m}", f"Member {m}", COMMUNITIES[m % 4], f"R{m:09d}", start, start]
                for m in range(first, min(first + 50_000, members + 1))
            ],
        )
    pairs = [((i * 7919) % members + 1, (i * 31) % 97 + 1) for i in range(rows)]
    batch = []
    for i, (member, points) in enumerate(pairs, start=1):
        at = start + timedelta(minutes=i // 3)  # about two years of activity
        batch.append(
            [i, member, "ADJUST", points, 0, points, 0, "bench", "bench", f"b{i}", "", at, at]
        )
        if len(batch) == 50_000:
            await _insert(conn, batch)
            batch = []
    if batch:
        await _insert(conn, batch)
    return pairs


async def _insert(conn: object, batch: list[list[object]]) -> None:
    await conn.execute_many(  # type: ignore[attr-defined]
        "INSERT INTO ledger_entries (id, member_id, kind, amount, pending_delta, lifetime_delta, "
        "debt_delta, reason, actor, idempotency_key, request_hash, occurred_at, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        batch,
    )


async def floor_of(boards: Leaderboards, rows: list[tuple[int, int]]) -> float:
    redis = boards.redis
    started = time.perf_counter()
    for i in range(0, len(rows), 10_000):
        async with redis.pipeline(transaction=False) as pipe:
            for member, points in rows[i : i + 10_000]:
                pipe.zadd("bench:floor", {str(member): points})
            await pipe.execute()
    elapsed = time.perf_counter() - started
    await redis.delete("bench:floor")
    return elapsed


async def _run(data: Path) -> tuple[float, float, int]:
    valkey = EmbeddedValkey(data)
    redis = connect(valkey.start())
    settings = Settings(data_dir=data, jwt_secret="b" * 40)
    try:
        await apply_migrations(settings.resolved_database_url)
        async with orm(settings.resolved_database_url):
            start = datetime(2025, 6, 1, tzinfo=UTC)
            rows = await seed(start)
            boards = Leaderboards(redis)
            floor = await floor_of(boards, rows)
            began = time.perf_counter()
            done = await rebuild(boards, now=start, settle=0)
            took = time.perf_counter() - began
            return floor, took, done.boards
    finally:
        await redis.aclose()
        valkey.stop()


def run() -> None:
    with tempfile.TemporaryDirectory(prefix="laurel-rebuild-") as tmp:
        floor, took, boards = asyncio.run(_run(Path(tmp)))
    ratio = floor / took
    verdict = "ok" if ratio >= TARGET else "BELOW TARGET"
    print(
        f"rebuild: {ROWS:,} ledger rows into {boards:,} boards in {took:.1f} s "
        f"({ROWS / took:,.0f} rows/s); floor (pipelined ZADD of the same rows) {floor:.1f} s "
        f"({ROWS / floor:,.0f} rows/s); ratio {ratio:.2f} (target >= {TARGET}) {verdict}"
    )


if __name__ == "__main__":
    run()
