"""Rebuilding the boards from the ledger, checking them, and knowing whether Redis still
holds the boards that SQL says it should.

Each rebuild writes a new epoch token to Redis and, with what it covered, to the
board consumer's state in SQL. Redis without the token, or with another one, has
lost (or been given back old) boards: the board consumer rebuilds them by itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from leaderboards import Board, Leaderboards
from leaderboards.boards import CONTEST_GRACE
from leaderboards.rebuild import Difference, RebuildBusy, Rebuilt, check, rebuild
from server.actions.services import Services
from server.events import BOARDS
from server.rewards.contests import Contest, contest_scores
from server.rewards.errors import Conflict
from server.rewards.events import ConsumerState, Event
from server.rewards.ledger import LedgerEntry
from server.rewards.text import msg

__all__ = [
    "BoardsHealth",
    "Rebuilt",
    "adopt_boards",
    "boards_health",
    "check_leaderboards",
    "heal_boards",
    "rebuild_leaderboards",
]


def _boards(svc: Services) -> Leaderboards:
    """The Redis boards; jobs that need them are not started without them."""
    if svc.boards is None:
        raise RuntimeError("leaderboards need the Redis client")
    return svc.boards


async def _record_state(**state: Any) -> None:
    await ConsumerState.get_or_create(name=BOARDS)
    await ConsumerState.filter(name=BOARDS).update(state=state)


async def rebuild_leaderboards(
    svc: Services,
    *,
    settle: float = 1.0,
    on_start: Callable[[int], None] | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> Rebuilt:
    """Rebuild every global, community and contest board from SQL and swap them in."""
    boards = _boards(svc)

    async def finish(done: Rebuilt) -> None:
        # Contest boards: each recomputed from SQL and swapped in whole (finalized ones
        # read SQL), before the epoch says the boards are whole again.
        running = Contest.filter(published_at__isnull=False, finalized_at__isnull=True)
        for contest in await running:
            await boards.replace_board(
                Board(contest_id=contest.id),
                await contest_scores(contest),
                expires_at=contest.ends_at + CONTEST_GRACE,
            )
            done.boards += 1
        await _record_state(epoch=done.epoch, covered=done.covered)

    try:
        done = await rebuild(
            boards,
            now=svc.clock(),
            settle=settle,
            on_start=on_start,
            on_rows=on_rows,
            before_epoch=finish,
        )
    except RebuildBusy:
        raise Conflict(
            msg("A rebuild is already running (or died less than an hour ago).")
        ) from None
    svc.board_cache.clear()
    await boards.announce_all()  # live pages read the rebuilt boards
    svc.events.wake()  # the events that waited during the rebuild
    return done


async def heal_boards(svc: Services, *, settle: float = 1.0) -> Rebuilt | None:
    """Rebuild the boards when Redis lost them or never had them (no rebuild running);
    None when there was nothing to do. Raises ``Conflict`` if a rebuild starts meanwhile."""
    if (await boards_health(svc)).redis != "rebuilding" or await _boards(svc).rebuilding():
        return None
    return await rebuild_leaderboards(svc, settle=settle)


async def adopt_boards(svc: Services) -> None:
    """Declare the boards in Redis right as they are: for a new installation whose SQL and
    Redis are both empty (tests, benchmarks); anything else wants a rebuild."""
    boards = _boards(svc)
    last = await LedgerEntry.all().order_by("-id").first()
    token = f"adopted-{id(boards):x}"
    await _record_state(epoch=token, covered=0 if last is None else last.id)
    await boards.set_epoch(token)


@dataclass(frozen=True, slots=True)
class BoardsHealth:
    """``ok``, ``rebuilding`` (boards lost or a rebuild running) or ``down``."""

    redis: str
    epoch: str | None


async def boards_health(svc: Services) -> BoardsHealth:
    """Whether Redis answers and still holds the boards SQL expects."""
    boards = svc.boards
    if boards is None:
        return BoardsHealth("down", None)
    try:
        epoch = await boards.epoch()
        locked = await boards.rebuilding()
    except Exception:
        return BoardsHealth("down", None)
    row = await ConsumerState.get_or_none(name=BOARDS)
    expected = None if row is None else row.state.get("epoch")
    if locked or epoch is None or epoch != expected:
        return BoardsHealth("rebuilding", epoch)
    return BoardsHealth("ok", epoch)


async def check_leaderboards(svc: Services, *, wait: float = 30.0) -> list[Difference]:
    """Let the board consumer apply what the log holds now (here or in a running server),
    then compare every board with the ledger."""
    boards = _boards(svc)
    last = await Event.all().order_by("-id").first()
    target = 0 if last is None else last.id
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        await svc.events.drain([BOARDS], grace=False)
        row = await ConsumerState.get_or_none(name=BOARDS)
        caught_up = row is not None and row.position >= target
        if caught_up and (await boards_health(svc)).redis == "ok":
            break
        if loop.time() > deadline:
            break  # compare anyway: the differences say what is behind
        await asyncio.sleep(0.2)
    return await check(boards, now=svc.clock())
