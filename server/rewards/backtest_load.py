# The SQL below is put together from constant fragments only; every value is bound.
# ruff: noqa: S608
"""What a backtest reads: the ledger before the range (for the scratch copy), the
range's entries and recorded activities in time order, the badge metrics it counts
and the members who had joined. Read only; long reads as tuples."""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.rewards.backtest_state import Activity, Count, Entry, Scratch
from server.rewards.metrics_sql import Sql

__all__ = ["History", "load"]

_ENTRY = (
    "SELECT e.id, e.member_id, e.kind, e.amount, e.pending_delta, e.lifetime_delta, "
    "e.qualifying, {at}, {expires}, e.activity_id, e.source_entry_id, e.idempotency_key "
    "FROM ledger_entries e "
)
# Counted badge metrics: (metric, activity kinds) approved at their decision.
_APPROVALS = {
    "REVIEWS": ("REVIEW", "PHOTO_REVIEW"),
    "PHOTO_REVIEWS": ("PHOTO_REVIEW",),
    "SHARES": ("SOCIAL_SHARE",),
    "REFERRALS": ("REFERRAL",),
}
COUNTED = frozenset({*_APPROVALS, "PURCHASES"})
_SLICE = 20_000  # rows turned into entries between two turns of the event loop


@dataclass(slots=True)
class History:
    scratch: Scratch
    activities: dict[int, Activity]
    recorded: list[tuple[float, int, int]]  # (at, activity id, member), in time order
    entries: list[Entry]  # the range's, in time order
    counts: list[Count]
    joined: list[int]

    def stream(self) -> Iterator[tuple[float, int, Any]]:
        """Recordings, entries and counts in time order: at one time an activity's
        recording before entries, entries before counts."""
        return heapq.merge(
            ((at, 0, (aid, member)) for at, aid, member in self.recorded),
            ((e.at, 1, e) for e in self.entries),
            ((c.at, 2, c) for c in self.counts),
            key=lambda item: (item[0], item[1]),
        )


def _role(key: str, activity: int | None, award_slugs: Mapping[int, str]) -> str:
    head, _, rest = key.partition(":")
    if head in ("badge", "badge-revoke"):
        award = rest.partition(":")[0]
        return f"badge:{award_slugs.get(int(award), '')}" if award.isdigit() else ""
    if head == "tier-bonus":
        return "tier"
    if head == "expire":
        return "expire"
    return "own" if activity is not None else ""


def _entry(row: Any, award_slugs: Mapping[int, str]) -> Entry:
    activity = None if row[9] is None else int(row[9])
    return Entry(
        int(row[0]),
        int(row[1]),
        str(row[2]),
        int(row[3]),
        int(row[4]),
        int(row[5]),
        bool(row[6]),
        float(row[7]),
        None if row[8] is None else float(row[8]),
        activity,
        None if row[10] is None else int(row[10]),
        _role(str(row[11]), activity, award_slugs),
    )


async def load(
    start: datetime,
    end: datetime,
    *,
    award_slugs: Mapping[int, str],
    metrics: frozenset[str] = frozenset(),
) -> History:
    """The history a backtest of [start, end) replays; ``metrics`` are the badge metrics
    it counts itself (of ``COUNTED``)."""
    sql = Sql()
    entry = _ENTRY.format(at=sql.epoch("e.occurred_at"), expires=sql.epoch("e.expires_at"))
    scratch = Scratch()
    before = await sql.tuples(f"{entry}WHERE e.occurred_at < ? ORDER BY e.id", [start])
    for n, row in enumerate(before, 1):
        scratch.take(_entry(row, award_slugs))
        if n % _SLICE == 0:
            await asyncio.sleep(0)  # the worker's other requests get their turn
    del before
    entries: list[Entry] = []
    inside = await sql.tuples(
        f"{entry}WHERE e.occurred_at >= ? AND e.occurred_at < ? ORDER BY e.occurred_at, e.id",
        [start, end],
    )
    for n, row in enumerate(inside, 1):
        entries.append(_entry(row, award_slugs))
        if n % _SLICE == 0:
            await asyncio.sleep(0)
    del inside
    activities, recorded = await _activities(sql, start, end)
    counts = await _counts(sql, scratch, start, end, metrics) if metrics else []
    joined = [
        int(r[0]) for r in await sql.tuples("SELECT id FROM members WHERE created_at < ?", [end])
    ]
    return History(scratch, activities, recorded, entries, counts, joined)


