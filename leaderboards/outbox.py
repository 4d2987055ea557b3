"""Moving committed board updates from the SQL outbox to Redis."""

from __future__ import annotations

from leaderboards.boards import Leaderboards
from server.rewards.ledger import BoardUpdate

__all__ = ["flush_outbox", "outbox_depth"]


async def flush_outbox(boards: Leaderboards, *, batch: int = 500) -> int:
    """Apply every pending update in id order, then delete it; return how many were moved.

    Raises the Redis error when Redis is unreachable; the rows stay for the
    next try. Rows applied but not yet deleted (a crash in between) are not
    applied twice: each carries a marker in Redis. While a rebuild runs,
    nothing is applied.
    """
    moved = 0
    if await boards.redis.exists(f"{boards.prefix}:rebuild-lock"):
        return 0  # a rebuild is swapping boards in; the rows wait for it
    while True:
        rows = await BoardUpdate.all().order_by("id").limit(batch)
        if not rows:
            return moved
        changed = await boards.apply(rows)
        await BoardUpdate.filter(id__in=[row.id for row in rows]).delete()
        await boards.announce(changed)
        moved += len(rows)


async def outbox_depth() -> int:
    """Updates committed in SQL and not yet on the boards."""
    return await BoardUpdate.all().count()
