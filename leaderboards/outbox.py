"""Moving committed board updates from the SQL outbox to Redis."""

from __future__ import annotations

from leaderboards.boards import Leaderboards
from server.rewards.ledger import BoardUpdate

__all__ = ["flush_outbox", "outbox_depth"]


async def flush_outbox(boards: Leaderboards, *, batch: int = 500) -> int:
    """Apply every pending update in id order, then delete it; return how many were moved.

    Raises the Redis error when Redis is unreachable; the rows stay for the
    next try. Rows applied but not yet deleted (a crash in between) are not
    applied twice: each carries a marker in Redis.
    """
    moved = 0
    while True:
        rows = await BoardUpdate.all().order_by("id").limit(batch)
        if not rows:
            return moved
        await boards.apply(rows)
        await BoardUpdate.filter(id__in=[row.id for row in rows]).delete()
        moved += len(rows)


async def outbox_depth() -> int:
    """Updates committed in SQL and not yet on the boards."""
    return await BoardUpdate.all().count()
