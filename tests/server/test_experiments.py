"""Holdout experiments: a stable assignment, the holdout going without its target (rule,
tier multiplier, badge, contest) while treatment members are unaffected, the report's
Welch intervals on a history with a known uplift, validation and roles."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from scipy import stats

from badges import BadgeAward
from server import actions
from server.actions import Services
from server.auth import Principal, Role
from server.rewards.activities import Activity, ActivityKind
from server.rewards.contests import Contest, RankPrize
from server.rewards.experiments import Arm, Experiment, arm_of, new_salt
from server.rewards.members import Member
from tests.conftest import Clock, GraphQL, member_token

SHOP = Principal(role=Role.SERVICE, name="shop backend")
ADMIN = Principal(role=Role.ADMIN, name="owner")
MODERATOR = Principal(role=Role.MODERATOR, name="mia")

CREATE = """
mutation($input: CreateExperimentInput!) {
  createExperiment(input: $input) {
    __typename
    ... on ExperimentSaved {
      experiment { id name target { kind ref } holdoutPercent running startedAt endedAt }
    }
    ... on ValidationError { field }
    ... on Error { message }
  }
}"""
END = """
mutation($id: ID!) { endExperiment(id: $id) { __typename
  ... on ExperimentSaved { experiment { running endedAt } } ... on Error { message } } }"""
FIGURE = """{ treatment holdout treatmentCount holdoutCount difference
  differenceInterval { low high } relativeDifference relativeInterval { low high } warning }"""
REPORT = f"""
query($id: ID!) {{ experimentReport(id: $id) {{
  start end method confidenceLevel
  treatment {{ members buyers }} holdout {{ members buyers }}
  retentionRate {FIGURE} repeatPurchaseRate {FIGURE} averageOrderValueCents {FIGURE}
  revenuePerMemberCents {FIGURE} pointsIssuedPerMember {FIGURE}
}} }}"""


# --- assignment --------------------------------------------------------------------------

SALT = "5d41402abc4b2a76b9719d911017c592"
_ARMS_SCRIPT = (
    "from server.rewards.experiments import arm_of; "
    f"print(''.join('H' if arm_of(i, {SALT!r}, 30).value == 'HOLDOUT' else 'T' "
    "for i in range(1, 501)))"
)


def test_a_members_arm_is_the_same_in_every_process() -> None:
    here = "".join("H" if arm_of(i, SALT, 30) is Arm.HOLDOUT else "T" for i in range(1, 501))
    assert "H" in here
    assert "T" in here
    for seed in ("0", "12345"):  # a fresh interpreter and import, another hash seed
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", _ARMS_SCRIPT],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        assert done.stdout.strip() == here


def test_the_assignment_is_sha256_of_salt_and_member_id() -> None:
    import hashlib

    for member_id in (1, 42, 10**12):
        digest = hashlib.sha256(f"{SALT}:{member_id}".encode()).digest()
        bucket = int.from_bytes(digest[:8], "big") % 10_000
        for percent in (1, 37, 90):
            expected = Arm.HOLDOUT if bucket < percent * 100 else Arm.TREATMENT
            assert arm_of(member_id, SALT, percent) is expected


@pytest.mark.parametrize(("percent", "low", "high"), [(10, 850, 1150), (50, 4750, 5250)])
def test_about_holdout_percent_of_members_are_held_out(percent: int, low: int, high: int) -> None:
    """Of 10,000 ids a binomial count: mean 10,000 p, sd sqrt(10,000 p (1 - p)), 30 at 10%
    and 50 at 50%; the bounds are 5 sd either side (missed once in 1.7 million salts)."""
    for salt in (SALT, "experiment-2", new_salt()):
        held = sum(arm_of(i, salt, percent) is Arm.HOLDOUT for i in range(1, 10_001))
        assert low <= held <= high, (salt, held)


def test_two_salts_hold_out_different_members() -> None:
    first = {i for i in range(1, 2_001) if arm_of(i, "a", 50) is Arm.HOLDOUT}
    second = {i for i in range(1, 2_001) if arm_of(i, "b", 50) is Arm.HOLDOUT}
    assert 0.4 < len(first & second) / len(first) < 0.6  # independent: about half overlap


# --- enforcement -------------------------------------------------------------------------


async def _experiment(
    gql: GraphQL, keys: dict[str, str], kind: str, ref: str = "", percent: int = 50
) -> tuple[str, str]:
    """A running experiment's id and salt."""
    given = {
        "name": f"{kind} {ref}",
        "target": {"kind": kind, "ref": ref},
        "holdoutPercent": percent,
    }
    made = (await gql(CREATE, {"input": given}, auth=keys["ADMIN"]))["createExperiment"]
    assert made["__typename"] == "ExperimentSaved", made
    assert made["experiment"]["running"] is True
    return made["experiment"]["id"], (await Experiment.get(id=int(made["experiment"]["id"]))).salt


