"""The granter through real activities: every default badge at each of its thresholds,
upgrades in place, bonuses through the ledger, revocation and manual revoke."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from itertools import count

import pytest

from badges import DEFAULT_BADGES, BadgeAward, BadgeDefinition
from server import actions
from server.actions import Services
from server.auth import Principal, Role
from server.rewards.consistency import find_mismatches
from server.rewards.errors import NotFound, PermissionDenied
from server.rewards.ledger import LedgerEntry
from server.rewards.members import Member

SHOP = Principal(role=Role.SERVICE, name="shop backend")
MODERATOR = Principal(role=Role.MODERATOR, name="mia")
ADMIN = Principal(role=Role.ADMIN, name="ada")
SPEC = {spec.slug: spec for spec in DEFAULT_BADGES}
_keys = count()


async def _member(svc: Services, name: str) -> Member:
    return await actions.upsert_member(svc, SHOP, external_id=name, display_name=name.title())


async def _held(member: Member, slug: str) -> int:
    rows = await BadgeAward.filter(
        member_id=member.id, badge__slug=slug, revoked_at__isnull=True
    ).values_list("level", flat=True)
    return max((int(str(level)) for level in rows), default=0)


async def _purchase(
    svc: Services, member: Member, cents: int, products: list[str] | None = None
) -> actions.Recorded:
    n = next(_keys)
    return await actions.record_purchase(
        svc,
        SHOP,
        idempotency_key=f"order-{n}",
        member_external_id=member.external_id,
        order_id=f"O-{n}",
        amount_cents=cents,
        product_ids=products,
    )


async def _approved_review(
    svc: Services, member: Member, product: str, *, photo: bool = False
) -> actions.Recorded:
    review = await actions.submit_review(
        svc,
        SHOP,
        idempotency_key=f"review-{next(_keys)}",
        product_id=product,
        rating=5,
        text="Exactly as described, and it arrived quickly.",
        has_photo=photo,
        member_external_id=member.external_id,
    )
    return await actions.moderate_activity(
        svc,
        MODERATOR,
        activity_id=str(review.activity.id),
        decision=actions.Decision.APPROVE,
        reason=None,
    )


async def _share(svc: Services, member: Member) -> actions.Recorded:
    n = next(_keys)
    return await actions.record_share(
        svc,
        SHOP,
        idempotency_key=f"share-{n}",
        platform="facebook",
        url=f"https://shop.example.com/p/{n}",
        member_external_id=member.external_id,
    )


async def _climb(
    member: Member, slugs: list[str], steps: int, act: Callable[[int], Awaitable[int]]
) -> None:
    """Do ``steps`` activities; after each, every badge in ``slugs`` holds exactly the
    levels whose threshold the metric has reached, no earlier and no later."""
    for step in range(1, steps + 1):
        value = await act(step)
        for slug in slugs:
            expected = sum(1 for t in SPEC[slug].thresholds if value >= t)
            assert await _held(member, slug) == expected, (slug, value)


async def test_every_default_badge_is_valid_and_seeded(catalog: Services) -> None:
    stored = {b.slug: b for b in await BadgeDefinition.all()}
    assert set(stored) == set(SPEC)
    assert len(stored) >= 12
    multi = [s for s in DEFAULT_BADGES if len(s.thresholds) == 3]
    assert len(multi) >= 9


async def test_reviews_earn_first_review_prolific_and_photo_levels(catalog: Services) -> None:
    svc = catalog
    ana = await _member(svc, "ana")
    products = [f"P{i}" for i in range(100)]
    await _purchase(svc, ana, 1000, products)

    async def review(step: int) -> int:
        done = await _approved_review(svc, ana, products[step - 1], photo=step <= 50)
        if step in (1, 5, 10, 25, 50, 100):
            assert done.badges, f"a level is due at {step} reviews"
        return step

    await _climb(ana, ["first-review", "prolific-reviewer"], 100, review)
    assert await _held(ana, "photo-reviewer") == 3


async def test_daily_shares_earn_sharer_regular_and_streak_levels(catalog: Services) -> None:
    svc = catalog
    ben = await _member(svc, "ben")

    async def share_a_day(step: int) -> int:
        await _share(svc, ben)
        svc.clock.advance(days=1)  # type: ignore[attr-defined]
        return step

    slugs = ["first-share", "sharer", "regular", "on-a-roll"]
    await _climb(ben, slugs, 200, share_a_day)


async def test_a_gap_breaks_the_streak_but_not_the_days_counted(catalog: Services) -> None:
    svc = catalog
    cy = await _member(svc, "cy")
    for day in range(6):
        await _share(svc, cy)
        svc.clock.advance(days=2 if day == 2 else 1)  # type: ignore[attr-defined]
    assert await _held(cy, "on-a-roll") == 1  # runs of 3 and 3, never 7
    assert await _held(cy, "first-share") == 1


async def test_orders_earn_welcome_loyal_and_big_spender(catalog: Services) -> None:
    svc = catalog
    dee = await _member(svc, "dee")
    spent = 0

    async def order(step: int) -> int:
        nonlocal spent
        cents = 15_000 if step <= 10 else 10_000
        await _purchase(svc, dee, cents)
        spent += cents
        assert await _held(dee, "big-spender") == sum(
            1 for t in SPEC["big-spender"].thresholds if spent // 100 >= t
        )
        return step

    await _climb(dee, ["first-purchase", "loyal-customer"], 50, order)
    assert spent // 100 == 5_500
    assert await _held(dee, "big-spender") == 3


async def test_points_milestones_count_bonuses_too(catalog: Services) -> None:
    svc = catalog
    eve = await _member(svc, "eve")
    await actions.adjust_points(
        svc, ADMIN, idempotency_key="gift", member_id=str(eve.id), amount=1_990, reason="gift"
    )
    # 1,990 reaches 500 (bonus 25); 2,015 then reaches 2,000 (bonus 100): one call, two levels.
    assert await _held(eve, "point-collector") == 2
    await eve.refresh_from_db()
    assert eve.lifetime_points == 1_990 + 25 + 100
    assert await find_mismatches() == []


async def test_referrals_earn_the_ambassador_once_orders_are_final(catalog: Services) -> None:
    svc = catalog
    host = await _member(svc, "host")
    for i in range(5):
        friend = await actions.upsert_member(
            svc,
            SHOP,
            external_id=f"friend-{i}",
            display_name=f"Friend {i}",
            email=f"friend{i}@example.com",
            referral_code=host.referral_code,
        )
        await _purchase(svc, friend, 5_000)
    assert await _held(host, "referrer") == 0  # orders still inside their return window
    svc.clock.advance(days=15)  # type: ignore[attr-defined]
    await actions.release_pending(svc)
    assert await _held(host, "referrer") == 2  # 1 and 5 referrals


async def test_contest_winner_waits_for_contests(catalog: Services) -> None:
    svc = catalog
    fay = await _member(svc, "fay")
    await _purchase(svc, fay, 100_000)
    assert await _held(fay, "contest-winner") == 0


async def test_a_bonus_is_one_ledger_entry_and_balances_match(catalog: Services) -> None:
    svc = catalog
    gil = await _member(svc, "gil")
    done = await _purchase(svc, gil, 12_000)
    assert {(g.badge.slug, g.level) for g in done.badges} == {
        ("first-purchase", 1),
        ("big-spender", 1),
    }
    bonuses = await LedgerEntry.filter(member_id=gil.id, idempotency_key__startswith="badge:")
    assert sorted(e.amount for e in bonuses) == [5, 20]
    await gil.refresh_from_db()
    assert gil.points_balance == 25  # bonuses are spendable at once; the order's 120 pending
    assert gil.pending_points == 120
    assert await find_mismatches() == []


async def test_a_retried_call_returns_the_same_badges_and_grants_nothing_more(
    catalog: Services,
) -> None:
    svc = catalog
    hal = await _member(svc, "hal")
    first = await actions.record_purchase(
        svc, SHOP, idempotency_key="k", member_external_id="hal", order_id="X1", amount_cents=500
    )
    again = await actions.record_purchase(
        svc, SHOP, idempotency_key="k", member_external_id="hal", order_id="X1", amount_cents=500
    )
    assert again.duplicate
    assert [(g.badge.slug, g.level) for g in again.badges] == [
        (g.badge.slug, g.level) for g in first.badges
    ]
    assert await BadgeAward.filter(member_id=hal.id).count() == 1


async def test_a_removed_review_revokes_a_revocable_badge_and_its_bonus(catalog: Services) -> None:
    svc = catalog
    ida = await _member(svc, "ida")
    await _purchase(svc, ida, 1_000, ["P1"])
    review = await _approved_review(svc, ida, "P1")
    assert await _held(ida, "first-review") == 1
    await ida.refresh_from_db()
    lifetime = ida.lifetime_points
    await actions.moderate_activity(
        svc,
        MODERATOR,
        activity_id=str(review.activity.id),
        decision=actions.Decision.REVERSE,
        reason="copied from another site",
    )
    assert await _held(ida, "first-review") == 0
    row = await BadgeAward.get(member_id=ida.id, badge__slug="first-review")
    assert row.revoked_at is not None
    assert row.revoked_by == "criterion"
    await ida.refresh_from_db()
    assert ida.lifetime_points == lifetime - 20 - 10  # the review's points and its badge bonus
    assert await find_mismatches() == []
    # Earned again by a new review: the same row, a new generation, a new bonus.
    await _purchase(svc, ida, 1_000, ["P2"])
    again = await _approved_review(svc, ida, "P2")
    assert [(g.badge.slug, g.level) for g in again.badges] == [("first-review", 1)]
    await row.refresh_from_db()
    assert row.generation == 2
    assert row.revoked_at is None
    assert await LedgerEntry.filter(idempotency_key__startswith=f"badge:{row.id}:").count() == 2


async def test_a_full_refund_revokes_order_badges_but_not_lifetime_ones(catalog: Services) -> None:
    svc = catalog
    jo = await _member(svc, "jo")
    order = (await _purchase(svc, jo, 20_000)).activity.target
    assert await _held(jo, "first-purchase") == 1
    assert await _held(jo, "big-spender") == 1
    await actions.refund_purchase(
        svc, SHOP, idempotency_key="r1", order_id=str(order), amount_cents=9_000
    )
    assert await _held(jo, "big-spender") == 1  # 110.00 kept: still over 100
    assert await _held(jo, "first-purchase") == 1
    await actions.refund_purchase(
        svc, SHOP, idempotency_key="r2", order_id=str(order), amount_cents=11_000
    )
    assert await _held(jo, "first-purchase") == 0
    assert await _held(jo, "big-spender") == 0
    await jo.refresh_from_db()
    assert jo.points_balance == 0
    assert jo.pending_points == 0
    assert await find_mismatches() == []


async def test_a_moderator_revokes_with_a_reason_and_rules_do_not_give_it_back(
    catalog: Services,
) -> None:
    svc = catalog
    kim = await _member(svc, "kim")
    await _purchase(svc, kim, 500)
    assert await _held(kim, "first-purchase") == 1
    with pytest.raises(PermissionDenied):
        await actions.revoke_badge(
            svc, SHOP, member_id=str(kim.id), slug="first-purchase", reason="x"
        )
    done = await actions.revoke_badge(
        svc, MODERATOR, member_id=str(kim.id), slug="first-purchase", reason="fraudulent order"
    )
    assert [g.level for g in done.revoked] == [1]
    again = await actions.revoke_badge(
        svc, MODERATOR, member_id=str(kim.id), slug="first-purchase", reason="fraudulent order"
    )
    assert again.revoked == []
    row = await BadgeAward.get(member_id=kim.id, badge__slug="first-purchase")
    assert (row.revoked_by, row.revoked_reason) == ("moderator:mia", "fraudulent order")
    await _purchase(svc, kim, 500)
    assert await _held(kim, "first-purchase") == 0
    with pytest.raises(NotFound):
        await actions.revoke_badge(svc, MODERATOR, member_id=str(kim.id), slug="sharer", reason="x")
    await kim.refresh_from_db()
    assert kim.points_balance == 0
    assert await find_mismatches() == []


async def test_reevaluation_grants_what_a_lowered_threshold_now_allows(catalog: Services) -> None:
    svc = catalog
    lea = await _member(svc, "lea")
    for _ in range(2):
        await _purchase(svc, lea, 500)
    assert await _held(lea, "loyal-customer") == 0
    await actions.update_badge(ADMIN, "loyal-customer", {"thresholds": (2, 10, 50)})
    assert await actions.reevaluate_badges(svc) == (1, 0)
    assert await _held(lea, "loyal-customer") == 1
    # Raising it again takes nothing from a revocable badge's holder only if they fall short.
    await actions.update_badge(ADMIN, "loyal-customer", {"thresholds": (3, 10, 50)})
    assert await actions.reevaluate_badges(svc) == (0, 1)
    await actions.update_badge(ADMIN, "sharer", {"thresholds": (1, 50, 200)})
    await _share(svc, lea)
    await actions.update_badge(ADMIN, "sharer", {"thresholds": (5, 50, 200)})
    assert await actions.reevaluate_badges(svc) == (0, 0)  # sharer is not revocable: kept
    assert await _held(lea, "sharer") == 1


async def test_a_disabled_badge_is_neither_listed_nor_granted(catalog: Services) -> None:
    svc = catalog
    await actions.update_badge(ADMIN, "first-purchase", {"enabled": False})
    assert "first-purchase" not in {b.slug for b in await actions.badge_catalog()}
    mo = await _member(svc, "mo")
    done = await _purchase(svc, mo, 500)
    assert done.badges == ()
    assert await _held(mo, "first-purchase") == 0
