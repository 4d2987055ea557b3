"""Board reads and writes, each one round trip to Redis.

Ranks are competition ranks: rank = 1 + the number of members with a strictly
higher score, so equal scores share a rank and the next rank skips (1, 2, 2, 4),
and a page starting in the middle of a tie still gets it right.

Keys carry a hash tag (``{...}``) so that a Redis Cluster spreads boards over
its masters; every script and transaction touches keys of one board only (one
slot), and a pipeline of several boards is split by the client per master.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, RedisError

from leaderboards.client import Client, channels_listened, connect, primaries, publish_all
from leaderboards.rows import BoardPage, BoardRow, Standing, rows_of, standing_of
from leaderboards.scripts import APPLY_ONCE_SCRIPT, AROUND_SCRIPT, PAGE_SCRIPT, STANDING_SCRIPT
from leaderboards.windows import Board, Target, board_key, boards_of, channel_of
from server.rewards.text import Text, msg

__all__ = [
    "BoardPage",
    "BoardRow",
    "BoardsUnavailable",
    "ContestUpdate",
    "Leaderboards",
    "Standing",
    "UpdateRow",
    "connect",
]


_GLOBAL = Board()
# A contest's board stays in Redis this long after the contest ends; results live in SQL.
CONTEST_GRACE = timedelta(days=30)


class BoardsUnavailable(Exception):
    """Redis did not answer a read; the boards are derived data, so nothing is lost.
    ``text``: why, for the reader (``server.rewards.text``)."""

    def __init__(self, text: Text) -> None:
        super().__init__(str(text))
        self.text = text


# Markers that an event was applied live long enough to outlast any retry.
_MARKER_TTL_SECONDS = 7 * 24 * 3600
# Between an epoch token and the cluster's masters of its time, in the epoch key.
_MASTERS = "@"


class UpdateRow(Protocol):
    """A change of earned points from the event log: who, how much (signed), when, where."""

    id: int
    member_id: int
    community: str | None
    delta: int
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class ContestUpdate:
    """The part of a change that goes to one contest's board."""

    id: int
    contest_id: int
    ends_at: datetime
    member_id: int
    delta: int