async def _pair(svc: Services, salt: str, percent: int = 50) -> tuple[Member, Member]:
    """A member the experiment holds out and one it treats (members made until both)."""
    found: dict[Arm, Member] = {}
    for i in range(200):
        member = await actions.upsert_member(svc, SHOP, external_id=f"m{i}", display_name=f"M{i}")
        found.setdefault(arm_of(member.id, salt, percent), member)
        if len(found) == 2:
            return found[Arm.HOLDOUT], found[Arm.TREATMENT]
    raise AssertionError("no pair")


async def _share(svc: Services, member: Member, tag: str) -> int:
    done = await actions.record_share(
        svc,
        SHOP,
        idempotency_key=f"{tag}-{member.id}",
        platform="facebook",
        url=f"https://shop.example.com/{tag}/{member.id}",
        member_external_id=member.external_id,
    )
    assert done.activity.kind.value == "SOCIAL_SHARE"  # recorded either way
    return done.points_awarded


async def _buy(svc: Services, member: Member, order: str, cents: int, **extra: Any) -> int:
    done = await actions.record_purchase(
        svc,
        SHOP,
        idempotency_key=order,
        member_external_id=member.external_id,
        order_id=order,
        amount_cents=cents,
        **extra,
    )
    return done.points_awarded


async def _holdouts(member: Member, gql: GraphQL) -> list[dict[str, str]]:
    got = await gql(
        "{ viewer { holdouts { kind ref } } }", auth=await member_token(member.external_id)
    )
    found: list[dict[str, str]] = got["viewer"]["holdouts"]
    return found


async def test_the_holdout_earns_nothing_from_the_rule_until_it_ends(
    svc: Services, gql: GraphQL, keys: dict[str, str]
) -> None:
    experiment, salt = await _experiment(gql, keys, "EARNING_RULE", "SOCIAL_SHARE")
    held, treated = await _pair(svc, salt)
    assert await _share(svc, held, "a") == 0
    assert await _share(svc, treated, "a") == 5
    assert await Activity.filter(member_id=held.id, kind="SOCIAL_SHARE").count() == 1
    assert await _buy(svc, held, "o-held", 10_000) == 100  # another rule: earned as usual
    assert await _holdouts(held, gql) == [{"kind": "EARNING_RULE", "ref": "SOCIAL_SHARE"}]
    assert await _holdouts(treated, gql) == []
    ended = (await gql(END, {"id": experiment}, auth=keys["ADMIN"]))["endExperiment"]
    assert ended["experiment"]["running"] is False
    assert await _share(svc, held, "b") == 5
    assert await _holdouts(held, gql) == []


async def test_the_holdout_of_the_purchase_rule_buys_without_points(
    svc: Services, gql: GraphQL, keys: dict[str, str]
) -> None:
    _, salt = await _experiment(gql, keys, "EARNING_RULE", "PURCHASE", percent=30)
    held, treated = await _pair(svc, salt, 30)
    assert await _buy(svc, held, "o-1", 12_345) == 0
    assert await _buy(svc, treated, "o-2", 12_345) == 123
    order = await Activity.get(member_id=held.id, kind="PURCHASE")
    assert order.payload["amountCents"] == 12_345  # the order counts for the shop's figures
    assert await _share(svc, held, "s") == 5


