"""programMetrics on a small history whose every figure is worked out by hand.

The range is March and April 2026 ([03-01, 05-01), UTC); the equally long period before
it, for retention, is [2025-12-30, 03-01). Badges are disabled (their bonuses would be
points issued too); every member stays Bronze (x1), so an order earns 1 point per 1.00.

- A joined 2026-01-10; ordered 02-10 100.00, 03-05 50.00, 03-20 30.00.
- B joined 2026-02-15; ordered 02-20 80.00, 04-10 40.00; +100 adjusted 01-05; redeemed a
  50-point prize 03-25.
- C joined 2026-03-02; ordered 03-03 60.00, 03-25 20.00; 10.00 of the 03-03 order
  refunded 04-05.
- D joined 2026-03-10; ordered 04-20 25.00.
- E joined 2025-02-01; ordered 2025-12-31 70.00; +100 adjusted 2025-03-01, expired
  2026-03-15.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from badges.models import BadgeDefinition
from leaderboards import TTLCache
from server.actions import Services
from server.rewards.activities import Refund
from server.rewards.expiry import expire_due
from server.rewards.members import Member
from tests.conftest import Clock, GraphQL, member_token
from tests.helpers import ADJUST, PURCHASE, UPSERT, purchase_input

FIGURES = """
  activeMembers newMembers orders revenueCents averageOrderValueCents purchaseFrequency
  repeatPurchaseRate retentionRate secondPurchaseRate historicalClvCents predictedClv12mCents
  pointsIssued pointsReversed pointsRedeemed pointsExpired pointsOutstanding liabilityCents
  redemptionRate breakageRate"""
METRICS = f"""
query($from: DateTime!, $to: DateTime!, $segment: MemberSegment = ALL) {{
  programMetrics(from: $from, to: $to, interval: MONTH, segment: $segment) {{
    {FIGURES}
    series {{ start end orders revenueCents }}
  }}
}}"""
FROM, TO = "2026-03-01T00:00:00+00:00", "2026-05-01T00:00:00+00:00"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def _history(svc: Services, gql: GraphQL, keys: dict[str, str], clock: Clock) -> None:
    for badge in await BadgeDefinition.all():
        await gql(
            "mutation($s: String!) { updateBadge(input: {slug: $s, enabled: false}) "
            "{ __typename } }",
            {"s": badge.slug},
            auth=keys["ADMIN"],
        )
    joined = {"A": "2026-01-10", "B": "2026-02-15", "C": "2026-03-02", "D": "2026-03-10"}
    joined["E"] = "2025-02-01"
    ids = {}
    for name, day in joined.items():
        made = await gql(
            UPSERT, {"input": {"externalId": name, "displayName": name}}, auth=keys["SERVICE"]
        )
        ids[name] = made["upsertMember"]["member"]["id"]
        await Member.filter(external_id=name).update(created_at=_at(day))

    async def adjust(name: str, day: str, points: int) -> None:
        clock.now = _at(day)
        credit = {
            "idempotencyKey": f"adj-{name}",
            "memberId": ids[name],
            "amount": points,
            "reason": "Opening",
        }
        done = await gql(ADJUST, {"input": credit}, auth=keys["ADMIN"])
        assert done["adjustPoints"]["__typename"] == "PointsAdjusted", done

    async def order(name: str, day: str, cents: int) -> None:
        clock.now = _at(day)
        given = {
            "idempotencyKey": f"{name}-{day}",
            "memberExternalId": name,
            "orderId": f"{name}-{day}",
            "amountCents": cents,
            "occurredAt": _at(day).isoformat(),
        }
        done = await gql(PURCHASE, {"input": given}, auth=keys["SERVICE"])
        assert done["recordPurchase"]["__typename"] == "ActivityRecorded", done

    await adjust("E", "2025-03-01", 100)
    await order("E", "2025-12-31", 7_000)
    await adjust("B", "2026-01-05", 100)
    await order("A", "2026-02-10", 10_000)
    await order("B", "2026-02-20", 8_000)
    await order("C", "2026-03-03", 6_000)
    await order("A", "2026-03-05", 5_000)
    clock.now = _at("2026-03-15")
    await svc_expire(svc, ids["E"])
    await order("A", "2026-03-20", 3_000)
    await order("C", "2026-03-25", 2_000)
    clock.now = _at("2026-03-25")
    prize = await gql(
        'mutation { createPrize(input: {name: "Mug", cost: 50}) '
        "{ ... on PrizeSaved { prize { id } } } }",
        auth=keys["ADMIN"],
    )
    redeemed = await gql(
        'mutation($p: ID!) { redeemPrize(input: {idempotencyKey: "r", prizeId: $p}) '
        "{ __typename } }",
        {"p": prize["createPrize"]["prize"]["id"]},
        auth=await member_token("B"),
    )
    assert redeemed["redeemPrize"]["__typename"] == "PrizeRedeemed", redeemed
    clock.now = _at("2026-04-05")
    refund = {"idempotencyKey": "rf", "orderId": "C-2026-03-03", "amountCents": 1_000}
    done = await gql(
        "mutation($i: RefundPurchaseInput!) { refundPurchase(input: $i) { __typename } }",
        {"i": refund},
        auth=keys["SERVICE"],
    )
    assert done["refundPurchase"]["__typename"] == "ActivityRecorded", done
    await Refund.all().update(created_at=_at("2026-04-05"))  # recorded then
    await order("B", "2026-04-10", 4_000)
    await order("D", "2026-04-20", 2_500)
    clock.now = _at("2026-12-02")


async def svc_expire(svc: Services, member_id: str) -> None:
    assert await expire_due(int(member_id), svc.clock()) == 100


async def _metrics(gql: GraphQL, keys: dict[str, str], segment: str = "ALL") -> dict[str, Any]:
    found = await gql(METRICS, {"from": FROM, "to": TO, "segment": segment}, auth=keys["ADMIN"])
    metrics: dict[str, Any] = found["programMetrics"]
    return metrics


async def test_every_figure_of_a_small_history(
    svc: Services, gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    await _history(svc, gql, keys, clock)
    m = await _metrics(gql, keys)
    series = m.pop("series")
    assert m == {
        "activeMembers": 4,  # A, B, C, D ordered in the range; E did nothing in it
        "newMembers": 2,  # C and D joined in it
        "orders": 6,
        "revenueCents": 21_500,  # 5000+3000+6000+2000+4000+2500 = 22500, minus 1000 refunded
        "averageOrderValueCents": 3_750,  # 22500 / 6
        "purchaseFrequency": 1.5,  # 6 orders / 4 buyers
        "repeatPurchaseRate": 0.5,  # A and C of A, B, C, D
        "retentionRate": pytest.approx(2 / 3),  # A, B, E bought before; A and B again
        "secondPurchaseRate": 0.5,  # C and D bought first in it; C again within 90 days
        "historicalClvCents": 9_300,  # (47500 - 1000) / 5 buyers
        "predictedClv12mCents": 9_300,  # the same orders fall in the 12 months before `to`
        "pointsIssued": 225,  # 50 + 30 + 60 + 20 + 40 + 25
        "pointsReversed": 10,  # 60 x 1000 // 6000
        "pointsRedeemed": 50,
        "pointsExpired": 100,
        "pointsOutstanding": 515,  # A 180, B 170, C 70, D 25, E 70
        "liabilityCents": 515,  # 1 cent a point by default
        "redemptionRate": pytest.approx(50 / 225),
        "breakageRate": pytest.approx(100 / 225),
    }
    assert series == [
        {"start": FROM, "end": "2026-04-01T00:00:00+00:00", "orders": 4, "revenueCents": 16_000},
        {"start": "2026-04-01T00:00:00+00:00", "end": TO, "orders": 2, "revenueCents": 5_500},
    ]
    assert sum(s["revenueCents"] for s in series) == m["revenueCents"]


async def test_engaged_and_purchase_only_members_apart(
    svc: Services, gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    await _history(svc, gql, keys, clock)
    engaged = await _metrics(gql, keys, "ENGAGED")  # B redeemed a prize
    assert (engaged["orders"], engaged["revenueCents"], engaged["averageOrderValueCents"]) == (
        1,
        4_000,
        4_000,
    )
    others = await _metrics(gql, keys, "PURCHASE_ONLY")
    assert (others["orders"], others["revenueCents"]) == (5, 17_500)  # 18500 - 1000


async def test_only_admins_see_the_metrics(gql: GraphQL, keys: dict[str, str]) -> None:
    found = await gql.raw(METRICS, {"from": FROM, "to": TO}, auth=keys["SERVICE"])
    assert found.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    backwards = await gql.raw(METRICS, {"from": TO, "to": FROM}, auth=keys["ADMIN"])
    assert "to must be after from" in backwards.json()["errors"][0]["message"]


async def test_a_range_is_the_sum_of_its_series_and_each_interval_its_own_range(
    svc: Services, gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    """A property over ranges drawn at random (seeded) around the history, every interval."""
    await _history(svc, gql, keys, clock)
    rng = random.Random(17)
    query = f"""query($f: DateTime!, $t: DateTime!, $i: MetricsInterval!) {{
      programMetrics(from: $f, to: $t, interval: $i) {{
        {FIGURES} series {{ start end {FIGURES} }}
      }}
    }}"""
    for _ in range(8):
        start = _at("2025-12-20") + timedelta(hours=rng.randrange(24 * 150))
        end = start + timedelta(hours=rng.randrange(1, 24 * 60))
        interval = rng.choice(["DAY", "WEEK", "MONTH"])
        found = await gql(
            query, {"f": start.isoformat(), "t": end.isoformat(), "i": interval}, auth=keys["ADMIN"]
        )
        m = found["programMetrics"]
        assert m["revenueCents"] == sum(s["revenueCents"] for s in m["series"]), (start, end)
        assert m["orders"] == sum(s["orders"] for s in m["series"]), (start, end)
        # An interval of the series has the figures of its range asked for alone (each
        # interval's come from the whole series' statements, by interval index).
        part = rng.choice(m["series"])
        alone = await gql(
            query, {"f": part["start"], "t": part["end"], "i": "MONTH"}, auth=keys["ADMIN"]
        )
        by_itself = alone["programMetrics"]
        by_itself.pop("series")
        assert {k: v for k, v in part.items() if k not in ("start", "end")} == by_itself, part


async def test_breakdowns_and_cohorts_of_the_small_history(
    svc: Services, gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    await _history(svc, gql, keys, clock)
    found = await gql(
        """query($from: DateTime!, $to: DateTime!) {
          programMetrics(from: $from, to: $to) {
            byKind { kind points } tierDistribution { tier members }
            topPrizes { name redemptions points } referralConversion { referrals converted rate }
          }
          cohortRetention(from: "2026-01-01T00:00:00+00:00", to: $to) {
            start members retained
          }
        }""",
        {"from": FROM, "to": TO},
        auth=keys["ADMIN"],
    )
    m = found["programMetrics"]
    assert m["byKind"] == [{"kind": "PURCHASE", "points": 225}]  # badges off: orders only
    # Qualifying points of the 365 days before May: A 180, B 120, C 70, D 25, E 70.
    assert m["tierDistribution"] == [
        {"tier": "Bronze", "members": 5},
        {"tier": "Silver", "members": 0},
        {"tier": "Gold", "members": 0},
        {"tier": "Platinum", "members": 0},
    ]
    assert m["topPrizes"] == [{"name": "Mug", "redemptions": 1, "points": 50}]
    assert m["referralConversion"] == {"referrals": 0, "converted": 0, "rate": 0.0}
    assert found["cohortRetention"] == [
        # A joined in January: bought in February and March.
        {"start": "2026-01-01T00:00:00+00:00", "members": 1, "retained": [0.0, 1.0, 1.0, 0.0]},
        # B in February: bought then, and in April.
        {"start": "2026-02-01T00:00:00+00:00", "members": 1, "retained": [1.0, 0.0, 1.0]},
        # C and D in March: C bought in March, D in April.
        {"start": "2026-03-01T00:00:00+00:00", "members": 2, "retained": [0.5, 0.5]},
        {"start": "2026-04-01T00:00:00+00:00", "members": 0, "retained": [0.0]},
    ]


async def test_an_answer_is_kept_for_the_cache_time(
    svc: Services, gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    svc.metrics_cache = TTLCache(60.0)
    await _history(svc, gql, keys, clock)
    first = await _metrics(gql, keys)
    await gql(
        PURCHASE,
        {"input": {**purchase_input("D", "late", 1_000), "occurredAt": "2026-04-25T00:00:00Z"}},
        auth=keys["SERVICE"],
    )
    assert (await _metrics(gql, keys))["orders"] == first["orders"] == 6  # kept
    svc.metrics_cache.clear()  # as after LAUREL_METRICS_CACHE_SECONDS
    assert (await _metrics(gql, keys))["orders"] == 7


async def test_every_figure_of_each_month(
    svc: Services, gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    """The series, figure by figure, worked out by hand from the history above."""
    await _history(svc, gql, keys, clock)
    found = await gql(
        f"""query($from: DateTime!, $to: DateTime!) {{
          programMetrics(from: $from, to: $to, interval: MONTH) {{ series {{ {FIGURES} }} }}
        }}""",
        {"from": FROM, "to": TO},
        auth=keys["ADMIN"],
    )
    march, april = found["programMetrics"]["series"]
    assert march == {
        "activeMembers": 2,  # A and C ordered; B's redemption is no activity
        "newMembers": 2,  # C and D
        "orders": 4,
        "revenueCents": 16_000,  # 5000 + 3000 + 6000 + 2000, nothing refunded in March
        "averageOrderValueCents": 4_000,
        "purchaseFrequency": 2.0,  # 4 orders / A and C
        "repeatPurchaseRate": 1.0,  # both ordered twice
        # The 31 days before March are [01-29, 03-01): A and B bought; A again in March.
        "retentionRate": 0.5,
        "secondPurchaseRate": 1.0,  # C's first order (03-03), again 03-25
        "historicalClvCents": 10_250,  # 41000 before April / A, B, C, E
        "predictedClv12mCents": 10_250,  # the same orders, all after 2025-04-01
        "pointsIssued": 160,  # 50 + 30 + 60 + 20
        "pointsReversed": 0,
        "pointsRedeemed": 50,
        "pointsExpired": 100,
        "pointsOutstanding": 460,  # A 180, B 130, C 80, E 70
        "liabilityCents": 460,
        "redemptionRate": pytest.approx(50 / 160),
        "breakageRate": pytest.approx(100 / 160),
    }
    assert april == {
        "activeMembers": 2,  # B and D ordered (C's refund is no activity)
        "newMembers": 0,
        "orders": 2,
        "revenueCents": 5_500,  # 4000 + 2500 - 1000 refunded 04-05
        "averageOrderValueCents": 3_250,
        "purchaseFrequency": 1.0,
        "repeatPurchaseRate": 0.0,
        # The 30 days before April are [03-02, 04-01): A and C bought; neither in April.
        "retentionRate": 0.0,
        "secondPurchaseRate": 0.0,  # D's first order, no second
        "historicalClvCents": 9_300,  # (47500 - 1000) / 5
        "predictedClv12mCents": 9_300,
        "pointsIssued": 65,  # 40 + 25
        "pointsReversed": 10,
        "pointsRedeemed": 0,
        "pointsExpired": 0,
        "pointsOutstanding": 515,
        "liabilityCents": 515,
        "redemptionRate": 0.0,
        "breakageRate": 0.0,
    }