async def _activities(
    sql: Sql, start: datetime, end: datetime
) -> tuple[dict[int, Activity], list[tuple[float, int, int]]]:
    """The activities recorded in the range and those the range's entries belong to."""
    columns = (
        f"SELECT a.id, a.member_id, a.kind, CASE WHEN a.kind = 'PURCHASE' THEN {sql.amount} END, "
        f"a.points_awarded, a.status, {sql.epoch('a.occurred_at')}, {{inside}} FROM activities a "
    )
    # Two parts, not one OR: PostgreSQL runs "OR a.id IN (subquery)" as a subplan per row
    # once the ids outgrow work_mem (minutes on a year of 2,000,000 entries).
    rows = await sql.tuples(
        f"{columns.format(inside=1)}WHERE a.occurred_at >= ? AND a.occurred_at < ? "
        f"UNION ALL {columns.format(inside=0)}WHERE a.occurred_at < ? AND EXISTS (SELECT 1 "
        "FROM ledger_entries e WHERE e.activity_id = a.id AND e.occurred_at >= ? "
        "AND e.occurred_at < ?) ORDER BY 7, 1",
        [start, end, start, start, end],
    )
    activities: dict[int, Activity] = {}
    recorded: list[tuple[float, int, int]] = []
    for aid, member, kind, cents, points, status, at, inside in rows:
        cents = None if cents is None else int(cents)
        activities[int(aid)] = Activity(str(kind), cents, int(points), status == "REJECTED")
        if int(inside):
            recorded.append((float(at), int(aid), int(member)))
    return activities, recorded


async def _counts(
    sql: Sql, scratch: Scratch, start: datetime, end: datetime, metrics: frozenset[str]
) -> list[Count]:
    """Each counted metric's value per member at ``start`` (into ``scratch``) and its
    moves in the range: approvals at their decision, orders when recorded and when a
    refund reverses them whole."""
    counts: list[Count] = []
    last = "(SELECT purchase_id, MAX(created_at) AS last FROM refunds GROUP BY purchase_id)"
    for metric in sorted(metrics & COUNTED):
        if metric == "PURCHASES":
            orders = "FROM activities a WHERE a.kind = 'PURCHASE'"
            undone = (
                f"FROM activities a JOIN {last} x ON x.purchase_id = a.id "
                "WHERE a.kind = 'PURCHASE' AND a.status = 'REVERSED'"
            )
            before = (
                f"SELECT member_id, SUM(n) FROM (SELECT a.member_id, 1 AS n {orders} "
                f"AND a.occurred_at < ? UNION ALL SELECT a.member_id, -1 AS n {undone} "
                "AND x.last < ?) c GROUP BY member_id"
            )
            moves = (
                f"SELECT a.member_id, {sql.epoch('a.occurred_at')}, 1 {orders} "
                f"AND a.occurred_at >= ? AND a.occurred_at < ? UNION ALL "
                f"SELECT a.member_id, {sql.epoch('x.last')}, -1 {undone} "
                "AND x.last >= ? AND x.last < ?"
            )
            before_params, move_params = [start, start], [start, end, start, end]
        else:
            kinds = ", ".join(f"'{k}'" for k in _APPROVALS[metric])
            approved = f"FROM activities a WHERE a.kind IN ({kinds}) AND a.status = 'APPROVED'"
            before = f"SELECT a.member_id, COUNT(*) {approved} AND a.decided_at < ? GROUP BY 1"
            moves = (
                f"SELECT a.member_id, {sql.epoch('a.decided_at')}, 1 {approved} "
                "AND a.decided_at >= ? AND a.decided_at < ?"
            )
            before_params, move_params = [start], [start, end]
        for member, value in await sql.tuples(before, before_params):
            scratch.counted(int(member), {metric: int(value)})
        counts += [
            Count(float(t), int(member), metric, int(n))
            for member, t, n in await sql.tuples(moves, move_params)
        ]
    counts.sort(key=lambda c: c.at)
    return counts