async def test_the_tier_multiplier_holdout_earns_at_x1_and_keeps_the_tier(
    svc: Services, gql: GraphQL, keys: dict[str, str]
) -> None:
    bronze = (await actions.tier_ladder())[0]
    await actions.update_tier(ADMIN, str(bronze.id), multiplier=1.1)
    _, salt = await _experiment(gql, keys, "TIER_MULTIPLIER")
    held, treated = await _pair(svc, salt)
    assert await _buy(svc, held, "o-1", 10_000) == 100
    assert await _buy(svc, treated, "o-2", 10_000) == 110
    assert await _share(svc, held, "s") == 5
    assert await _share(svc, treated, "s") == 5  # 5 x 1.1, rounded down
    assert (await actions.tier_standing(svc, held.id)).tier.name == bronze.name
    assert await _holdouts(held, gql) == [{"kind": "TIER_MULTIPLIER", "ref": ""}]


SHARER = {
    "slug": "sharer",
    "name": "Sharer",
    "metric": "SHARES",
    "levels": [1, 2],
    "bonusPoints": [10, 20],
    "art": {
        "shape": "circle",
        "glyph": "share",
        "primaryColor": "#1F6FEB",
        "secondaryColor": "#F2CC60",
    },
}


async def _levels(member: Member) -> list[int]:
    rows = await BadgeAward.filter(member_id=member.id, badge__slug="sharer").order_by("level")
    return [r.level for r in rows if r.held]


async def test_the_badge_holdout_gets_no_level_and_no_bonus(
    svc: Services, gql: GraphQL, keys: dict[str, str]
) -> None:
    defined = await gql(
        "mutation($i: DefineBadgeInput!) { defineBadge(input: $i) { __typename } }",
        {"i": SHARER},
        auth=keys["ADMIN"],
    )
    assert defined["defineBadge"]["__typename"] == "BadgeSaved", defined
    experiment, salt = await _experiment(gql, keys, "BADGE", "sharer")
    held, treated = await _pair(svc, salt)
    for tag in ("a", "b"):
        await _share(svc, held, tag)
        await _share(svc, treated, tag)
    assert await _levels(held) == []
    assert await _levels(treated) == [1, 2]
    bonus = "Badge: Sharer"
    assert not await held.ledger_entries.filter(reason__startswith=bonus).exists()
    assert await treated.ledger_entries.filter(reason__startswith=bonus).count() == 2
    assert await _holdouts(held, gql) == [{"kind": "BADGE", "ref": "sharer"}]
    await gql(END, {"id": experiment}, auth=keys["ADMIN"])
    await _share(svc, held, "c")  # the next evaluation grants what is reached
    assert await _levels(held) == [1, 2]


CONTEST_START = datetime(2031, 3, 1, tzinfo=UTC)
CONTEST_END = datetime(2031, 3, 8, tzinfo=UTC)
CONTEST = """
query($id: ID!) { contest(id: $id) {
  leaderboard(first: 50) { entries { score member { id } } }
  results { rank pointsAwarded member { id } } } }"""


async def _contest_board(gql: GraphQL, contest_id: str, part: str = "leaderboard") -> set[int]:
    got = (await gql(CONTEST, {"id": contest_id}))["contest"]
    rows = got[part]["entries"] if part == "leaderboard" else got[part]
    return {int(r["member"]["id"]) for r in rows}


async def _share_week(svc: Services, clock: Clock, prizes: list[RankPrize]) -> Contest:
    """A contest of shares over [CONTEST_START, CONTEST_END), made the day before."""
    clock.now = CONTEST_START - timedelta(days=1)
    return await actions.create_contest(
        svc,
        MODERATOR,
        actions.ContestFields(
            name="Share week",
            starts_at=CONTEST_START,
            ends_at=CONTEST_END,
            activity_kinds=[ActivityKind.SOCIAL_SHARE],
            prizes=prizes,
        ),
    )


