"""Metrics over a member's history, computed from SQL, and which activity moves which.

Each metric is read inside the granter's transaction, after the member's row
lock, so it sees every activity committed before the lock was taken.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import date, datetime, timedelta

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


def _approved(member_id: int, *kinds: ActivityKind) -> Awaitable[int]:
    return Activity.filter(
        member_id=member_id, kind__in=kinds, status=ActivityStatus.APPROVED
    ).count()


async def _reviews(member_id: int) -> int:
    return await _approved(member_id, *_REVIEWS)


async def _photo_reviews(member_id: int) -> int:
    return await _approved(member_id, ActivityKind.PHOTO_REVIEW)


async def _shares(member_id: int) -> int:
    return await _approved(member_id, ActivityKind.SOCIAL_SHARE)


async def _referrals(member_id: int) -> int:
    return await _approved(member_id, ActivityKind.REFERRAL)


def _kept_orders(member_id: int) -> Q:
    return Q(member_id=member_id, kind=ActivityKind.PURCHASE) & ~Q(status=ActivityStatus.REVERSED)


async def _purchases(member_id: int) -> int:
    return await Activity.filter(_kept_orders(member_id)).count()


async def _amount_spent(member_id: int) -> int:
    """Whole currency units of orders kept, refunds of those orders deducted."""
    orders = await Activity.filter(_kept_orders(member_id)).values_list("id", "payload")
    cents = sum(int(payload.get("amountCents", 0)) for _, payload in orders)
    refunds = await Refund.filter(purchase_id__in=[pk for pk, _ in orders]).values_list(
        "amount_cents", flat=True
    )
    refunded = sum(int(c) for c in refunds)  # type: ignore[call-overload]
    return max(0, cents - refunded) // 100


async def _lifetime_points(member_id: int) -> int:
    rows = await Member.filter(id=member_id).values_list("lifetime_points", flat=True)
    return int(rows[0]) if rows else 0  # type: ignore[call-overload]


async def _active_dates(member_id: int) -> list[date]:
    """UTC days with an approved activity or an order (pending or not)."""
    counted = Q(status=ActivityStatus.APPROVED) | Q(
        kind=ActivityKind.PURCHASE, status=ActivityStatus.PENDING
    )
    moments: list[object] = list(
        await Activity.filter(Q(member_id=member_id) & counted).values_list(
            "occurred_at", flat=True
        )
    )
    return sorted({m.date() for m in moments if isinstance(m, datetime)})


async def _active_days(member_id: int) -> int:
    return len(await _active_dates(member_id))


def longest_streak(days: Iterable[date]) -> int:
    """The longest run of consecutive days in ``days`` (sorted, distinct)."""
    best = run = 0
    previous: date | None = None
    for day in days:
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        best, previous = max(best, run), day
    return best


async def _streak(member_id: int) -> int:
    return longest_streak(await _active_dates(member_id))


async def _contests_won(member_id: int) -> int:
    """Finalized contests with this member ranked first (ties included)."""
    return await Placement.filter(member_id=member_id, rank=1).count()


_COMPUTE: dict[Metric, Callable[[int], Awaitable[int]]] = {
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
    return {metric: await _COMPUTE[metric](member_id) for metric in set(metrics)}
