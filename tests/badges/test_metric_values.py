"""Every badge metric read in one statement, against a history whose values are worked
out by hand: UTC days near midnight, a reversed order, a refund, a pending order, a
rejected review and another member's rows that must not count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from itertools import count

from badges.metrics import metric_values
from badges.spec import Metric
from server import actions
from server.actions import Services
from server.auth import Principal, Role
from server.rewards.activities import Activity, ActivityKind, ActivityStatus, Refund
from server.rewards.members import Member

SHOP = Principal(role=Role.SERVICE, name="shop backend")
_keys = count()
K, S = ActivityKind, ActivityStatus


async def _activity(
    member: Member, kind: ActivityKind, status: ActivityStatus, at: datetime, cents: int = 0
) -> Activity:
    n = next(_keys)
    return await Activity.create(
        member_id=member.id,
        kind=kind,
        status=status,
        idempotency_key=f"metric-{n}",
        request_hash="",
        payload={"amountCents": cents} if kind is K.PURCHASE else {},
        occurred_at=at,
    )


async def _member(svc: Services, name: str, lifetime: int = 0) -> Member:
    member = await actions.upsert_member(svc, SHOP, external_id=name, display_name=name.title())
    await Member.filter(id=member.id).update(lifetime_points=lifetime)
    return member


async def test_each_metric_of_a_history_worked_out_by_hand(svc: Services) -> None:
    ana = await _member(svc, "ana", 1234)
    other = await _member(svc, "ole", 9)
    day = datetime(2026, 3, 1, tzinfo=UTC)
    # Days (UTC): Mar 1, Mar 2 (23:59:59.9), Mar 3 (two), Mar 5, Mar 6, Mar 7, Mar 8.
    await _activity(ana, K.REVIEW, S.APPROVED, day + timedelta(hours=10))
    await _activity(ana, K.PHOTO_REVIEW, S.APPROVED, day + timedelta(days=2, milliseconds=-100))
    # 01:30 at +03:00 is Mar 2, 22:30 UTC: the same UTC day as the one before.
    east = timezone(timedelta(hours=3))
    await _activity(ana, K.PHOTO_REVIEW, S.APPROVED, datetime(2026, 3, 3, 1, 30, tzinfo=east))
    await _activity(ana, K.SOCIAL_SHARE, S.APPROVED, day + timedelta(days=2, hours=1))
    await _activity(ana, K.SOCIAL_SHARE, S.APPROVED, day + timedelta(days=2, hours=20))
    order = await _activity(ana, K.PURCHASE, S.APPROVED, day + timedelta(days=4), cents=12_345)
    await _activity(ana, K.PURCHASE, S.PENDING, day + timedelta(days=5), cents=5_000)
    await _activity(ana, K.PURCHASE, S.REVERSED, day + timedelta(days=9), cents=99_900)
    await _activity(ana, K.REFERRAL, S.APPROVED, day + timedelta(days=6))
    await _activity(ana, K.REFERRAL, S.PENDING, day + timedelta(days=11))  # not a day
    await _activity(ana, K.REVIEW, S.REJECTED, day + timedelta(days=12))  # not a day
    await _activity(ana, K.SOCIAL_SHARE, S.APPROVED, day + timedelta(days=7, hours=23))
    await Refund.create(
        purchase_id=order.id,
        idempotency_key="r-1",
        request_hash="",
        amount_cents=2_300,
        points_taken=0,
    )
    await _activity(other, K.PURCHASE, S.APPROVED, day, cents=50_000)
    await _activity(other, K.REVIEW, S.APPROVED, day + timedelta(days=1))

    values = await metric_values(ana.id, set(Metric))

    assert values == {
        Metric.REVIEWS: 3,  # the approved review and photo reviews
        Metric.PHOTO_REVIEWS: 2,
        Metric.SHARES: 3,
        Metric.REFERRALS: 1,
        Metric.PURCHASES: 2,  # the reversed order is not kept
        Metric.AMOUNT_SPENT: 150,  # (12,345 + 5,000 - 2,300) cents = 150.45, whole units
        Metric.LIFETIME_POINTS: 1234,
        # Mar 1, 2, 3, 5, 6, 7, 8: the reversed order, the pending referral and the
        # rejected review count no day.
        Metric.ACTIVE_DAYS: 7,
        Metric.ACTIVE_DAY_STREAK: 4,  # Mar 5 to 8
        Metric.CONTESTS_WON: 0,
    }
    assert await metric_values(ana.id, {Metric.AMOUNT_SPENT}) == {Metric.AMOUNT_SPENT: 150}
    assert await metric_values(ana.id, set()) == {}


async def test_a_member_with_no_history_has_zero_of_everything(svc: Services) -> None:
    new = await _member(svc, "new")
    assert await metric_values(new.id, set(Metric)) == dict.fromkeys(Metric, 0)
