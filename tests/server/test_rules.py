"""Earning rules over HTTP: anyone reads them, only an admin changes them, a change
applies to the next activity and is logged with who made it."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from server.rewards import snapshots
from server.rewards.activities import ActivityKind
from server.rewards.rules import EarningRule, RuleChange
from tests.conftest import Clock, GraphQL, member_token
from tests.helpers import PURCHASE, UPSERT, VIEWER, ledger_counts, purchase_input

RULES = """
query Rules {
  earningRules {
    kind points pointsPerCurrencyUnit dailyCap monthlyCap targetCap pendingDays
    needsModeration active updatedBy
  }
}"""

UPDATE_RULE = """
mutation UpdateRule($input: UpdateEarningRuleInput!) {
  updateEarningRule(input: $input) {
    __typename
    ... on EarningRuleSaved {
      rule {
        kind points pointsPerCurrencyUnit dailyCap monthlyCap targetCap pendingDays
        needsModeration active updatedBy
      }
    }
    ... on Error { message }
    ... on ValidationError { field }
  }
}"""

SHARE = """
mutation Share($input: RecordShareInput!) {
  recordShare(input: $input) {
    __typename
    ... on ActivityRecorded { pointsAwarded duplicate activity { id kind status points } }
    ... on Error { message }
    ... on ValidationError { field }
  }
}"""

REVIEW = """
mutation Review($input: SubmitReviewInput!) {
  submitReview(input: $input) {
    __typename
    ... on ActivityRecorded { pointsAwarded activity { id kind status points } }
    ... on Error { message }
  }
}"""

QUEUE = "query Queue { moderationQueue { id } }"

DEFAULTS: dict[str, dict[str, Any]] = {
    "REVIEW": {
        "kind": "REVIEW",
        "points": 20,
        "pointsPerCurrencyUnit": None,
        "dailyCap": 5,
        "monthlyCap": None,
        "targetCap": 1,
        "pendingDays": 0,
        "needsModeration": True,
        "active": True,
        "updatedBy": "defaults",
    },
    "PHOTO_REVIEW": {
        "kind": "PHOTO_REVIEW",
        "points": 40,
        "pointsPerCurrencyUnit": None,
        "dailyCap": 5,
        "monthlyCap": None,
        "targetCap": 1,
        "pendingDays": 0,
        "needsModeration": True,
        "active": True,
        "updatedBy": "defaults",
    },
    "SOCIAL_SHARE": {
        "kind": "SOCIAL_SHARE",
        "points": 5,
        "pointsPerCurrencyUnit": None,
        "dailyCap": 3,
        "monthlyCap": None,
        "targetCap": 1,
        "pendingDays": 0,
        "needsModeration": False,
        "active": True,
        "updatedBy": "defaults",
    },
    "REFERRAL": {
        "kind": "REFERRAL",
        "points": 100,
        "pointsPerCurrencyUnit": None,
        "dailyCap": None,
        "monthlyCap": 10,
        "targetCap": 1,
        "pendingDays": 0,
        "needsModeration": False,
        "active": True,
        "updatedBy": "defaults",
    },
    "PURCHASE": {
        "kind": "PURCHASE",
        "points": 0,
        "pointsPerCurrencyUnit": None,
        "dailyCap": None,
        "monthlyCap": None,
        "targetCap": None,
        "pendingDays": None,
        "needsModeration": False,
        "active": True,
        "updatedBy": "defaults",
    },
}

ADMIN_ACTOR = "admin:test ADMIN"


def _rule_input(kind: str, **changes: Any) -> dict[str, Any]:
    """The whole default rule of ``kind`` as mutation input, with ``changes`` applied."""
    rule = {k: v for k, v in DEFAULTS[kind].items() if k != "updatedBy"}
    rule.update(changes)
    return rule


async def _rules(gql: GraphQL, auth: str | None = None) -> dict[str, dict[str, Any]]:
    return {rule["kind"]: rule for rule in (await gql(RULES, auth=auth))["earningRules"]}


async def _member(gql: GraphQL, service: str, external_id: str) -> str:
    """A new member; returns a shopper token for them."""
    saved = await gql(
        UPSERT, {"input": {"externalId": external_id, "displayName": external_id}}, auth=service
    )
    assert saved["upsertMember"]["__typename"] == "MemberSaved"
    return await member_token(external_id)


def _share(key: str, url: str) -> dict[str, Any]:
    return {"input": {"idempotencyKey": key, "platform": "facebook", "url": url}}


async def test_anyone_reads_the_default_rules(gql: GraphQL, keys: dict[str, str]) -> None:
    anonymous = (await gql(RULES))["earningRules"]
    assert [rule["kind"] for rule in anonymous] == [
        "REVIEW",
        "PHOTO_REVIEW",
        "SOCIAL_SHARE",
        "REFERRAL",
        "PURCHASE",
    ]
    assert {rule["kind"]: rule for rule in anonymous} == DEFAULTS
    token = await _member(gql, keys["SERVICE"], "reader")
    assert await _rules(gql, token) == DEFAULTS
    assert await _rules(gql, keys["MODERATOR"]) == DEFAULTS


@pytest.mark.parametrize("role", ["ANONYMOUS", "SHOPPER", "SERVICE", "MODERATOR"])
async def test_only_an_admin_changes_a_rule(gql: GraphQL, keys: dict[str, str], role: str) -> None:
    auth: str | None = None
    if role == "SHOPPER":
        auth = await _member(gql, keys["SERVICE"], "eve")
    elif role != "ANONYMOUS":
        auth = keys[role]
    result = await gql(UPDATE_RULE, {"input": _rule_input("SOCIAL_SHARE", points=500)}, auth=auth)
    assert result["updateEarningRule"]["__typename"] == "PermissionDeniedError"
    assert result["updateEarningRule"]["message"]
    assert (await _rules(gql))["SOCIAL_SHARE"] == DEFAULTS["SOCIAL_SHARE"]
    assert await RuleChange.all().count() == 0


@pytest.mark.parametrize(
    ("kind", "changes", "field"),
    [
        ("SOCIAL_SHARE", {"points": -1}, "points"),
        ("SOCIAL_SHARE", {"points": 100_001}, "points"),
        ("SOCIAL_SHARE", {"dailyCap": 0}, "dailyCap"),
        ("REFERRAL", {"monthlyCap": 0}, "monthlyCap"),
        ("REVIEW", {"targetCap": 0}, "targetCap"),
        ("REVIEW", {"pendingDays": -1}, "pendingDays"),
        ("PURCHASE", {"pendingDays": 366}, "pendingDays"),
        ("REVIEW", {"pointsPerCurrencyUnit": 2.0}, "pointsPerCurrencyUnit"),
        ("PURCHASE", {"pointsPerCurrencyUnit": -0.5}, "pointsPerCurrencyUnit"),
        ("PURCHASE", {"needsModeration": True}, "needsModeration"),
    ],
)
async def test_an_invalid_rule_is_refused_naming_the_field(
    gql: GraphQL, keys: dict[str, str], kind: str, changes: dict[str, Any], field: str
) -> None:
    result = await gql(UPDATE_RULE, {"input": _rule_input(kind, **changes)}, auth=keys["ADMIN"])
    assert result["updateEarningRule"]["__typename"] == "ValidationError"
    assert result["updateEarningRule"]["field"] == field
    assert await _rules(gql) == DEFAULTS
    assert await RuleChange.all().count() == 0


async def test_an_admin_change_applies_to_the_next_share_only(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    token = await _member(gql, keys["SERVICE"], "sam")
    first = (await gql(SHARE, _share("s-1", "https://shop.example/a"), auth=token))["recordShare"]
    assert (first["pointsAwarded"], first["activity"]["points"]) == (5, 5)

    saved = await gql(
        UPDATE_RULE, {"input": _rule_input("SOCIAL_SHARE", points=7)}, auth=keys["ADMIN"]
    )
    assert saved["updateEarningRule"]["__typename"] == "EarningRuleSaved"
    assert saved["updateEarningRule"]["rule"] == {
        **DEFAULTS["SOCIAL_SHARE"],
        "points": 7,
        "updatedBy": ADMIN_ACTOR,
    }
    assert (await _rules(gql))["SOCIAL_SHARE"]["points"] == 7

    second = (await gql(SHARE, _share("s-2", "https://shop.example/b"), auth=token))["recordShare"]
    assert second["__typename"] == "ActivityRecorded"
    assert (second["pointsAwarded"], second["activity"]["points"]) == (7, 7)
    account = (await gql(VIEWER, auth=token))["viewer"]
    assert account["pointsBalance"] == 12  # the first share keeps its 5
    assert [edge["node"]["amount"] for edge in account["ledger"]["edges"]] == [7, 5]


async def test_a_lower_daily_cap_applies_at_once(gql: GraphQL, keys: dict[str, str]) -> None:
    token = await _member(gql, keys["SERVICE"], "cap")
    await gql(UPDATE_RULE, {"input": _rule_input("SOCIAL_SHARE", dailyCap=1)}, auth=keys["ADMIN"])
    ok = (await gql(SHARE, _share("c-1", "https://shop.example/a"), auth=token))["recordShare"]
    assert ok["__typename"] == "ActivityRecorded"
    refused = await gql(SHARE, _share("c-2", "https://shop.example/b"), auth=token)
    assert refused["recordShare"]["__typename"] == "LimitReachedError"
    assert (await gql(VIEWER, auth=token))["viewer"]["pointsBalance"] == 5


async def test_an_inactive_rule_refuses_shares_until_reactivated(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    token = await _member(gql, keys["SERVICE"], "off")
    admin = keys["ADMIN"]
    off = await gql(UPDATE_RULE, {"input": _rule_input("SOCIAL_SHARE", active=False)}, auth=admin)
    assert off["updateEarningRule"]["rule"]["active"] is False
    before = await ledger_counts()
    refused = await gql(SHARE, _share("o-1", "https://shop.example/a"), auth=token)
    assert refused["recordShare"]["__typename"] == "ConflictError"
    assert refused["recordShare"]["message"]
    assert await ledger_counts() == before
    assert (await gql(VIEWER, auth=token))["viewer"]["pointsBalance"] == 0

    await gql(UPDATE_RULE, {"input": _rule_input("SOCIAL_SHARE")}, auth=admin)
    # The refused share left nothing behind: the same page (and key) now earns.
    ok = (await gql(SHARE, _share("o-1", "https://shop.example/a"), auth=token))["recordShare"]
    assert (ok["__typename"], ok["pointsAwarded"], ok["duplicate"]) == (
        "ActivityRecorded",
        5,
        False,
    )


async def test_a_purchase_rate_set_by_an_admin_replaces_the_setting(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    service, admin = keys["SERVICE"], keys["ADMIN"]
    await _member(gql, service, "buyer")
    default = await gql(PURCHASE, {"input": purchase_input("buyer", "R-1", 1_000)}, auth=service)
    assert default["recordPurchase"]["pointsAwarded"] == 10  # the setting: 1 per 1.00

    saved = await gql(
        UPDATE_RULE, {"input": _rule_input("PURCHASE", pointsPerCurrencyUnit=2.5)}, auth=admin
    )
    assert saved["updateEarningRule"]["rule"]["pointsPerCurrencyUnit"] == 2.5
    boosted = await gql(PURCHASE, {"input": purchase_input("buyer", "R-2", 1_000)}, auth=service)
    assert boosted["recordPurchase"]["pointsAwarded"] == 25

    await gql(UPDATE_RULE, {"input": _rule_input("PURCHASE")}, auth=admin)
    back = await gql(PURCHASE, {"input": purchase_input("buyer", "R-3", 1_000)}, auth=service)
    assert back["recordPurchase"]["pointsAwarded"] == 10


async def test_every_change_is_logged_with_its_author(gql: GraphQL, keys: dict[str, str]) -> None:
    admin = keys["ADMIN"]
    await gql(UPDATE_RULE, {"input": _rule_input("SOCIAL_SHARE", points=7)}, auth=admin)
    await gql(
        UPDATE_RULE,
        {"input": _rule_input("REFERRAL", points=150, monthlyCap=None)},
        auth=admin,
    )
    # Saving a rule as it already is changes nothing and logs nothing.
    await gql(UPDATE_RULE, {"input": _rule_input("SOCIAL_SHARE", points=7)}, auth=admin)

    log = await RuleChange.all().order_by("id")
    assert [(c.kind.value, c.actor, c.changes) for c in log] == [
        ("SOCIAL_SHARE", ADMIN_ACTOR, {"points": ["5", "7"]}),
        ("REFERRAL", ADMIN_ACTOR, {"points": ["100", "150"], "monthly_cap": ["10", "None"]}),
    ]
    assert all(c.created_at is not None for c in log)
    rules = await _rules(gql)
    assert rules["REFERRAL"]["monthlyCap"] is None
    assert rules["REFERRAL"]["updatedBy"] == ADMIN_ACTOR
    assert rules["REVIEW"]["updatedBy"] == "defaults"


async def test_reviews_without_moderation_earn_at_once(gql: GraphQL, keys: dict[str, str]) -> None:
    service = keys["SERVICE"]
    token = await _member(gql, service, "rev")
    bought = purchase_input("rev", "RV-1", 100)
    bought["productIds"] = ["boots"]
    await gql(PURCHASE, {"input": bought}, auth=service)
    await gql(
        UPDATE_RULE, {"input": _rule_input("REVIEW", needsModeration=False)}, auth=keys["ADMIN"]
    )
    review = {
        "idempotencyKey": "r-1",
        "productId": "boots",
        "rating": 5,
        "text": "Great boots, they kept my feet dry.",
    }
    done = (await gql(REVIEW, {"input": review}, auth=token))["submitReview"]
    assert (done["pointsAwarded"], done["activity"]["status"], done["activity"]["points"]) == (
        20,
        "APPROVED",
        20,
    )
    account = (await gql(VIEWER, auth=token))["viewer"]
    assert (account["pointsBalance"], account["pendingPoints"]) == (20, 1)  # 1: the purchase
    assert (await gql(QUEUE, auth=keys["MODERATOR"]))["moderationQueue"] == []


async def test_a_pending_period_delays_spending_a_share(
    gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    token = await _member(gql, keys["SERVICE"], "wait")
    await gql(
        UPDATE_RULE, {"input": _rule_input("SOCIAL_SHARE", pendingDays=7)}, auth=keys["ADMIN"]
    )
    done = (await gql(SHARE, _share("w-1", "https://shop.example/a"), auth=token))["recordShare"]
    assert (done["pointsAwarded"], done["activity"]["status"], done["activity"]["points"]) == (
        5,
        "PENDING",
        0,
    )
    account = (await gql(VIEWER, auth=token))["viewer"]
    assert (account["pointsBalance"], account["pendingPoints"]) == (0, 5)
    assert account["ledger"]["edges"][0]["node"]["spendableAt"] is not None
    # Nothing for a moderator to decide: only time.
    assert (await gql(QUEUE, auth=keys["MODERATOR"]))["moderationQueue"] == []

    clock.advance(days=6)
    assert (await gql(VIEWER, auth=token))["viewer"]["pointsBalance"] == 0
    clock.advance(days=1, seconds=1)
    account = (await gql(VIEWER, auth=token))["viewer"]
    assert (account["pointsBalance"], account["pendingPoints"]) == (5, 0)


async def test_a_rule_changed_by_another_worker_applies_within_the_snapshot_age(
    gql: GraphQL, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another worker's change (written to the table, not through this process) is
    read here once the snapshot is older than MAX_AGE."""
    monkeypatch.setattr(snapshots, "MAX_AGE", 0.2)
    await gql(UPSERT, {"input": {"externalId": "w1", "displayName": "W"}}, auth=keys["SERVICE"])
    first = await gql(PURCHASE, {"input": purchase_input("w1", "o1", 1000)}, auth=keys["SERVICE"])
    assert first["recordPurchase"]["pointsAwarded"] == 10  # the default: 1 point per 1.00
    await EarningRule.filter(kind=ActivityKind.PURCHASE).update(points_per_currency_unit=Decimal(3))
    await asyncio.sleep(0.25)
    later = await gql(PURCHASE, {"input": purchase_input("w1", "o2", 1000)}, auth=keys["SERVICE"])
    assert later["recordPurchase"]["pointsAwarded"] == 30
