"""Points as money at checkout: the rule, the debit, idempotency, the webhook's code.
Figures by hand: the default rule is 100 points for 1.00, 500 to 5,000 in steps of 100."""

from __future__ import annotations

import asyncio
from collections import Counter

from server.actions import Services
from server.events import WEBHOOKS
from server.rewards.webhooks import WebhookMessage
from tests.conftest import GraphQL, member_token
from tests.helpers import ADJUST, UPSERT

REDEEM = """
mutation($input: RedeemPointsForDiscountInput!) {
  redeemPointsForDiscount(input: $input) {
    __typename
    ... on DiscountRedeemed {
      duplicate discount { code points valueCents } account { pointsBalance }
    }
    ... on InsufficientPointsError { balance required }
    ... on Error { message }
  }
}"""
RULE = """
mutation($input: UpdateDiscountRuleInput!) {
  updateDiscountRule(input: $input) {
    __typename ... on DiscountRuleSaved { rule { pointsPerCurrencyUnit } } ... on Error { message }
  }
}"""


async def _shopper(gql: GraphQL, keys: dict[str, str], points: int) -> str:
    made = await gql(
        UPSERT, {"input": {"externalId": "dee", "displayName": "Dee"}}, auth=keys["SERVICE"]
    )
    member = made["upsertMember"]["member"]["id"]
    credit = {"idempotencyKey": "grant", "memberId": member, "amount": points, "reason": "Welcome"}
    await gql(ADJUST, {"input": credit}, auth=keys["ADMIN"])
    return await member_token("dee")


async def test_points_become_a_code_once_per_key(
    svc: Services, gql: GraphQL, keys: dict[str, str]
) -> None:
    token = await _shopper(gql, keys, 1_000)
    rule = await gql("{ discountRule { pointsPerCurrencyUnit minPoints maxPoints stepPoints } }")
    assert rule["discountRule"] == {
        "pointsPerCurrencyUnit": 100,
        "minPoints": 500,
        "maxPoints": 5000,
        "stepPoints": 100,
    }
    done = (await gql(REDEEM, {"input": {"idempotencyKey": "d1", "points": 700}}, auth=token))[
        "redeemPointsForDiscount"
    ]
    assert done["discount"]["valueCents"] == 700  # 7.00 off
    assert done["account"]["pointsBalance"] == 300
    again = (await gql(REDEEM, {"input": {"idempotencyKey": "d1", "points": 700}}, auth=token))[
        "redeemPointsForDiscount"
    ]
    assert again["duplicate"] is True
    assert again["discount"]["code"] == done["discount"]["code"]
    assert again["account"]["pointsBalance"] == 300
    short = (await gql(REDEEM, {"input": {"idempotencyKey": "d2", "points": 500}}, auth=token))[
        "redeemPointsForDiscount"
    ]
    assert (short["__typename"], short["balance"], short["required"]) == (
        "InsufficientPointsError",
        300,
        500,
    )


async def test_amounts_outside_the_rule_are_refused_in_plain_words(
    svc: Services, gql: GraphQL, keys: dict[str, str]
) -> None:
    token = await _shopper(gql, keys, 10_000)
    for points, words in ((550, "steps of 100"), (400, "500 to 5,000"), (5_100, "500 to 5,000")):
        answer = (
            await gql(
                REDEEM, {"input": {"idempotencyKey": f"x{points}", "points": points}}, auth=token
            )
        )["redeemPointsForDiscount"]
        assert answer["__typename"] == "ValidationError"
        assert words in answer["message"]
    changed = {"pointsPerCurrencyUnit": 50, "minPoints": 100, "maxPoints": 1000, "stepPoints": 50}
    saved = await gql(RULE, {"input": changed}, auth=keys["ADMIN"])
    assert saved["updateDiscountRule"]["rule"]["pointsPerCurrencyUnit"] == 50
    done = (await gql(REDEEM, {"input": {"idempotencyKey": "r", "points": 150}}, auth=token))[
        "redeemPointsForDiscount"
    ]
    assert done["discount"]["valueCents"] == 300  # 150 points at 50 for 1.00: 3.00


async def test_the_redemption_webhook_carries_the_code_and_its_value(
    svc: Services, gql: GraphQL, keys: dict[str, str]
) -> None:
    svc.webhooks_allow_private = True
    await gql(
        """mutation { createWebhookEndpoint(input: {url: "http://127.0.0.1:9/crm",
           events: ["redemption.created"]}) { __typename } }""",
        auth=keys["ADMIN"],
    )
    token = await _shopper(gql, keys, 1_000)
    done = (await gql(REDEEM, {"input": {"idempotencyKey": "w", "points": 1_000}}, auth=token))[
        "redeemPointsForDiscount"
    ]
    await svc.events.drain([WEBHOOKS], grace=False)
    (message,) = await WebhookMessage.filter(type="redemption.created")
    data = message.payload["data"]
    assert (data["code"], data["valueCents"], data["points"]) == (
        done["discount"]["code"],
        1_000,
        1_000,
    )
    assert data["member"]["externalId"] == "dee"


async def test_concurrent_redemptions_never_overspend(
    svc: Services, gql: GraphQL, keys: dict[str, str]
) -> None:
    token = await _shopper(gql, keys, 1_000)
    answers = await asyncio.gather(
        *(
            gql(REDEEM, {"input": {"idempotencyKey": f"c{i}", "points": 600}}, auth=token)
            for i in range(12)
        )
    )
    kinds = Counter(a["redeemPointsForDiscount"]["__typename"] for a in answers)
    assert kinds == {"DiscountRedeemed": 1, "InsufficientPointsError": 11}
