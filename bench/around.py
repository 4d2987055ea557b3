"""``leaderboardAround`` server-side time with 1,000,000 members on a board against 10,000.

Server-side time is what Redis reports for the script (INFO commandstats, usec per
call), so network and client overhead do not hide the growth. Target: <= 2x.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from leaderboards import Board, EmbeddedValkey, Leaderboards, connect

SMALL, LARGE = 10_000, 1_000_000
CALLS = 2_000
TARGET = 2.0
_NOW = datetime.now(UTC)


async def _fill(boards: Leaderboards, members: int) -> None:
    key = boards.key(Board(), at=_NOW)
    await boards.redis.delete(key)
    rng = random.Random(members)
    for start in range(1, members + 1, 50_000):
        mapping = {
            str(m): rng.randint(1, 100_000) for m in range(start, min(start + 50_000, members + 1))
        }
        await boards.redis.zadd(key, mapping)


async def _usec_per_call(boards: Leaderboards, members: int) -> float:
    await _fill(boards, members)
    rng = random.Random(1)
    await boards.around(Board(), 1, radius=2, at=_NOW)  # load the script
    await boards.redis.config_resetstat()
    for _ in range(CALLS):
        page = await boards.around(Board(), rng.randint(1, members), radius=2, at=_NOW)
        assert page.rows
    stats = await boards.redis.info("commandstats")
    return float(stats["cmdstat_evalsha"]["usec_per_call"])


async def _run(data: Path) -> tuple[float, float]:
    valkey = EmbeddedValkey(data)
    redis = connect(valkey.start())
    try:
        boards = Leaderboards(redis)
        await boards.set_epoch("bench-around")  # the boards are as built: reads go ahead
        return await _usec_per_call(boards, SMALL), await _usec_per_call(boards, LARGE)
    finally:
        await redis.aclose()
        valkey.stop()


def run() -> None:
    with tempfile.TemporaryDirectory(prefix="laurel-around-") as tmp:
        small, large = asyncio.run(_run(Path(tmp)))
    ratio = large / small
    verdict = "ok" if ratio <= TARGET else "OVER TARGET"
    print(
        f"leaderboard_around: server-side {small:.1f} us/call with {SMALL:,} members, "
        f"{large:.1f} us/call with {LARGE:,}; ratio {ratio:.2f} (target <= {TARGET}) {verdict}"
    )


if __name__ == "__main__":
    run()
