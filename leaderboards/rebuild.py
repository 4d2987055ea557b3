"""Rebuild every board from the ledger, and check the live boards against it.

The rebuild has the database sum the ledger per member and day, a range of members
at a time (``ledger_sums``), writes each board's complete sums into a temporary key
by calls of at most 20,000 pairs (so no command holds Redis for long, however large
the board), then
swaps each board in with RENAME: a reader sees the old board or the
new one, never a half-built one. While it runs, the board consumer waits (a
lock key in Redis); afterwards it skips the events of the entries the rebuild
covered, so nothing is counted twice and later events apply on top. A new epoch
token is written last: reads refuse boards without one.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from leaderboards.boards import Leaderboards
from leaderboards.client import Client
from leaderboards.ledger_sums import MEMBERS_PER_CHUNK, board_sums, last_entry_id
from server.rewards.ledger import LedgerEntry

__all__ = ["Difference", "RebuildBusy", "Rebuilt", "check", "rebuild"]

_TEMP = ":rebuild"
_LOCK_SECONDS = 3600


# Adds many (member, points) pairs to one board in one call: far fewer round trips and
# commands than one ZINCRBY each.
# One argument "score member score member ...": one string to encode, not thousands; the
# members of one chunk are distinct, so a plain ZADD of many pairs at once does.
_ADD_SCRIPT = """
local args, n = {}, 0
for score, member in string.gmatch(ARGV[1], '(%-?%d+) (%d+)') do
  args[#args + 1] = score
  args[#args + 1] = member
  if #args >= 2000 then
    redis.call('ZADD', KEYS[1], unpack(args))
    n = n + #args / 2
    args = {}
  end
end
if #args > 0 then
  redis.call('ZADD', KEYS[1], unpack(args))
  n = n + #args / 2
end
return n
"""
_PAIRS_PER_CALL = 20_000  # per call: each stays short (a busy Redis answers others meanwhile)


class RebuildBusy(Exception):
    """Another rebuild holds the lock."""


@dataclass(slots=True)
class Rebuilt:
    entries: int = 0
    boards: int = 0
    removed: int = 0
    seconds: float = 0.0
    covered: int = 0  # the last ledger entry id the boards now include
    epoch: str = ""


@dataclass(frozen=True, slots=True)
class Difference:
    key: str
    member_id: int
    expected: int
    found: int


async def rebuild(
    boards: Leaderboards,
    *,
    now: datetime,
    members_per_chunk: int = MEMBERS_PER_CHUNK,
    settle: float = 1.0,
    on_start: Callable[[int], None] | None = None,
    on_rows: Callable[[int], None] | None = None,
    before_epoch: Callable[[Rebuilt], Awaitable[None]] | None = None,
) -> Rebuilt:
    """Rebuild the global and community boards from the ledger and swap them in.

    ``before_epoch`` runs after the swap, still under the lock, before the new epoch
    is written (the caller records what the rebuild covered and rebuilds the rest)."""
    redis = boards.redis
    if not await redis.set(boards.rebuild_lock, "1", nx=True, ex=_LOCK_SECONDS):
        raise RebuildBusy("A rebuild is already running (or died less than an hour ago).")
    started = asyncio.get_running_loop().time()
    writing: asyncio.Future[list[Any]] | None = None
    done = Rebuilt()

    def counted(rows: int) -> None:
        done.entries += rows
        if on_rows is not None:
            on_rows(rows)

    try:
        # Transactions already writing entries finish within this pause; their ids are covered.
        await asyncio.sleep(settle)
        up_to = await last_entry_id()
        if on_start is not None:
            on_start(await LedgerEntry.filter(id__lte=up_to).exclude(lifetime_delta=0).count())
        built: dict[str, datetime | None] = {}
        await _clear_temp(redis, boards.prefix)
        # Loaded first (on every master of a cluster), then called by its digest: a
        # cluster pipeline takes no script objects.
        add = str(await redis.script_load(_ADD_SCRIPT))
        chunks = board_sums(boards, up_to, now=now, members=members_per_chunk, on_rows=counted)
        async for sums, expiry in chunks:
            # Each member's sums are complete in its chunk: added once, nothing to merge.
            pipe = redis.pipeline(transaction=False)
            for key, members in sums.items():
                pairs = [f"{s} {m}" for m, s in members.items() if s]
                for i in range(0, len(pairs), _PAIRS_PER_CALL):
                    packed = " ".join(pairs[i : i + _PAIRS_PER_CALL])
                    pipe.execute_command("EVALSHA", add, 1, key + _TEMP, packed)
            if writing is not None:
                await writing
            # Redis adds this chunk while the database sums the next one.
            writing = asyncio.ensure_future(pipe.execute())
            built.update(expiry)
        if writing is not None:
            await writing
        done.boards, done.removed = await _swap(redis, boards.prefix, built)
        done.covered, done.epoch = up_to, secrets.token_hex(8)
        if before_epoch is not None:
            await before_epoch(done)
        await boards.set_epoch(done.epoch)
        done.seconds = asyncio.get_running_loop().time() - started
        return done
    finally:
        if writing is not None and not writing.done():
            writing.cancel()  # a failed rebuild writes no more (the next one clears its keys)
        await redis.delete(boards.rebuild_lock)


async def _live_keys(redis: Client, prefix: str) -> set[str]:
    """Global and community board keys (contest boards are rebuilt by their contest)."""
    found: set[str] = set()
    async for key in redis.scan_iter(match=f"{prefix}:lb:{{*}}", count=1000):
        name = str(key)
        if name.endswith("}") and ":lb:{contest:" not in name:
            found.add(name)
    return found


async def _clear_temp(redis: Client, prefix: str) -> None:
    async for key in redis.scan_iter(match=f"{prefix}:lb:*{_TEMP}*", count=1000):
        await redis.delete(key)


async def _swap(redis: Client, prefix: str, built: dict[str, datetime | None]) -> tuple[int, int]:
    """RENAME each rebuilt board over the live one; delete live boards with nothing left."""
    live = await _live_keys(redis, prefix)
    swapped = removed = 0
    async with redis.pipeline(transaction=False) as pipe:
        for key, expires_at in built.items():
            temp = key + _TEMP
            if not await redis.exists(temp):
                continue  # every sum was 0: the board is empty
            pipe.execute_command("RENAME", temp, key)
            if expires_at is not None:
                pipe.expireat(key, int(expires_at.timestamp()))
            swapped += 1
        stale = []
        for key in sorted(live):
            if key not in built or not await redis.exists(key + _TEMP):
                stale.append(key)
        for key in stale:
            pipe.delete(key)
        removed = len(stale)
        await pipe.execute()
    return swapped, removed


async def check(boards: Leaderboards, *, now: datetime) -> list[Difference]:
    """Every difference between the live boards and the ledger (scores of 0 are absent)."""
    up_to = await last_entry_id()
    expected: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    async for sums, _ in board_sums(
        boards, up_to, now=now, members=MEMBERS_PER_CHUNK, on_rows=None
    ):
        for key, members in sums.items():
            for member_id, score in members.items():
                expected[key][member_id] += score
    found: list[Difference] = []
    for key in sorted(set(expected) | await _live_keys(boards.redis, boards.prefix)):
        pairs = cast(
            "list[tuple[str, float]]", await boards.redis.zrange(key, 0, -1, withscores=True)
        )
        live = {int(member): int(score) for member, score in pairs}
        want = {m: s for m, s in expected.get(key, {}).items() if s}
        for member_id in sorted(set(want) | {m for m, s in live.items() if s}):
            if want.get(member_id, 0) != live.get(member_id, 0):
                found.append(
                    Difference(key, member_id, want.get(member_id, 0), live.get(member_id, 0))
                )
    return found