async def test_the_contest_holdout_is_off_the_board_and_wins_nothing(
    svc: Services, gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    contest = await _share_week(svc, clock, [RankPrize(1, 10, 50)])
    await actions.publish_contest(svc, MODERATOR, str(contest.id))
    clock.now = CONTEST_START + timedelta(days=1)
    members = [
        await actions.upsert_member(svc, SHOP, external_id=f"c{i}", display_name=f"C{i}")
        for i in range(20)
    ]
    for member in members:
        await _share(svc, member, "before")
    everyone = {m.id for m in members}
    assert await _contest_board(gql, str(contest.id)) == everyone
    experiment, salt = await _experiment(gql, keys, "CONTEST", str(contest.id))
    treated = {m.id for m in members if arm_of(m.id, salt, 50) is Arm.TREATMENT}
    assert treated
    assert treated != everyone
    # The running board drops the holdout at once, and their next shares do not count.
    assert await _contest_board(gql, str(contest.id)) == treated
    for member in members:
        await _share(svc, member, "during")
    assert await _contest_board(gql, str(contest.id)) == treated
    held = next(m for m in members if m.id not in treated)
    assert await _holdouts(held, gql) == [{"kind": "CONTEST", "ref": str(contest.id)}]
    # Ended after the contest's end: the final standings still leave the holdout out.
    clock.now = CONTEST_END + timedelta(hours=1)
    await gql(END, {"id": experiment}, auth=keys["ADMIN"])
    done = await actions.finalize_contest(svc, MODERATOR, str(contest.id))
    assert {p.member_id for p in done.placements} == treated
    assert all(p.points_awarded == 50 for p in done.placements)  # every share ties: rank 1


async def test_a_contest_experiment_ended_before_the_contest_ends_holds_no_one_out(
    svc: Services, gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    contest = await _share_week(svc, clock, [])
    await actions.publish_contest(svc, MODERATOR, str(contest.id))
    experiment, salt = await _experiment(gql, keys, "CONTEST", str(contest.id))
    clock.now = CONTEST_START + timedelta(days=1)
    held, treated = await _pair(svc, salt)
    await _share(svc, held, "a")
    await _share(svc, treated, "a")
    assert await _contest_board(gql, str(contest.id)) == {treated.id}
    await gql(END, {"id": experiment}, auth=keys["ADMIN"])
    assert await _contest_board(gql, str(contest.id)) == {held.id, treated.id}  # back, from SQL


# --- the report --------------------------------------------------------------------------


async def _report(gql: GraphQL, keys: dict[str, str], experiment: str) -> dict[str, Any]:
    found: dict[str, Any] = (await gql(REPORT, {"id": experiment}, auth=keys["ADMIN"]))[
        "experimentReport"
    ]
    return found


async def test_a_known_uplift_is_found_by_welchs_interval(
    svc: Services, gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    """300 members, one order each in the period; the holdout's k-th member orders
    base[k], the treatment's k-th 1.2 x base[k] (base drawn from a seeded generator), so
    the true uplift of revenue per member is 20%."""
    start = clock.now
    experiment, salt = await _experiment(gql, keys, "TIER_MULTIPLIER")
    clock.advance(days=2)
    rng = random.Random(20260301)
    base = [rng.randint(5_000, 15_000) for _ in range(300)]
    seen = {Arm.TREATMENT: 0, Arm.HOLDOUT: 0}
    cents: dict[Arm, list[float]] = {Arm.TREATMENT: [], Arm.HOLDOUT: []}
    for i in range(300):
        member = await actions.upsert_member(svc, SHOP, external_id=f"b{i}", display_name=f"B{i}")
        arm = arm_of(member.id, salt, 50)
        amount = base[seen[arm]] * (6 if arm is Arm.TREATMENT else 5) // 5
        seen[arm] += 1
        cents[arm].append(amount)
        await _buy(svc, member, f"o{i}", amount, occurred_at=start + timedelta(days=1))
    clock.advance(days=28)
    report = await _report(gql, keys, experiment)
    assert report["method"] == "Welch's t-test"
    assert report["confidenceLevel"] == 0.95
    assert report["treatment"] == {"members": seen[Arm.TREATMENT], "buyers": seen[Arm.TREATMENT]}
    assert report["holdout"] == {"members": seen[Arm.HOLDOUT], "buyers": seen[Arm.HOLDOUT]}
    revenue = report["revenuePerMemberCents"]
    low, high = revenue["relativeInterval"]["low"], revenue["relativeInterval"]["high"]
    assert 0 < low < 0.20 < high, revenue
    assert revenue["warning"] is None
    # The difference's interval is scipy's Welch interval on the same per-member values.
    welch = stats.ttest_ind(cents[Arm.TREATMENT], cents[Arm.HOLDOUT], equal_var=False)
    interval = welch.confidence_interval(0.95)
    assert revenue["differenceInterval"]["low"] == pytest.approx(interval.low)
    assert revenue["differenceInterval"]["high"] == pytest.approx(interval.high)
    mean = sum(cents[Arm.HOLDOUT]) / len(cents[Arm.HOLDOUT])
    assert revenue["holdout"] == pytest.approx(mean)
    # One order each: the order value moves as revenue does; nobody ordered twice.
    aov = report["averageOrderValueCents"]
    assert aov["difference"] == pytest.approx(revenue["difference"])
    assert aov["differenceInterval"]["low"] == pytest.approx(interval.low)
    assert report["repeatPurchaseRate"]["treatment"] == 0.0
    points = report["pointsIssuedPerMember"]
    assert 0 < points["relativeInterval"]["low"] < 0.20 < points["relativeInterval"]["high"]
    # No one bought in the 30 days before the start: retention has nothing to compare.
    assert report["retentionRate"]["treatmentCount"] == 0
    assert report["retentionRate"]["differenceInterval"] is None
    assert report["retentionRate"]["warning"]


async def test_a_small_experiment_warns_and_counts_refunds_and_earlier_buyers(
    svc: Services, gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    start = clock.now
    experiment, salt = await _experiment(gql, keys, "TIER_MULTIPLIER")
    clock.now = start + timedelta(days=1)
    members: list[Member] = []
    while min(sum(arm_of(m.id, salt, 50) is arm for m in members) for arm in Arm) < 3:
        n = len(members)
        members.append(
            await actions.upsert_member(svc, SHOP, external_id=f"s{n}", display_name="S")
        )
    earlier = {m.id for m in members[::2]}
    for i, member in enumerate(members):
        if member.id in earlier:  # also bought 5 days before the start
            await _buy(svc, member, f"early-{i}", 1_000, occurred_at=start - timedelta(days=5))
        await _buy(svc, member, f"in-{i}", 1_000 * (i + 1))
    await _buy(svc, members[0], "again-0", 500)
    await actions.refund_purchase(
        svc, SHOP, idempotency_key="rf", order_id="in-1", amount_cents=400
    )
    clock.now = start + timedelta(days=10)
    done = (await gql(END, {"id": experiment}, auth=keys["ADMIN"]))["endExperiment"]
    assert done["__typename"] == "ExperimentSaved"
    clock.now = start + timedelta(days=40)  # an ended experiment's period is fixed
    report = await _report(gql, keys, experiment)
    assert datetime.fromisoformat(report["end"]) == start + timedelta(days=10)
    revenue = {m.id: 1_000.0 * (i + 1) for i, m in enumerate(members)}
    revenue[members[0].id] += 500
    revenue[members[1].id] -= 400
    for arm, key in ((Arm.TREATMENT, "treatment"), (Arm.HOLDOUT, "holdout")):
        mine = [m.id for m in members if arm_of(m.id, salt, 50) is arm]
        assert report[key]["members"] == len(mine)
        figure = report["revenuePerMemberCents"]
        assert figure[key] == pytest.approx(sum(revenue[m] for m in mine) / len(mine))
        assert report["retentionRate"][f"{key}Count"] == len(earlier & set(mine))
        again = 1.0 if earlier & set(mine) else None  # every earlier buyer bought again
        assert report["retentionRate"][key] == again
        repeat = report["repeatPurchaseRate"]
        assert repeat[key] == pytest.approx((members[0].id in mine) / len(mine))
    assert "Fewer than 30 members" in report["revenuePerMemberCents"]["warning"]
    assert "Fewer than 30 buyers" in report["averageOrderValueCents"]["warning"]


# --- validation and roles ----------------------------------------------------------------


async def _create(gql: GraphQL, auth: str | None, **given: Any) -> dict[str, Any]:
    values = {"name": "Reviews", "target": {"kind": "EARNING_RULE", "ref": "REVIEW"}}
    values |= {"holdoutPercent": 10, **given}
    found: dict[str, Any] = (await gql(CREATE, {"input": values}, auth=auth))["createExperiment"]
    return found


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"holdoutPercent": 0}, "holdoutPercent"),
        ({"holdoutPercent": 91}, "holdoutPercent"),
        ({"name": ""}, "name"),
        ({"name": "x" * 81}, "name"),
        ({"target": {"kind": "EARNING_RULE", "ref": "DANCE"}}, "ref"),
        ({"target": {"kind": "BADGE", "ref": "no-such-badge"}}, "ref"),
        ({"target": {"kind": "CONTEST", "ref": "12345"}}, "ref"),
        ({"target": {"kind": "CONTEST", "ref": "abc"}}, "ref"),
        ({"target": {"kind": "TIER_MULTIPLIER", "ref": "Gold"}}, "ref"),
    ],
)
async def test_bad_input_is_a_validation_error_in_plain_words(
    svc: Services, gql: GraphQL, keys: dict[str, str], given: dict[str, Any], field: str
) -> None:
    found = await _create(gql, keys["ADMIN"], **given)
    assert found["__typename"] == "ValidationError", found
    assert found["field"] == field
    assert found["message"].endswith(".")
    assert await Experiment.all().count() == 0


