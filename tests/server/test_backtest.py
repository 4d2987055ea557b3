"""simulateProgram: the recorded history replayed under draft rules (issue 22, item 1).

The first history is programMetrics' own (tests/server/test_metrics.py: orders, a
refund, a redemption, adjustments, an expiry; badges off). The second adds reviews,
approved and rejected, and a member who reaches Silver (x1.1) in the range.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from badges import ensure_badges
from server.actions import Services
from server.rewards import snapshots
from server.rewards.experiments import Arm, Experiment, arm_of
from server.rewards.members import Member
from tests.conftest import Clock, GraphQL, member_token
from tests.helpers import PURCHASE, UPSERT
from tests.server.test_metrics import FROM, TO
from tests.server.test_metrics import _history as metrics_history
from tests.server.test_reviews import MODERATE, REVIEW, decide, review_input

SIDE = """
  pointsIssued pointsReversed pointsExpired pointsOutstanding liabilityCents
  byKind { kind points } tierDistribution { tier members } badgeLevels { slug level granted }"""
SIMULATE = f"""
query($input: SimulationInput!) {{
  simulateProgram(input: $input) {{
    events membersMovingUp membersMovingDown
    current {{ {SIDE} }}
    draft {{ {SIDE} }}
    top {{ externalId currentRank draftRank currentPoints draftPoints }}
    pointChanges {{ members minimum lowerQuartile median upperQuartile maximum }}
  }}
}}"""
METRICS = """
query($from: DateTime!, $to: DateTime!) {
  programMetrics(from: $from, to: $to) {
    pointsIssued pointsReversed pointsExpired pointsOutstanding liabilityCents
    byKind { kind points } tierDistribution { tier members }
  }
}"""


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def _simulate(
    gql: GraphQL, keys: dict[str, str], given: dict[str, Any], start: str = FROM, end: str = TO
) -> dict[str, Any]:
    found = await gql(SIMULATE, {"input": {"from": start, "to": end, **given}}, auth=keys["ADMIN"])
    result: dict[str, Any] = found["simulateProgram"]
    return result


def _as_metrics(side: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in side.items() if k != "badgeLevels"}


async def test_the_current_rules_reproduce_the_ledger_of_the_metrics_history(
    svc: Services, gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    await metrics_history(svc, gql, keys, clock)
    real = (await gql(METRICS, {"from": FROM, "to": TO}, auth=keys["ADMIN"]))["programMetrics"]
    found = await _simulate(gql, keys, {})
    assert _as_metrics(found["current"]) == real
    assert found["draft"] == found["current"]  # nothing proposed: nothing changes
    # As in test_metrics, worked by hand: 225 issued, 10 reversed, 100 expired, 515 left.
    assert (real["pointsIssued"], real["pointsReversed"], real["pointsExpired"]) == (225, 10, 100)
    assert real["pointsOutstanding"] == 515
    assert found["membersMovingUp"] == found["membersMovingDown"] == 0
    assert found["pointChanges"]["minimum"] == found["pointChanges"]["maximum"] == 0


FROM2, TO2 = "2026-06-01T00:00:00+00:00", "2026-08-01T00:00:00+00:00"


async def _reviews_history(gql: GraphQL, keys: dict[str, str], clock: Clock) -> None:
    """P orders 600.00 (600 points, Bronze) and becomes Silver (x1.1): her next order of
    100.00 earns 110, her approved review 22. Q orders 50.00 (50, Bronze); one review
    approved (20), one rejected (20 issued, 20 taken back). Only first-review (10 points)
    is on among the badges: P and Q each earn it with their first approved review."""
    assert len((await gql("{ tiers { name } }"))["tiers"]) == 4  # the default ladder, seeded
    await ensure_badges()
    for badge in (await gql("{ badges { slug } }"))["badges"]:
        enabled = badge["slug"] == "first-review"
        switched = await gql(
            "mutation($s: String!, $on: Boolean!) { updateBadge(input: {slug: $s, enabled: $on})"
            " { __typename } }",
            {"s": badge["slug"], "on": enabled},
            auth=keys["ADMIN"],
        )
        assert switched["updateBadge"]["__typename"] == "BadgeSaved", switched
    for name in ("P", "Q"):
        made = await gql(
            UPSERT, {"input": {"externalId": name, "displayName": name}}, auth=keys["SERVICE"]
        )
        assert made["upsertMember"]["__typename"] == "MemberSaved", made
        await Member.filter(external_id=name).update(created_at=_at("2026-01-01"))

    async def order(name: str, day: str, cents: int, products: list[str]) -> None:
        clock.now = _at(day)
        given = {
            "idempotencyKey": f"{name}-{day}",
            "memberExternalId": name,
            "orderId": f"{name}-{day}",
            "amountCents": cents,
            "productIds": products,
        }
        done = await gql(PURCHASE, {"input": given}, auth=keys["SERVICE"])
        assert done["recordPurchase"]["__typename"] == "ActivityRecorded", done

    async def review(name: str, day: str, product: str, decision: str) -> None:
        clock.now = _at(day)
        done = await gql(
            REVIEW, review_input(f"rv-{product}", product), auth=await member_token(name)
        )
        assert done["submitReview"]["__typename"] == "ActivityRecorded", done
        clock.now = _at(day).replace(hour=12)
        decided = await gql(
            MODERATE,
            decide(done["submitReview"]["activity"]["id"], decision, "Off topic"),
            auth=keys["MODERATOR"],
        )
        assert decided["moderateActivity"]["__typename"] == "ActivityRecorded", decided

    await order("P", "2026-06-02", 60_000, ["p1"])
    await order("Q", "2026-06-03", 5_000, ["q1", "q2"])
    await review("Q", "2026-06-04", "q1", "APPROVE")
    await review("Q", "2026-06-05", "q2", "REJECT")
    await order("P", "2026-06-10", 10_000, ["p2"])
    await review("P", "2026-06-11", "p1", "APPROVE")
    clock.now = _at("2026-09-01")


async def _simulate2(gql: GraphQL, keys: dict[str, str], given: dict[str, Any]) -> dict[str, Any]:
    return await _simulate(gql, keys, given, FROM2, TO2)


def _kinds(side: dict[str, Any]) -> dict[str, int]:
    return {k["kind"]: k["points"] for k in side["byKind"]}


def _tiers(side: dict[str, Any]) -> dict[str, int]:
    return {t["tier"]: t["members"] for t in side["tierDistribution"] if t["members"]}


async def test_reviews_tiers_and_badges_replay_as_recorded_and_doubled_reviews_double(
    svc: Services, gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    await _reviews_history(gql, keys, clock)
    real = (await gql(METRICS, {"from": FROM2, "to": TO2}, auth=keys["ADMIN"]))["programMetrics"]
    # 600 + 50 + 110 ordered; reviews 20 + 20 + 22; two first-review bonuses of 10.
    assert _kinds(real) == {"PURCHASE": 760, "REVIEW": 62, "BONUS": 20}
    assert real["pointsReversed"] == 20
    unchanged = await _simulate2(gql, keys, {})
    assert _as_metrics(unchanged["current"]) == real
    assert unchanged["draft"] == unchanged["current"]

    doubled = await _simulate2(gql, keys, {"earningRules": [{"kind": "REVIEW", "points": 40}]})
    assert _as_metrics(doubled["current"]) == real
    # Reviews 40 + 40 + 44 (P at x1.1), exactly twice 62; the rejected one's 40 back.
    assert _kinds(doubled["draft"]) == {"PURCHASE": 760, "REVIEW": 124, "BONUS": 20}
    assert doubled["draft"]["pointsReversed"] == 40
    assert doubled["draft"]["pointsOutstanding"] == real["pointsOutstanding"] + 62 - 20
    assert _kinds(doubled["draft"])["REVIEW"] == 2 * _kinds(doubled["current"])["REVIEW"]
    assert {(r["externalId"], r["currentPoints"], r["draftPoints"]) for r in doubled["top"]} == {
        ("P", 600 + 110 + 22 + 10, 600 + 110 + 44 + 10),
        ("Q", 50 + 20 + 10, 50 + 40 + 10),  # the rejected review's points never counted
    }
    assert doubled["pointChanges"]["minimum"] == 20
    assert doubled["pointChanges"]["maximum"] == 22


async def test_a_higher_silver_threshold_keeps_p_bronze_at_x1(
    svc: Services, gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    await _reviews_history(gql, keys, clock)
    ladder = [
        {"name": "Bronze", "threshold": 0, "multiplier": 1.0},
        {"name": "Silver", "threshold": 1_000, "multiplier": 1.1},
    ]
    found = await _simulate2(gql, keys, {"tiers": ladder})
    assert _tiers(found["current"]) == {"Bronze": 1, "Silver": 1}
    assert _tiers(found["draft"]) == {"Bronze": 2}
    # P earns x1: 100 for the second order, 20 for her review.
    assert _kinds(found["draft"]) == {"PURCHASE": 750, "REVIEW": 60, "BONUS": 20}
    assert (found["membersMovingUp"], found["membersMovingDown"]) == (0, 1)


async def test_a_shorter_expiry_expires_the_review_points_inside_the_range(
    svc: Services, gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    await _reviews_history(gql, keys, clock)
    found = await _simulate2(gql, keys, {"pointsExpireDays": 10})
    assert found["current"]["pointsExpired"] == 0
    # Spendable at approval, 10 days to go: Q's 20 + 10 from 06-04, P's 22 + 10 from 06-11.
    # The orders' points are pending until 14 days after each order and never released
    # in this history (no release ran), so they stay.
    assert found["draft"]["pointsExpired"] == 20 + 10 + 22 + 10
    assert found["draft"]["pointsOutstanding"] == found["current"]["pointsOutstanding"] - 62


async def test_a_badge_draft_grants_its_levels_with_their_bonus(
    svc: Services, gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    await _reviews_history(gql, keys, clock)
    found = await _simulate2(
        gql,
        keys,
        {
            "badges": [
                {"slug": "first-review", "thresholds": [1], "bonusPoints": [30]},
                {"slug": "prolific-reviewer", "thresholds": [1, 2], "bonusPoints": [5, 50]},
            ]
        },
    )
    levels = {(b["slug"], b["level"]): b["granted"] for b in found["draft"]["badgeLevels"]}
    assert levels == {
        ("first-review", 1): 2,
        ("prolific-reviewer", 1): 2,
        ("prolific-reviewer", 2): 0,
    }
    now = {(b["slug"], b["level"]): b["granted"] for b in found["current"]["badgeLevels"]}
    assert now == {("first-review", 1): 2}  # prolific-reviewer is off as the rules stand
    assert _kinds(found["current"])["BONUS"] == 2 * 10
    assert _kinds(found["draft"])["BONUS"] == 2 * 30 + 2 * 5


async def test_bad_drafts_are_refused_in_words_and_only_admins_may_ask(
    svc: Services, gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    cases = [
        ({"from": TO2, "to": FROM2}, "to", "The end of the range must be after its start."),
        ({"pointsExpireDays": -1}, "pointsExpireDays", "Points expire after 0 to 3650 days"),
        ({"earningRules": [{"kind": "REVIEW", "points": -5}]}, "points", "between 0 and"),
        (
            {"tiers": [{"name": "Gold", "threshold": 10, "multiplier": 1.5}]},
            "threshold",
            "The lowest tier must start at 0",
        ),
        (
            {"tiers": [{"name": "Bronze", "threshold": 0, "multiplier": 0}]},
            "multiplier",
            "multiplier must be between 1 and 10.",
        ),
        (
            {"earningRules": [{"kind": "PURCHASE", "pointsPerCurrencyUnit": 20_000}]},
            "pointsPerCurrencyUnit",
            "0 to 10000",
        ),
        (
            {"badges": [{"slug": "nope", "thresholds": [1], "bonusPoints": [1]}]},
            "badges",
            "No badge 'nope'.",
        ),
        (
            {"badges": [{"slug": "first-review", "thresholds": [3, 2], "bonusPoints": [1, 1]}]},
            "badges",
            "Badge thresholds must be positive and rise.",
        ),
    ]
    await ensure_badges()
    for given, field, words in cases:
        body = {"from": FROM2, "to": TO2, **given}
        answer = (await gql.raw(SIMULATE, {"input": body}, auth=keys["ADMIN"])).json()
        (error,) = answer["errors"]
        assert error["extensions"]["field"] == field, (given, error)
        assert words in error["message"], error
    for role in ("SERVICE", "MODERATOR"):
        answer = (
            await gql.raw(SIMULATE, {"input": {"from": FROM2, "to": TO2}}, auth=keys[role])
        ).json()
        assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN", answer


async def test_members_held_out_of_an_experiment_replay_as_they_ran(
    svc: Services, gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    """P is held out of the review rule and of the tier multiplier: her review earns 0
    and her second order x1 (100). The replay knows, on both sides."""
    clock.now = _at("2026-05-31")
    ids = {}
    for name in ("P", "Q"):
        made = await gql(
            UPSERT, {"input": {"externalId": name, "displayName": name}}, auth=keys["SERVICE"]
        )
        ids[name] = int(made["upsertMember"]["member"]["id"])
    salt = next(
        s
        for s in (f"salt{i}" for i in range(1_000))
        if arm_of(ids["P"], s, 50) is Arm.HOLDOUT and arm_of(ids["Q"], s, 50) is Arm.TREATMENT
    )
    for name, target in (
        ("Reviews", {"kind": "EARNING_RULE", "ref": "REVIEW"}),
        ("Multiplier", {"kind": "TIER_MULTIPLIER", "ref": ""}),
    ):
        made = await gql(
            "mutation($i: CreateExperimentInput!) { createExperiment(input: $i) { __typename } }",
            {"i": {"name": name, "target": target, "holdoutPercent": 50}},
            auth=keys["ADMIN"],
        )
        assert made["createExperiment"]["__typename"] == "ExperimentSaved", made
    await Experiment.all().update(salt=salt)
    snapshots.changed()
    await _reviews_history(gql, keys, clock)
    real = (await gql(METRICS, {"from": FROM2, "to": TO2}, auth=keys["ADMIN"]))["programMetrics"]
    assert _kinds(real) == {"PURCHASE": 600 + 50 + 100, "REVIEW": 20 + 20, "BONUS": 20}
    found = await _simulate2(gql, keys, {"earningRules": [{"kind": "REVIEW", "points": 40}]})
    assert _as_metrics(found["current"]) == real
    assert _kinds(found["draft"])["REVIEW"] == 40 + 40  # Q's two; P still held out
