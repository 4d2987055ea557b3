"""Refunds take a purchase's points back in proportion: from pending first, then from the
balance, and what the balance cannot cover becomes debt paid off by the next earning.

A 10000-cent order earns 100 points; refunding 2500 cents of it takes back 25.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from server.rewards.activities import Refund
from server.rewards.consistency import find_mismatches
from tests.conftest import Clock, GraphQL, member_token
from tests.helpers import ADJUST, BOARD, PURCHASE, UPSERT, ledger_counts, purchase_input

REFUND = """
mutation Refund($input: RefundPurchaseInput!) {
  refundPurchase(input: $input) {
    __typename
    ... on ActivityRecorded {
      pointsAwarded duplicate
      activity { id kind status points orderId }
    }
    ... on Error { message }
    ... on ValidationError { field }
  }
}"""

SHARE = """
mutation Share($input: RecordShareInput!) {
  recordShare(input: $input) {
    __typename
    ... on ActivityRecorded { pointsAwarded }
    ... on Error { message }
  }
}"""

ME = """
query Me {
  viewer {
    pointsBalance pendingPoints owedPoints
    member { lifetimePoints }
    activities(first: 50) { edges { node { kind status points orderId } } }
    ledger(first: 50) { edges { node { amount reason } } }
  }
}"""


def _refund(order: str, cents: int, key: str) -> dict[str, Any]:
    return {"input": {"idempotencyKey": key, "orderId": order, "amountCents": cents}}


@pytest.fixture
async def ada(gql: GraphQL, keys: dict[str, str]) -> str:
    saved = await gql(
        UPSERT, {"input": {"externalId": "ada", "displayName": "Ada"}}, auth=keys["SERVICE"]
    )
    member_id: str = saved["upsertMember"]["member"]["id"]
    return member_id


async def _me(gql: GraphQL) -> dict[str, Any]:
    account: dict[str, Any] = (await gql(ME, auth=await member_token("ada")))["viewer"]
    return account


async def _points(gql: GraphQL) -> tuple[int, int, int, int]:
    """What Ada sees: (spendable, pending, owed, lifetime)."""
    me = await _me(gql)
    return (
        me["pointsBalance"],
        me["pendingPoints"],
        me["owedPoints"],
        me["member"]["lifetimePoints"],
    )


async def _board_score(gql: GraphQL) -> int:
    """Ada's score on the board; a member whose score falls to 0 leaves the board."""
    entries = (await gql(BOARD))["leaderboard"]["entries"]
    return sum(int(e["score"]) for e in entries)


async def _refund_call(
    gql: GraphQL, keys: dict[str, str], order: str, cents: int, key: str
) -> dict[str, Any]:
    result: dict[str, Any] = (await gql(REFUND, _refund(order, cents, key), auth=keys["SERVICE"]))[
        "refundPurchase"
    ]
    return result


async def _old_purchase(
    gql: GraphQL, keys: dict[str, str], clock: Clock, order: str, cents: int
) -> None:
    """An order from 30 days ago: past its return window, its points spendable at once."""
    old = purchase_input("ada", order, cents)
    old["occurredAt"] = (clock.now.replace(microsecond=0) - timedelta(days=30)).isoformat()
    recorded = (await gql(PURCHASE, {"input": old}, auth=keys["SERVICE"]))["recordPurchase"]
    assert recorded["activity"]["status"] == "APPROVED"


async def test_a_partial_refund_in_the_return_window_takes_pending_points_only(
    gql: GraphQL, keys: dict[str, str], ada: str, clock: Clock
) -> None:
    await gql(PURCHASE, {"input": purchase_input("ada", "A-1", 10_000)}, auth=keys["SERVICE"])
    assert await _points(gql) == (0, 100, 0, 100)

    refunded = await _refund_call(gql, keys, "A-1", 2_500, "r-1")

    assert refunded["__typename"] == "ActivityRecorded", refunded
    assert (refunded["pointsAwarded"], refunded["duplicate"]) == (-25, False)
    assert refunded["activity"]["orderId"] == "A-1"
    assert (refunded["activity"]["status"], refunded["activity"]["points"]) == ("PENDING", 0)
    assert await _points(gql) == (0, 75, 0, 75)
    assert await _board_score(gql) == 75

    clock.advance(days=14, seconds=1)
    assert await _points(gql) == (75, 0, 0, 75)
    statement = [e["node"]["amount"] for e in (await _me(gql))["ledger"]["edges"]]
    assert statement == [-25, 100]
    assert await find_mismatches() == []


