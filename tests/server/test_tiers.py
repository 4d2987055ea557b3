"""Tiers: qualifying points in the window, the multiplier at earning (kept on the entry),
a one-time entry bonus, changes up and down recorded, progress, and admin edits."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from server import actions
from server.actions import Services
from server.auth import Principal, Role
from server.rewards.consistency import find_mismatches
from server.rewards.errors import Invalid, PermissionDenied
from server.rewards.ledger import LedgerEntry
from server.rewards.members import Member
from server.rewards.tiers import DEFAULT_TIERS, Tier, TierChange, TierWindow, ensure_tiers
from tests.conftest import Clock, GraphQL, member_token

SHOP = Principal(role=Role.SERVICE, name="shop backend")
ADMIN = Principal(role=Role.ADMIN, name="ops")

PROGRESS = """
query {
  viewer {
    member { tier { name threshold multiplier } }
    tierProgress {
      current { name } next { name } qualifyingPoints pointsToNext pointsToKeep windowEndsAt
    }
  }
}"""


@pytest.fixture
async def ladder(svc: Services) -> Services:
    await ensure_tiers()
    return svc


async def _member(svc: Services, name: str) -> Member:
    return await actions.upsert_member(svc, SHOP, external_id=name, display_name=name)


async def _buy(svc: Services, member: Member, cents: int, order: str) -> actions.Recorded:
    return await actions.record_purchase(
        svc,
        SHOP,
        idempotency_key=order,
        member_external_id=member.external_id,
        order_id=order,
        amount_cents=cents,
    )


async def _tier(svc: Services, member: Member) -> str:
    standing = await actions.tier_standing(svc, member.id)
    assert standing.tier is not None
    return standing.tier.name


async def test_the_default_ladder(ladder: Services, gql: GraphQL) -> None:
    tiers = (await gql("query { tiers { name threshold multiplier entryBonus } }"))["tiers"]
    assert [(t["name"], t["threshold"], t["multiplier"]) for t in tiers] == [
        (t.name, t.threshold, float(t.multiplier)) for t in DEFAULT_TIERS
    ]
    assert [t["threshold"] for t in tiers] == [0, 500, 2_000, 5_000]


async def test_earning_applies_the_tier_multiplier_and_keeps_it_on_the_entry(
    ladder: Services,
) -> None:
    svc = ladder
    ana = await _member(svc, "ana")
    first = await _buy(svc, ana, 60_000, "A1")  # 600 points: Silver from now on
    assert first.points_awarded == 600
    assert await _tier(svc, ana) == "Silver"
    second = await _buy(svc, ana, 10_050, "A2")  # 100 points x 1.1 = 110.55, rounded down
    assert second.points_awarded == 110
    entries = await LedgerEntry.filter(member_id=ana.id, kind="EARN").order_by("id")
    assert [(e.amount, e.multiplier) for e in entries] == [
        (600, Decimal("1.000")),
        (110, Decimal("1.100")),
    ]
    # Changing the ladder later does not rewrite what was earned.
    silver = await Tier.get(name="Silver")
    await actions.update_tier(ADMIN, str(silver.id), multiplier=1.2)
    await (await LedgerEntry.get(id=entries[1].id)).refresh_from_db()
    assert (await LedgerEntry.get(id=entries[1].id)).amount == 110
    assert (await _buy(svc, ana, 10_000, "A3")).points_awarded == 120


async def test_admin_adjustments_qualify_only_when_flagged(ladder: Services) -> None:
    svc = ladder
    bo = await _member(svc, "bo")
    await actions.adjust_points(
        svc, ADMIN, idempotency_key="g1", member_id=str(bo.id), amount=900, reason="goodwill"
    )
    assert await _tier(svc, bo) == "Bronze"
    await actions.adjust_points(
        svc,
        ADMIN,
        idempotency_key="g2",
        member_id=str(bo.id),
        amount=600,
        reason="migrated from the old programme",
        qualifying=True,
    )
    assert await _tier(svc, bo) == "Silver"


async def test_tiers_fall_when_points_leave_the_rolling_window(
    ladder: Services, clock: Clock
) -> None:
    svc = ladder
    clock.now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    cy = await _member(svc, "cy")
    await _buy(svc, cy, 250_000, "C1")  # 2,500: Gold
    assert await _tier(svc, cy) == "Gold"
    clock.now = datetime(2026, 9, 1, 12, tzinfo=UTC)
    await _buy(svc, cy, 60_000, "C2")  # 600 x 1.25 = 750
    standing = await actions.tier_standing(svc, cy.id)
    assert standing.qualifying_points == 3_250
    assert standing.window_ends_at == datetime(2027, 3, 1, 12, tzinfo=UTC)
    assert standing.points_to_keep == 2_000 - 750  # what is left after March's points leave
    clock.now = datetime(2027, 3, 1, 12, 0, 1, tzinfo=UTC)
    assert await _tier(svc, cy) == "Silver"  # read right away, no job needed
    await actions.account(svc, ADMIN, str(cy.id))  # a read records the change
    changes = await TierChange.filter(member_id=cy.id).order_by("id")
    names = {t.id: t.name for t in await Tier.all()}
    assert [(names.get(c.from_tier_id or 0), names[c.to_tier_id]) for c in changes] == [
        (None, "Gold"),
        ("Gold", "Silver"),
    ]


async def test_an_entry_bonus_once_per_tier_per_window(ladder: Services, clock: Clock) -> None:
    svc = ladder
    silver = await Tier.get(name="Silver")
    await actions.update_tier(ADMIN, str(silver.id), entry_bonus=50)
    dee = await _member(svc, "dee")
    await actions.adjust_points(
        svc,
        ADMIN,
        idempotency_key="q1",
        member_id=str(dee.id),
        amount=500,
        reason="q",
        qualifying=True,
    )
    bonuses = LedgerEntry.filter(member_id=dee.id, idempotency_key__startswith="tier-bonus:")
    assert [e.amount for e in await bonuses] == [50]
    # Down and up again inside the window: no second bonus.
    await actions.adjust_points(
        svc,
        ADMIN,
        idempotency_key="q2",
        member_id=str(dee.id),
        amount=-100,
        reason="q",
        qualifying=True,
    )
    await actions.adjust_points(
        svc,
        ADMIN,
        idempotency_key="q3",
        member_id=str(dee.id),
        amount=100,
        reason="q",
        qualifying=True,
    )
    assert await bonuses.count() == 1
    assert await find_mismatches() == []


async def test_calendar_window_holds_a_tier_through_the_next_year(
    ladder: Services, clock: Clock
) -> None:
    svc = ladder
    svc.tier_window = TierWindow.CALENDAR
    clock.now = datetime(2026, 11, 10, tzinfo=UTC)
    eve = await _member(svc, "eve")
    await _buy(svc, eve, 55_000, "E1")
    standing = await actions.tier_standing(svc, eve.id)
    assert standing.tier is not None
    assert (standing.tier.name, standing.points_to_keep) == ("Silver", 0)
    assert standing.window_ends_at == datetime(2027, 1, 1, tzinfo=UTC)
    clock.now = datetime(2027, 6, 1, tzinfo=UTC)
    standing = await actions.tier_standing(svc, eve.id)
    assert standing.tier is not None
    assert (standing.tier.name, standing.qualifying_points, standing.points_to_keep) == (
        "Silver",
        0,
        500,
    )
    clock.now = datetime(2028, 1, 2, tzinfo=UTC)
    assert await _tier(svc, eve) == "Bronze"


async def test_tier_progress_over_graphql(ladder: Services, gql: GraphQL) -> None:
    svc = ladder
    fay = await _member(svc, "fay")
    await _buy(svc, fay, 70_000, "F1")
    got: dict[str, Any] = (await gql(PROGRESS, auth=await member_token("fay")))["viewer"]
    assert got["member"]["tier"] == {"name": "Silver", "threshold": 500, "multiplier": 1.1}
    progress = got["tierProgress"]
    assert progress["current"] == {"name": "Silver"}
    assert progress["next"] == {"name": "Gold"}
    assert (progress["qualifyingPoints"], progress["pointsToNext"]) == (700, 1_300)
    assert progress["pointsToKeep"] == 500  # the 700 leave the window together


async def test_tier_edits_are_validated_and_admin_only(ladder: Services, gql: GraphQL) -> None:
    gold = await Tier.get(name="Gold")
    with pytest.raises(PermissionDenied):
        await actions.update_tier(SHOP, str(gold.id), threshold=2_500)
    for change, field in (
        ({"threshold": 500}, "threshold"),  # the same as Silver
        ({"threshold": 400}, "multiplier"),  # below Silver, earning more than Silver
        ({"multiplier": 1.05}, "multiplier"),  # below Silver's
        ({"multiplier": 11.0}, "multiplier"),
        ({"name": "Silver"}, "name"),
        ({"entry_bonus": -1}, "entryBonus"),
    ):
        with pytest.raises(Invalid) as raised:
            await actions.update_tier(ADMIN, str(gold.id), **change)  # type: ignore[arg-type]
        assert raised.value.field == field
    saved = await gql(
        """mutation($input: UpdateTierInput!) { updateTier(input: $input) {
            __typename ... on TierSaved { tier { name threshold } } } }""",
        {"input": {"tierId": str(gold.id), "threshold": 2_500}},
        auth=None,
    )
    assert saved["updateTier"]["__typename"] == "PermissionDeniedError"
