"""Moving committed board updates from the SQL outbox to Redis."""

from __future__ import annotations

from collections.abc import Sequence

from leaderboards.boards import ContestUpdate, Leaderboards
from server.rewards.activities import Activity
from server.rewards.contests import Contest, Disqualification, counts
from server.rewards.ledger import BoardUpdate, LedgerEntry

__all__ = ["flush_outbox", "outbox_depth"]


async def flush_outbox(boards: Leaderboards, *, batch: int = 500) -> int:
    """Apply every pending update in id order, then delete it; return how many were moved.

    Raises the Redis error when Redis is unreachable; the rows stay for the
    next try. Rows applied but not yet deleted (a crash in between) are not
    applied twice: each carries a marker in Redis. While a rebuild runs,
    nothing is applied.
    """
    moved = 0
    if await boards.redis.exists(boards.rebuild_lock):
        return 0  # a rebuild is swapping boards in; the rows wait for it
    while True:
        rows = await BoardUpdate.all().order_by("id").limit(batch)
        if not rows:
            return moved
        changed = await boards.apply(rows)
        changed |= await boards.apply_contests(await _contest_updates(rows))
        await BoardUpdate.filter(id__in=[row.id for row in rows]).delete()
        await boards.announce(changed)
        moved += len(rows)


async def outbox_depth() -> int:
    """Updates committed in SQL and not yet on the boards."""
    return await BoardUpdate.all().count()


async def _contest_updates(rows: Sequence[BoardUpdate]) -> list[ContestUpdate]:
    """The part of each update that counts for a contest not yet finalized."""
    contests = await Contest.filter(
        published_at__isnull=False, cancelled_at__isnull=True, finalized_at__isnull=True
    )
    if not contests:
        return []
    entry_ids = [r.entry_id for r in rows if r.entry_id is not None]
    activity_of = dict(
        await LedgerEntry.filter(id__in=entry_ids, activity_id__isnull=False).values_list(
            "id", "activity_id"
        )
    )
    activities = {a.id: a for a in await Activity.filter(id__in=list(set(activity_of.values())))}
    banned = set(
        await Disqualification.filter(
            contest_id__in=[c.id for c in contests], active=True
        ).values_list("contest_id", "member_id")
    )
    out: list[ContestUpdate] = []
    for row in rows:
        activity = activities.get(activity_of.get(row.entry_id, 0))
        if activity is None:
            continue
        for contest in contests:
            if (contest.id, row.member_id) in banned:
                continue
            if counts(contest, activity.kind.value, activity.occurred_at, row.community):
                out.append(
                    ContestUpdate(row.id, contest.id, contest.ends_at, row.member_id, row.delta)
                )
    return out