async def test_after_the_window_refunds_come_from_the_balance_and_a_full_refund_takes_the_rest(
    gql: GraphQL, keys: dict[str, str], ada: str, clock: Clock
) -> None:
    await gql(PURCHASE, {"input": purchase_input("ada", "A-1", 10_000)}, auth=keys["SERVICE"])
    clock.advance(days=14, seconds=1)
    assert await _points(gql) == (100, 0, 0, 100)

    part = await _refund_call(gql, keys, "A-1", 2_500, "r-1")
    assert part["pointsAwarded"] == -25
    assert (part["activity"]["status"], part["activity"]["points"]) == ("APPROVED", 75)
    assert await _points(gql) == (75, 0, 0, 75)

    rest = await _refund_call(gql, keys, "A-1", 7_500, "r-2")
    assert rest["pointsAwarded"] == -75
    assert (rest["activity"]["status"], rest["activity"]["points"]) == ("REVERSED", 0)
    assert await _points(gql) == (0, 0, 0, 0)
    assert await _board_score(gql) == 0
    [purchase] = [
        e["node"]
        for e in (await _me(gql))["activities"]["edges"]
        if e["node"]["kind"] == "PURCHASE"
    ]
    assert (purchase["status"], purchase["points"]) == ("REVERSED", 0)
    assert await find_mismatches() == []


async def test_a_full_refund_in_the_window_reverses_the_purchase_and_nothing_is_released_later(
    gql: GraphQL, keys: dict[str, str], ada: str, clock: Clock
) -> None:
    await gql(PURCHASE, {"input": purchase_input("ada", "A-1", 10_000)}, auth=keys["SERVICE"])

    refunded = await _refund_call(gql, keys, "A-1", 10_000, "r-1")

    assert refunded["pointsAwarded"] == -100
    assert (refunded["activity"]["status"], refunded["activity"]["points"]) == ("REVERSED", 0)
    assert await _points(gql) == (0, 0, 0, 0)
    clock.advance(days=15)
    assert await _points(gql) == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("order_cents", "refunds"),
    [
        pytest.param(10_000, [3_333, 3_333, 3_333, 1], id="3x3333+1"),
        pytest.param(999, [333, 333, 333], id="thirds-of-9-points"),
        pytest.param(10_001, [1, 1, 1, 9_998], id="cents-then-rest"),
        pytest.param(12_345, [4_115, 4_115, 4_115], id="thirds-of-123-points"),
    ],
)
async def test_partial_refunds_never_leave_a_point_behind(
    gql: GraphQL, keys: dict[str, str], ada: str, order_cents: int, refunds: list[int]
) -> None:
    await gql(PURCHASE, {"input": purchase_input("ada", "A-1", order_cents)}, auth=keys["SERVICE"])
    earned = (await _points(gql))[1]
    assert earned == order_cents // 100

    taken: list[int] = []
    refunded_cents = 0
    for i, cents in enumerate(refunds):
        result = await _refund_call(gql, keys, "A-1", cents, f"r-{i}")
        assert result["__typename"] == "ActivityRecorded", result
        taken.append(-result["pointsAwarded"])
        refunded_cents += cents
        # Never more than the refunded share of the order, rounded down, until the end.
        if refunded_cents < order_cents:
            assert sum(taken) <= earned * refunded_cents // order_cents
            assert result["activity"]["status"] == "PENDING"

    assert all(t >= 0 for t in taken)
    assert sum(taken) == earned
    assert result["activity"]["status"] == "REVERSED"
    assert await _points(gql) == (0, 0, 0, 0)
    assert await find_mismatches() == []


async def test_refunding_more_than_is_left_is_refused_and_writes_nothing(
    gql: GraphQL, keys: dict[str, str], ada: str
) -> None:
    await gql(PURCHASE, {"input": purchase_input("ada", "A-1", 10_000)}, auth=keys["SERVICE"])
    await _refund_call(gql, keys, "A-1", 6_000, "r-1")
    counts, refunds, before = await ledger_counts(), await Refund.all().count(), await _points(gql)

    too_much = await _refund_call(gql, keys, "A-1", 4_001, "r-2")

    assert too_much["__typename"] == "ValidationError"
    assert too_much["field"] == "amountCents"
    assert "4000" in too_much["message"]
    assert (await ledger_counts(), await Refund.all().count()) == (counts, refunds)
    assert await _points(gql) == before == (0, 40, 0, 40)

    # The refused key is free: the right amount under it completes the refund.
    rest = await _refund_call(gql, keys, "A-1", 4_000, "r-2")
    assert (rest["pointsAwarded"], rest["activity"]["status"]) == (-40, "REVERSED")