async def test_one_running_experiment_per_target_and_names_are_unique(
    svc: Services, gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    first = await _create(gql, keys["ADMIN"])
    assert first["__typename"] == "ExperimentSaved"
    again = await _create(gql, keys["ADMIN"], name="Reviews again")
    assert again["__typename"] == "ConflictError"
    assert "running already" in again["message"]
    same_name = await _create(gql, keys["ADMIN"], target={"kind": "TIER_MULTIPLIER", "ref": ""})
    assert (same_name["__typename"], same_name["field"]) == ("ValidationError", "name")
    experiment = first["experiment"]["id"]
    clock.advance(days=1)
    ended = (await gql(END, {"id": experiment}, auth=keys["ADMIN"]))["endExperiment"]
    assert ended["experiment"]["endedAt"] is not None
    twice = (await gql(END, {"id": experiment}, auth=keys["ADMIN"]))["endExperiment"]
    assert twice["__typename"] == "ConflictError"
    missing = (await gql(END, {"id": "999999"}, auth=keys["ADMIN"]))["endExperiment"]
    assert missing["__typename"] == "NotFoundError"
    later = await _create(gql, keys["ADMIN"], name="Reviews, take 2")
    assert later["__typename"] == "ExperimentSaved"  # the target is free again
    listed = await gql("{ experiments { name running } }", auth=keys["ADMIN"])
    assert listed["experiments"] == [
        {"name": "Reviews, take 2", "running": True},
        {"name": "Reviews", "running": False},
    ]
    stored = await Experiment.get(name="Reviews")
    assert len(stored.salt) == 32
    assert stored.salt != (await Experiment.get(id=int(later["experiment"]["id"]))).salt


async def test_only_an_admin_runs_experiments(
    svc: Services, gql: GraphQL, keys: dict[str, str]
) -> None:
    made = await _create(gql, keys["ADMIN"])
    experiment = made["experiment"]["id"]
    await actions.upsert_member(svc, SHOP, external_id="ada", display_name="Ada")
    shopper = await member_token("ada")
    for auth in (None, shopper, keys["SERVICE"], keys["MODERATOR"]):
        denied = await _create(gql, auth, name="Not mine")
        assert denied["__typename"] == "PermissionDeniedError", denied
        ended = (await gql(END, {"id": experiment}, auth=auth))["endExperiment"]
        assert ended["__typename"] == "PermissionDeniedError"
        for query in ("{ experiments { id } }", REPORT):
            answer = (await gql.raw(query, {"id": experiment}, auth=auth)).json()
            assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN", answer
    assert (await Experiment.get(id=int(experiment))).ended_at is None
