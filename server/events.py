"""After-commit side effects of the use cases: board updates and live notifications.

Money operations never wait on Redis for their outcome: the ledger transaction
has committed with its outbox rows before anything here runs, and a failure
here only delays the boards until the background replay succeeds.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterable

from leaderboards import Leaderboards, flush_outbox, listen, publish

__all__ = ["Events"]

_log = logging.getLogger("laurel.events")


class Events:
    """One per process: pushes committed board updates to Redis, in order, each once."""

    def __init__(self, boards: Leaderboards | None, *, timeout: float = 2.0) -> None:
        self.boards = boards
        self._timeout = timeout
        self._lock = asyncio.Lock()

    async def points_committed(self) -> None:
        """Push pending board updates now; on failure leave them to ``replay_forever``."""
        if self.boards is None:
            return
        try:
            async with self._lock, asyncio.timeout(self._timeout):
                await flush_outbox(self.boards)
        except Exception as exc:  # Redis down or slow: the outbox keeps the updates.
            _log.warning("board update deferred, Redis unavailable: %s", exc)

    async def replay_forever(self, interval: float = 2.0) -> None:
        """Background task: retry the outbox until the process stops."""
        while True:
            await self.points_committed()
            await asyncio.sleep(interval)

    @staticmethod
    def _badge_channel(member_id: int) -> str:
        return f"laurel:events:badges:{member_id}"

    async def badges_awarded(self, member_id: int, award_ids: Iterable[int]) -> None:
        """Tell every worker (and so every subscriber) about newly granted levels."""
        if self.boards is None:
            return
        for award_id in award_ids:
            message = json.dumps({"award": award_id})
            await publish(self.boards.redis, self._badge_channel(member_id), message)

    async def badge_awards(self, member_id: int) -> AsyncIterator[int]:
        """Award ids granted to ``member_id`` from now on, from any worker."""
        if self.boards is None:
            return
        async for message in listen(self.boards.redis, self._badge_channel(member_id)):
            yield int(json.loads(message)["award"])