async def test_a_refund_of_an_unknown_order_is_not_found(
    gql: GraphQL, keys: dict[str, str], ada: str
) -> None:
    await gql(PURCHASE, {"input": purchase_input("ada", "A-1", 10_000)}, auth=keys["SERVICE"])
    counts = await ledger_counts()

    missing = await _refund_call(gql, keys, "NOPE-1", 100, "r-1")

    assert missing["__typename"] == "NotFoundError"
    assert await ledger_counts() == counts
    assert await _points(gql) == (0, 100, 0, 100)


@pytest.mark.parametrize("role", ["MODERATOR", "SHOPPER"])
async def test_only_the_shop_service_and_admins_may_refund(
    gql: GraphQL, keys: dict[str, str], ada: str, role: str
) -> None:
    await gql(PURCHASE, {"input": purchase_input("ada", "A-1", 10_000)}, auth=keys["SERVICE"])
    counts = await ledger_counts()
    caller = await member_token("ada") if role == "SHOPPER" else keys[role]

    denied = (await gql(REFUND, _refund("A-1", 10_000, "r-1"), auth=caller))["refundPurchase"]

    assert denied["__typename"] == "PermissionDeniedError"
    assert await ledger_counts() == counts
    assert await _points(gql) == (0, 100, 0, 100)


async def test_a_repeated_refund_is_a_duplicate_and_takes_nothing_twice(
    gql: GraphQL, keys: dict[str, str], ada: str
) -> None:
    await gql(PURCHASE, {"input": purchase_input("ada", "A-1", 10_000)}, auth=keys["SERVICE"])
    first = await _refund_call(gql, keys, "A-1", 2_500, "r-1")
    counts = await ledger_counts()

    for _ in range(2):
        again = await _refund_call(gql, keys, "A-1", 2_500, "r-1")
        assert (again["__typename"], again["duplicate"]) == ("ActivityRecorded", True)
        assert again["pointsAwarded"] == first["pointsAwarded"] == -25
        assert again["activity"]["id"] == first["activity"]["id"]

    assert await ledger_counts() == counts
    assert await Refund.all().count() == 1
    assert await _points(gql) == (0, 75, 0, 75)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"amountCents": 2_000}, id="amount"),
        pytest.param({"orderId": "A-2"}, id="order"),
    ],
)
async def test_a_refund_key_reused_with_other_input_is_a_conflict(
    gql: GraphQL, keys: dict[str, str], ada: str, change: dict[str, Any]
) -> None:
    service = keys["SERVICE"]
    await gql(PURCHASE, {"input": purchase_input("ada", "A-1", 10_000)}, auth=service)
    await gql(PURCHASE, {"input": purchase_input("ada", "A-2", 10_000)}, auth=service)
    await _refund_call(gql, keys, "A-1", 2_500, "r-1")
    counts = await ledger_counts()

    variables = _refund("A-1", 2_500, "r-1")
    variables["input"].update(change)
    reused = (await gql(REFUND, variables, auth=service))["refundPurchase"]

    assert reused["__typename"] == "ConflictError"
    assert await ledger_counts() == counts
    assert await Refund.all().count() == 1
    assert await _points(gql) == (0, 175, 0, 175)