class Leaderboards:
    """The boards of one Laurel installation in one Redis database or Redis Cluster."""

    def __init__(self, redis: Client, *, prefix: str = "laurel") -> None:
        self.redis = redis
        self.prefix = prefix
        self._page = redis.register_script(PAGE_SCRIPT)
        self._around = redis.register_script(AROUND_SCRIPT)
        self._standing = redis.register_script(STANDING_SCRIPT)
        self._apply_once = redis.register_script(APPLY_ONCE_SCRIPT)

    def key(self, board: Board, at: datetime) -> str:
        return board_key(self.prefix, board, at)

    def channel(self, board: Board) -> str:
        return channel_of(self.prefix, board)

    @property
    def rebuild_lock(self) -> str:
        """Held while a rebuild swaps boards in: the board consumer waits meanwhile."""
        return f"{self.prefix}:rebuild-lock"

    @property
    def epoch_key(self) -> str:
        """Written by each rebuild; missing means Redis lost the boards (restarted empty,
        flushed), and reads refuse until they are rebuilt."""
        return f"{self.prefix}:epoch"

    async def epoch(self) -> str | None:
        """The token of the rebuild these boards come from; None when they are gone.

        On a cluster the token was stored with the masters of its time: after a failover
        the new master may lack the last writes of the old one, so the token read then
        is not the one stored (``~failover``), and the board consumer rebuilds."""
        value = await self.redis.get(self.epoch_key)
        if value is None:
            return None
        token, _, masters = str(value).partition(_MASTERS)
        # This client's view may be the stale one: ask the cluster before saying so (two
        # processes must not take turns rebuilding on different views).
        if (
            masters
            and masters != await primaries(self.redis)
            and masters != await primaries(self.redis, fresh=True)
        ):
            return token + "~failover"
        return token

    async def set_epoch(self, token: str) -> None:
        masters = await primaries(self.redis, fresh=True)
        value = token if masters is None else token + _MASTERS + masters
        await self.redis.set(self.epoch_key, value)

    async def rebuilding(self) -> bool:
        """True while a rebuild holds the lock."""
        return bool(await self.redis.exists(self.rebuild_lock))

    async def _call(self, script: AsyncScript, key: str, *args: str | int) -> list[Any]:
        raw: list[Any] = (await self._read(script, [([key], list(args))]))[0]
        return raw

    async def _read(
        self, script: AsyncScript, calls: Sequence[tuple[list[str], list[Any]]]
    ) -> list[Any]:
        """Read calls of ``script``, refused while the boards are gone (no epoch): an
        empty board after Redis lost its data would show wrong scores, not none."""
        try:
            epoch, *raws = await self._each(script, calls, first=("GET", self.epoch_key))
        except (RedisError, OSError) as exc:
            raise BoardsUnavailable(msg("The leaderboard is unavailable right now.")) from exc
        if epoch is None:
            raise BoardsUnavailable(msg("The leaderboard is being rebuilt; try again in a moment."))
        return raws

    async def page(
        self, board: Board = _GLOBAL, *, first: int, offset: int, at: datetime | None = None
    ) -> BoardPage:
        """Up to ``first`` rows from position ``offset`` (0-based), best first."""
        raw = await self._call(self._page, self.key(board, at or datetime.now(UTC)), offset, first)
        total, first_rank, flat = int(raw[0]), int(raw[1]), raw[2]
        return BoardPage(total_members=total, rows=rows_of(flat, offset, first_rank))

    async def around(self, board: Board, member_id: int, *, radius: int, at: datetime) -> BoardPage:
        """The member's row with up to ``radius`` rows above and below; no rows when the
        member has no score on this board."""
        raw = await self._call(self._around, self.key(board, at), member_id, radius)
        total, first_rank, start, flat = int(raw[0]), int(raw[1]), int(raw[2]), raw[3]
        return BoardPage(total_members=total, rows=rows_of(flat, start, first_rank))

    async def standing(self, board: Board, member_id: int, *, at: datetime) -> Standing:
        """Where one member stands on one board."""
        return (await self.standings([(board, member_id)], at=at))[0]

    async def standings(
        self, pairs: Sequence[tuple[Board, int]], *, at: datetime
    ) -> list[Standing]:
        """Where each (board, member) stands, in the order given, in one round trip."""
        if not pairs:
            return []
        calls = [([self.key(board, at)], [member_id]) for board, member_id in pairs]
        return [standing_of(raw) for raw in await self._read(self._standing, calls)]

    async def _each(
        self,
        script: AsyncScript,
        calls: Sequence[tuple[list[str], list[Any]]],
        *,
        first: tuple[str, ...] = (),
    ) -> list[Any]:
        """``script`` once per (keys, args) in one pipeline of EVALSHAs, after the command
        ``first`` if given (its answer comes first): one round trip while Redis knows the
        script (a pipeline that registers it first asks, which is another); when it does
        not (restarted, flushed), load it and send them again."""
        for attempt in (1, 2):
            async with self.redis.pipeline(transaction=False) as pipe:
                if first:
                    pipe.execute_command(*first)
                for keys, args in calls:  # (a cluster pipeline blocks pipe.evalsha)
                    pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)
                results: list[Any] = await pipe.execute(raise_on_error=False)
            if attempt == 1 and any(isinstance(r, NoScriptError) for r in results):
                script.sha = await self.redis.script_load(script.script)
                continue
            failed = next((r for r in results if isinstance(r, Exception)), None)
            if failed is not None:
                raise failed
            break
        return results

    async def apply(self, updates: Sequence[UpdateRow]) -> set[str]:
        """Apply changes to every board they concern, in one pipeline, each at most once
        per board (by its event id); return the channels of the boards that changed."""
        return await self._apply_once_to(
            [
                (update.id, update.member_id, update.delta, target)
                for update in updates
                for target in boards_of(self.prefix, update.community, update.occurred_at)
            ]
        )

    async def apply_contests(self, updates: Sequence[ContestUpdate]) -> set[str]:
        """Like ``apply``, for contest boards (kept a while after the contest ends)."""
        targets = []
        for update in updates:
            board = Board(contest_id=update.contest_id)
            target = Target(
                key=self.key(board, update.ends_at),
                expires_at=update.ends_at + CONTEST_GRACE,
                channel=self.channel(board),
            )
            targets.append((update.id, update.member_id, update.delta, target))
        return await self._apply_once_to(targets)

    async def _apply_once_to(self, targets: Sequence[tuple[int, int, int, Target]]) -> set[str]:
        """(event, member, delta, board) each applied at most once, in one pipeline."""
        if not targets:
            return set()
        calls = [
            (
                [target.key, f"{target.key}:event:{row_id}"],  # the board's hash tag: one slot
                [
                    delta,
                    member_id,
                    _MARKER_TTL_SECONDS,
                    0 if target.expires_at is None else int(target.expires_at.timestamp()),
                ],
            )
            for row_id, member_id, delta, target in targets
        ]
        # Sent again whole if Redis lacked the script: each event still applies once.
        results = await self._each(self._apply_once, calls)
        return {
            t.channel
            for (_, _, _, t), applied in zip(targets, results, strict=True)
            if int(applied)
        }

    async def replace_board(
        self, board: Board, scores: dict[int, int], *, expires_at: datetime | None
    ) -> None:
        """Swap in a whole board at once (a contest recomputed from SQL), then tell its
        live subscribers. The transaction's keys share the board's hash tag."""
        key = self.key(board, datetime.now(UTC))
        temp = key + ":replace"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(temp)
            if scores:
                pipe.zadd(temp, {str(m): s for m, s in scores.items()})
                pipe.execute_command("RENAME", temp, key)  # (blocked as pipe.rename)
                if expires_at is not None:
                    pipe.expireat(key, int(expires_at.timestamp()))
            else:
                pipe.delete(key)
            await pipe.execute()
        await self.announce({self.channel(board)})

    async def announce_all(self) -> None:
        """Tell every board's live subscribers to read again (after a rebuild swapped
        boards in): every channel that has a subscriber now."""
        await self.announce(await channels_listened(self.redis, f"{self.prefix}:events:board:*"))

    async def announce(self, channels: set[str]) -> None:
        """Tell every worker which boards changed (for live subscriptions)."""
        await publish_all(self.redis, sorted(channels), "changed")

    async def ping(self) -> bool:
        """True when Redis answers."""
        try:
            return bool(await self.redis.ping())
        except Exception:
            return False
