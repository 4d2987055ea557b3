"""Amounts are bounded: an order above LAUREL_MAX_AMOUNT_CENTS, an adjustment above
LAUREL_MAX_POINTS_PER_CALL and any change that would take a balance, lifetime total or
board score beyond 2^31 - 1 (a GraphQL Int) are refused with a ValidationError, so that
a member at the maximum can still be read everywhere."""

from __future__ import annotations

from typing import Any

import pytest

from server.rewards.consistency import find_mismatches
from server.rewards.validation import MAX_POINT_TOTAL
from tests.conftest import GraphQL, member_token
from tests.helpers import ADJUST, PURCHASE, UPSERT, ledger_counts, purchase_input

RATE = """
mutation Rate($input: UpdateEarningRuleInput!) {
  updateEarningRule(input: $input) { __typename ... on Error { message } }
}"""

EVERY_READ = """
query Everything($id: ID!) {
  viewer {
    pointsBalance pendingPoints owedPoints referralCode
    member { id lifetimePoints tier { name } badges { level } communityRank { title } }
    tierProgress { qualifyingPoints pointsToNext pointsToKeep current { name } }
    expiringPoints { points }
    badgeProgress { value remaining percent }
    activities(first: 5) { edges { node { points kind } } }
    ledger(first: 5) { edges { node { amount reason } } }
  }
  account(memberId: $id) { pointsBalance }
  member(id: $id) { lifetimePoints }
  allTime: leaderboard { totalMembers entries { rank score member { id } } }
  week: leaderboard(board: {window: WEEK}) { entries { score } }
  day: leaderboard(board: {window: DAY}) { entries { score } }
  around: leaderboardAround(memberId: $id) { entries { rank score } }
}"""


def _adjust(member_id: str, amount: int, key: str) -> dict[str, Any]:
    return {
        "input": {"idempotencyKey": key, "memberId": member_id, "amount": amount, "reason": "Gift"}
    }


async def test_an_order_above_the_maximum_amount_is_refused(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    service = keys["SERVICE"]
    await gql(UPSERT, {"input": {"externalId": "ada", "displayName": "Ada"}}, auth=service)
    before = await ledger_counts()
    for cents in (100_000_001, 2_147_483_647):
        bought = {"input": purchase_input("ada", f"O-{cents}", cents)}
        result = (await gql(PURCHASE, bought, auth=service))["recordPurchase"]
        assert result["__typename"] == "ValidationError", result
        assert result["field"] == "amountCents"
        assert "100000000" in result["message"]
    assert await ledger_counts() == before


@pytest.mark.parametrize("amount", [1_000_001, -1_000_001, 2_147_483_647])
async def test_an_adjustment_above_the_maximum_is_refused(
    gql: GraphQL, keys: dict[str, str], amount: int
) -> None:
    saved = await gql(
        UPSERT, {"input": {"externalId": "ada", "displayName": "Ada"}}, auth=keys["SERVICE"]
    )
    before = await ledger_counts()
    member_id = saved["upsertMember"]["member"]["id"]
    result = await gql(ADJUST, _adjust(member_id, amount, "a-1"), auth=keys["ADMIN"])
    assert result["adjustPoints"]["__typename"] == "ValidationError"
    assert result["adjustPoints"]["field"] == "amount"
    assert await ledger_counts() == before


async def test_a_member_at_the_maximum_is_refused_more_and_every_read_answers(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    service, admin = keys["SERVICE"], keys["ADMIN"]
    # 10,000 points per currency unit, spendable at once: one large order nearly fills it.
    rule = {"kind": "PURCHASE", "pointsPerCurrencyUnit": 10_000, "pendingDays": 0}
    assert (await gql(RATE, {"input": rule}, auth=admin))["updateEarningRule"]["__typename"] == (
        "EarningRuleSaved"
    )
    saved = await gql(UPSERT, {"input": {"externalId": "ada", "displayName": "Ada"}}, auth=service)
    member_id = saved["upsertMember"]["member"]["id"]
    await gql(UPSERT, {"input": {"externalId": "bob", "displayName": "Bob"}}, auth=service)
    await gql(PURCHASE, {"input": purchase_input("bob", "B-1", 1_000)}, auth=service)

    bought = await gql(PURCHASE, {"input": purchase_input("ada", "A-1", 21_474_836)}, auth=service)
    assert bought["recordPurchase"]["pointsAwarded"] == 2_147_483_600
    # Tier and badge bonuses followed; they were cut to what fits. Fill it to the brim.
    token = await member_token("ada")
    lifetime = (await gql(EVERY_READ, {"id": member_id}, auth=token))["member"]["lifetimePoints"]
    assert lifetime <= MAX_POINT_TOTAL
    if lifetime < MAX_POINT_TOTAL:
        filled = await gql(
            ADJUST, _adjust(member_id, MAX_POINT_TOTAL - lifetime, "fill"), auth=admin
        )
        assert filled["adjustPoints"]["__typename"] == "PointsAdjusted", filled

    before = await ledger_counts()
    one_more = (await gql(ADJUST, _adjust(member_id, 1, "one-more"), auth=admin))["adjustPoints"]
    assert one_more["__typename"] == "ValidationError", one_more
    assert one_more["field"] == "amount"
    assert "2,147,483,647" in one_more["message"]
    order = await gql(PURCHASE, {"input": purchase_input("ada", "A-2", 100)}, auth=service)
    assert order["recordPurchase"]["__typename"] == "ValidationError"
    assert order["recordPurchase"]["field"] == "amountCents"
    assert await ledger_counts() == before

    everything = await gql(EVERY_READ, {"id": member_id}, auth=token)  # no GraphQL errors
    viewer = everything["viewer"]
    assert viewer["member"]["lifetimePoints"] == MAX_POINT_TOTAL
    assert viewer["pointsBalance"] + viewer["pendingPoints"] == MAX_POINT_TOTAL
    assert everything["account"] is not None
    top = everything["allTime"]["entries"][0]
    assert (top["rank"], top["score"], top["member"]["id"]) == (1, MAX_POINT_TOTAL, member_id)
    assert everything["week"]["entries"][0]["score"] == MAX_POINT_TOTAL
    assert everything["around"]["entries"][0]["score"] == MAX_POINT_TOTAL
    # Staff reads too.
    staff = await gql(
        EVERY_READ.replace("viewer {", "viewer: account(memberId: $id) {"),
        {"id": member_id},
        auth=admin,
    )
    assert staff["viewer"]["member"]["lifetimePoints"] == MAX_POINT_TOTAL
    # The bonuses that were cut are in the ledger as what was paid: cache == ledger.
    assert await find_mismatches() == []