async def test_a_refund_of_spent_points_leaves_debt_that_the_next_earnings_pay_first(
    gql: GraphQL, keys: dict[str, str], ada: str, clock: Clock
) -> None:
    await _old_purchase(gql, keys, clock, "OLD-1", 10_000)
    spent = (
        await gql(
            ADJUST,
            {"input": {"idempotencyKey": "d-1", "memberId": ada, "amount": -80, "reason": "Gift"}},
            auth=keys["ADMIN"],
        )
    )["adjustPoints"]
    assert spent["account"]["pointsBalance"] == 20

    refunded = await _refund_call(gql, keys, "OLD-1", 10_000, "r-1")

    assert refunded["__typename"] == "ActivityRecorded", refunded
    assert refunded["pointsAwarded"] == -100
    assert refunded["activity"]["status"] == "REVERSED"
    me = await _me(gql)
    assert (me["pointsBalance"], me["pendingPoints"], me["owedPoints"]) == (0, 0, 80)
    assert await find_mismatches() == []

    # A 5-point share goes entirely to the debt: the balance stays at 0.
    shared = (
        await gql(
            SHARE,
            {
                "input": {
                    "idempotencyKey": "s-1",
                    "platform": "x",
                    "url": "https://shop.example/p/1",
                    "memberExternalId": "ada",
                }
            },
            auth=keys["SERVICE"],
        )
    )["recordShare"]
    assert (shared["__typename"], shared["pointsAwarded"]) == ("ActivityRecorded", 5)
    me = await _me(gql)
    assert (me["pointsBalance"], me["owedPoints"]) == (0, 75)
    lines = [(e["node"]["amount"], e["node"]["reason"]) for e in me["ledger"]["edges"]]
    assert lines[0][0] == -5
    assert "owed" in lines[0][1]
    assert lines[1][0] == 5

    # A 100-point credit pays the remaining 75 and leaves 25 to spend.
    credited = (
        await gql(
            ADJUST,
            {"input": {"idempotencyKey": "c-1", "memberId": ada, "amount": 100, "reason": "Sorry"}},
            auth=keys["ADMIN"],
        )
    )["adjustPoints"]
    assert credited["account"]["pointsBalance"] == 25
    me = await _me(gql)
    assert (me["pointsBalance"], me["owedPoints"]) == (25, 0)
    assert [e["node"]["amount"] for e in me["ledger"]["edges"][:2]] == [-75, 100]
    assert await find_mismatches() == []


async def test_a_refund_larger_than_the_balance_never_makes_it_negative(
    gql: GraphQL, keys: dict[str, str], ada: str, clock: Clock
) -> None:
    """Two spendable orders, most points spent, then one order refunded in two steps."""
    await _old_purchase(gql, keys, clock, "OLD-1", 10_000)
    await _old_purchase(gql, keys, clock, "OLD-2", 5_000)
    await gql(
        ADJUST,
        {"input": {"idempotencyKey": "d-1", "memberId": ada, "amount": -140, "reason": "Gift"}},
        auth=keys["ADMIN"],
    )

    first = await _refund_call(gql, keys, "OLD-1", 5_000, "r-1")
    assert first["pointsAwarded"] == -50
    balance, pending, owed, _ = await _points(gql)
    assert (balance, pending, owed) == (0, 0, 40)

    second = await _refund_call(gql, keys, "OLD-1", 5_000, "r-2")
    assert second["pointsAwarded"] == -50
    balance, pending, owed, _ = await _points(gql)
    assert (balance, pending, owed) == (0, 0, 90)
    assert await find_mismatches() == []


async def test_debt_is_paid_first_from_points_that_become_spendable_later(
    gql: GraphQL, keys: dict[str, str], ada: str, clock: Clock
) -> None:
    """Ada spent her points while a newer order was still pending; the older order is refunded."""
    await _old_purchase(gql, keys, clock, "OLD-1", 10_000)
    await gql(PURCHASE, {"input": purchase_input("ada", "NEW-1", 20_000)}, auth=keys["SERVICE"])
    await gql(
        ADJUST,
        {"input": {"idempotencyKey": "d-1", "memberId": ada, "amount": -80, "reason": "Gift"}},
        auth=keys["ADMIN"],
    )
    assert (await _points(gql))[:3] == (20, 200, 0)

    refunded = await _refund_call(gql, keys, "OLD-1", 10_000, "r-1")

    assert refunded["__typename"] == "ActivityRecorded", refunded
    assert refunded["pointsAwarded"] == -100
    # The pending points of the other order are not touched; 80 are owed.
    assert (await _points(gql))[:3] == (0, 200, 80)
    assert await find_mismatches() == []

    clock.advance(days=14, seconds=1)
    me = await _me(gql)
    assert (me["pointsBalance"], me["pendingPoints"], me["owedPoints"]) == (120, 0, 0)
    settle = me["ledger"]["edges"][0]["node"]
    assert settle["amount"] == -80
    assert "owed" in settle["reason"]
    assert await find_mismatches() == []
