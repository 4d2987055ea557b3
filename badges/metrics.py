"""Metrics over a member's history, computed from SQL, and which activity moves which.

Each metric is read inside the granter's transaction, after the member's row
lock, so it sees every activity committed before the lock was taken.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from tortoise.expressions import Q

from badges.spec import Metric
from server.rewards.activities import Activity, ActivityKind, ActivityStatus, Refund
from server.rewards.contests import Placement
from server.rewards.members import Member

__all__ = ["ALL_METRICS", "CAUSES", "longest_streak", "metric_values"]

_REVIEWS = (ActivityKind.REVIEW, ActivityKind.PHOTO_REVIEW)
_ACTIVITY = (Metric.ACTIVE_DAYS, Metric.ACTIVE_DAY_STREAK, Metric.LIFETIME_POINTS)

# The metrics an activity of each kind can change (when recorded, decided, reversed or refunded).
CAUSES: dict[ActivityKind, frozenset[Metric]] = {
    ActivityKind.REVIEW: frozenset({Metric.REVIEWS, Metric.PHOTO_REVIEWS, *_ACTIVITY}),
    ActivityKind.PHOTO_REVIEW: frozenset({Metric.REVIEWS, Metric.PHOTO_REVIEWS, *_ACTIVITY}),
    ActivityKind.SOCIAL_SHARE: frozenset({Metric.SHARES, *_ACTIVITY}),
    ActivityKind.REFERRAL: frozenset({Metric.REFERRALS, Metric.LIFETIME_POINTS}),
    ActivityKind.PURCHASE: frozenset({Metric.PURCHASES, Metric.AMOUNT_SPENT, *_ACTIVITY}),
}
ALL_METRICS = frozenset(Metric)


class _History:
    """One member's history as the metrics read it: a read two metrics share (the orders
    kept, the active days) is made once per evaluation."""

    def __init__(self, member_id: int) -> None:
        self.member_id = member_id
        self._orders: list[tuple[int, Any]] | None = None
        self._dates: list[date] | None = None

    def approved(self, *kinds: ActivityKind) -> Awaitable[int]:
        return Activity.filter(
            member_id=self.member_id, kind__in=kinds, status=ActivityStatus.APPROVED
        ).count()

    async def kept_orders(self) -> list[tuple[int, Any]]:
        """(id, payload) of the member's orders not reversed."""
        if self._orders is None:
            kept = Q(member_id=self.member_id, kind=ActivityKind.PURCHASE) & ~Q(
                status=ActivityStatus.REVERSED
            )
            rows = await Activity.filter(kept).values_list("id", "payload")
            self._orders = [(int(pk), payload) for pk, payload in rows]
        return self._orders

    async def active_dates(self) -> list[date]:
        """UTC days with an approved activity or an order (pending or not)."""
        if self._dates is None:
            counted = Q(status=ActivityStatus.APPROVED) | Q(
                kind=ActivityKind.PURCHASE, status=ActivityStatus.PENDING
            )
            moments: list[object] = list(
                await Activity.filter(Q(member_id=self.member_id) & counted).values_list(
                    "occurred_at", flat=True
                )
            )
            self._dates = sorted({m.date() for m in moments if isinstance(m, datetime)})
        return self._dates


async def _reviews(history: _History) -> int:
    return await history.approved(*_REVIEWS)


async def _photo_reviews(history: _History) -> int:
    return await history.approved(ActivityKind.PHOTO_REVIEW)


async def _shares(history: _History) -> int:
    return await history.approved(ActivityKind.SOCIAL_SHARE)


async def _referrals(history: _History) -> int:
    return await history.approved(ActivityKind.REFERRAL)


async def _purchases(history: _History) -> int:
    return len(await history.kept_orders())


async def _amount_spent(history: _History) -> int:
    """Whole currency units of orders kept, refunds of those orders deducted."""
    orders = await history.kept_orders()
    cents = sum(int(payload.get("amountCents", 0)) for _, payload in orders)
    refunds = await Refund.filter(purchase_id__in=[pk for pk, _ in orders]).values_list(
        "amount_cents", flat=True
    )
    refunded = sum(int(c) for c in refunds)  # type: ignore[call-overload]
    return max(0, cents - refunded) // 100


async def _lifetime_points(history: _History) -> int:
    rows = await Member.filter(id=history.member_id).values_list("lifetime_points", flat=True)
    return int(rows[0]) if rows else 0  # type: ignore[call-overload]


async def _active_days(history: _History) -> int:
    return len(await history.active_dates())


def longest_streak(days: Iterable[date]) -> int:
    """The longest run of consecutive days in ``days`` (sorted, distinct)."""
    best = run = 0
    previous: date | None = None
    for day in days:
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        best, previous = max(best, run), day
    return best


async def _streak(history: _History) -> int:
    return longest_streak(await history.active_dates())


async def _contests_won(history: _History) -> int:
    """Finalized contests with this member ranked first (ties included)."""
    return await Placement.filter(member_id=history.member_id, rank=1).count()


_COMPUTE: dict[Metric, Callable[[_History], Awaitable[int]]] = {
    Metric.REVIEWS: _reviews,
    Metric.PHOTO_REVIEWS: _photo_reviews,
    Metric.SHARES: _shares,
    Metric.REFERRALS: _referrals,
    Metric.PURCHASES: _purchases,
    Metric.AMOUNT_SPENT: _amount_spent,
    Metric.LIFETIME_POINTS: _lifetime_points,
    Metric.ACTIVE_DAYS: _active_days,
    Metric.ACTIVE_DAY_STREAK: _streak,
    Metric.CONTESTS_WON: _contests_won,
}


async def metric_values(member_id: int, metrics: Iterable[Metric]) -> dict[Metric, int]:
    """The member's value of each metric; reads two metrics share are made once."""
    history = _History(member_id)
    return {metric: await _COMPUTE[metric](history) for metric in set(metrics)}
