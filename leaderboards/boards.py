"""Board reads and writes, each one round trip to Redis.

Ranks are competition ranks: rank = 1 + the number of members with a strictly
higher score, so equal scores share a rank and the next rank skips (1, 2, 2, 4),
and a page starting in the middle of a tie still gets it right.

Keys carry a hash tag (``{...}``) so that a Redis Cluster could spread boards
over nodes; every script touches keys of one board only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

__all__ = [
    "BoardPage",
    "BoardRow",
    "BoardsUnavailable",
    "Leaderboards",
    "UpdateRow",
    "connect",
]


class BoardsUnavailable(Exception):
    """Redis did not answer a read; the boards are derived data, so nothing is lost."""


# Markers that an outbox row was applied live long enough to outlast any retry.
_MARKER_TTL_SECONDS = 7 * 24 * 3600

_PAGE_SCRIPT = """
local total = redis.call('ZCARD', KEYS[1])
local count = tonumber(ARGV[2])
if count <= 0 then return {total, 0, {}} end
local offset = tonumber(ARGV[1])
local rows = redis.call('ZREVRANGE', KEYS[1], offset, offset + count - 1, 'WITHSCORES')
local first_rank = 0
if #rows > 0 then
  first_rank = redis.call('ZCOUNT', KEYS[1], '(' .. rows[2], '+inf') + 1
end
return {total, first_rank, rows}
"""

_APPLY_ONCE_SCRIPT = """
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[3]) then
  local score = tonumber(redis.call('ZINCRBY', KEYS[1], ARGV[1], ARGV[2]))
  if score <= 0 then redis.call('ZREM', KEYS[1], ARGV[2]) end
  return 1
end
return 0
"""


class UpdateRow(Protocol):
    """An outbox row: who earned how much (signed)."""

    id: int
    member_id: int
    delta: int


@dataclass(frozen=True, slots=True)
class BoardRow:
    rank: int
    score: int
    member_id: int


@dataclass(frozen=True, slots=True)
class BoardPage:
    total_members: int
    rows: list[BoardRow]


def connect(url: str) -> Redis:
    """A client for ``url`` with short timeouts: a dead Redis must not stall requests."""
    client: Redis = Redis.from_url(
        url,
        decode_responses=True,
        socket_timeout=2.0,
        socket_connect_timeout=2.0,
        health_check_interval=15,
    )
    return client


class Leaderboards:
    """The boards of one Laurel installation in one Redis database."""

    def __init__(self, redis: Redis, *, prefix: str = "laurel") -> None:
        self.redis = redis
        self._prefix = prefix
        self._page = redis.register_script(_PAGE_SCRIPT)
        self._apply_once = redis.register_script(_APPLY_ONCE_SCRIPT)

    def board_key(self) -> str:
        """The global all-time board."""
        return f"{self._prefix}:lb:{{global:all}}"

    async def page(self, *, first: int, offset: int) -> BoardPage:
        """Up to ``first`` rows from position ``offset`` (0-based), best first."""
        try:
            raw: list[Any] = await self._page(keys=[self.board_key()], args=[offset, first])
        except (RedisError, OSError) as exc:
            raise BoardsUnavailable("The leaderboard is unavailable right now.") from exc
        total, first_rank, flat = int(raw[0]), int(raw[1]), raw[2]
        rows: list[BoardRow] = []
        for i in range(0, len(flat), 2):
            member_id, score = int(flat[i]), int(float(flat[i + 1]))
            if rows and rows[-1].score == score:
                rank = rows[-1].rank
            elif rows:
                rank = offset + i // 2 + 1  # everyone above scored strictly more
            else:
                rank = first_rank
            rows.append(BoardRow(rank=rank, score=score, member_id=member_id))
        return BoardPage(total_members=total, rows=rows)

    async def apply(self, updates: Sequence[UpdateRow]) -> int:
        """Apply outbox rows in one pipeline, each at most once; return how many were new."""
        if not updates:
            return 0
        key = self.board_key()
        async with self.redis.pipeline(transaction=False) as pipe:
            for update in updates:
                await self._apply_once(
                    keys=[key, f"{key}:applied:{update.id}"],
                    args=[update.delta, update.member_id, _MARKER_TTL_SECONDS],
                    client=pipe,
                )
            results = await pipe.execute()
        return sum(int(r) for r in results)

    async def ping(self) -> bool:
        """True when Redis answers."""
        try:
            return bool(await self.redis.ping())
        except Exception:
            return False
