"""Retries are safe: a repeated call with the same idempotency key credits nothing more.

The same key with different input, or the same order under another key, is a
``ConflictError``; keys are scoped per operation.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.conftest import Clock, GraphQL, member_token
from tests.helpers import ADJUST, BOARD, PURCHASE, UPSERT, VIEWER, ledger_counts, purchase_input


@pytest.fixture
async def ada(gql: GraphQL, keys: dict[str, str]) -> str:
    saved = await gql(
        UPSERT, {"input": {"externalId": "ada", "displayName": "Ada"}}, auth=keys["SERVICE"]
    )
    member_id: str = saved["upsertMember"]["member"]["id"]
    return member_id


async def _points(gql: GraphQL) -> tuple[int, int, int, list[int]]:
    """What Ada sees: (spendable, pending, lifetime, board scores)."""
    account = (await gql(VIEWER, auth=await member_token("ada")))["viewer"]
    board = (await gql(BOARD))["leaderboard"]
    return (
        account["pointsBalance"],
        account["pendingPoints"],
        account["member"]["lifetimePoints"],
        [e["score"] for e in board["entries"]],
    )


def _adjustment(member_id: str, key: str, amount: int, reason: str = "Goodwill") -> dict[str, Any]:
    return {
        "input": {"idempotencyKey": key, "memberId": member_id, "amount": amount, "reason": reason}
    }


async def test_a_repeated_purchase_returns_the_first_result_and_credits_once(
    gql: GraphQL, keys: dict[str, str], ada: str
) -> None:
    variables = {"input": purchase_input("ada", "A-1", 12_345, key="shop-req-1")}
    first = (await gql(PURCHASE, variables, auth=keys["SERVICE"]))["recordPurchase"]
    assert (first["__typename"], first["duplicate"], first["pointsAwarded"]) == (
        "ActivityRecorded",
        False,
        123,
    )
    counts = await ledger_counts()

    for _ in range(2):
        again = (await gql(PURCHASE, variables, auth=keys["SERVICE"]))["recordPurchase"]
        assert again["duplicate"] is True
        assert again["pointsAwarded"] == 123
        assert again["activity"] == first["activity"]

    assert await ledger_counts() == counts
    assert await _points(gql) == (0, 123, 123, [123])


async def test_a_purchase_retried_later_is_still_the_same_purchase(
    gql: GraphQL, keys: dict[str, str], ada: str, clock: Clock
) -> None:
    """A shop retries after a timeout, a while later, with the very same input."""
    variables = {"input": purchase_input("ada", "A-1", 5_000, key="shop-req-1")}
    first = (await gql(PURCHASE, variables, auth=keys["SERVICE"]))["recordPurchase"]
    counts = await ledger_counts()

    clock.advance(seconds=30)
    again = (await gql(PURCHASE, variables, auth=keys["SERVICE"]))["recordPurchase"]

    assert again["__typename"] == "ActivityRecorded", again
    assert again["duplicate"] is True
    assert again["activity"]["id"] == first["activity"]["id"]
    assert await ledger_counts() == counts
    assert await _points(gql) == (0, 50, 50, [50])


async def test_a_repeated_adjustment_returns_the_first_entry_and_moves_points_once(
    gql: GraphQL, keys: dict[str, str], ada: str, clock: Clock
) -> None:
    variables = _adjustment(ada, "adj-1", 75)
    first = (await gql(ADJUST, variables, auth=keys["ADMIN"]))["adjustPoints"]
    assert (first["__typename"], first["duplicate"]) == ("PointsAdjusted", False)
    assert first["account"]["pointsBalance"] == 75
    counts = await ledger_counts()

    clock.advance(minutes=5)
    again = (await gql(ADJUST, variables, auth=keys["ADMIN"]))["adjustPoints"]

    assert again["duplicate"] is True
    assert again["entry"] == first["entry"]
    assert again["account"]["pointsBalance"] == 75
    assert await ledger_counts() == counts
    assert await _points(gql) == (75, 0, 75, [75])


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"amountCents": 9_999}, id="amount"),
        pytest.param({"orderId": "A-2"}, id="order"),
        pytest.param({"memberExternalId": "bob"}, id="member"),
        pytest.param({"occurredAt": "2020-01-01T00:00:00+00:00"}, id="occurredAt"),
    ],
)
async def test_a_purchase_key_reused_with_other_input_is_a_conflict(
    gql: GraphQL, keys: dict[str, str], ada: str, change: dict[str, Any]
) -> None:
    service = keys["SERVICE"]
    await gql(UPSERT, {"input": {"externalId": "bob", "displayName": "Bob"}}, auth=service)
    original = purchase_input("ada", "A-1", 5_000, key="shop-req-1")
    await gql(PURCHASE, {"input": original}, auth=service)
    counts = await ledger_counts()

    reused = (await gql(PURCHASE, {"input": {**original, **change}}, auth=service))[
        "recordPurchase"
    ]

    assert reused["__typename"] == "ConflictError", reused
    assert "idempotency key" in reused["message"]
    assert await ledger_counts() == counts
    assert await _points(gql) == (0, 50, 50, [50])


@pytest.mark.parametrize(
    ("amount", "reason", "target"),
    [
        pytest.param(76, "Goodwill", "ada", id="amount"),
        pytest.param(75, "Other reason", "ada", id="reason"),
        pytest.param(75, "Goodwill", "bob", id="member"),
    ],
)
async def test_an_adjustment_key_reused_with_other_input_is_a_conflict(
    gql: GraphQL, keys: dict[str, str], ada: str, amount: int, reason: str, target: str
) -> None:
    saved = await gql(
        UPSERT, {"input": {"externalId": "bob", "displayName": "Bob"}}, auth=keys["ADMIN"]
    )
    ids = {"ada": ada, "bob": saved["upsertMember"]["member"]["id"]}
    await gql(ADJUST, _adjustment(ada, "adj-1", 75), auth=keys["ADMIN"])
    counts = await ledger_counts()

    reused = (
        await gql(ADJUST, _adjustment(ids[target], "adj-1", amount, reason), auth=keys["ADMIN"])
    )["adjustPoints"]

    assert reused["__typename"] == "ConflictError", reused
    assert await ledger_counts() == counts
    assert await _points(gql) == (75, 0, 75, [75])


async def test_the_same_order_under_another_key_is_a_conflict(
    gql: GraphQL, keys: dict[str, str], ada: str
) -> None:
    service = keys["SERVICE"]
    await gql(PURCHASE, {"input": purchase_input("ada", "A-1", 5_000, key="k-1")}, auth=service)
    counts = await ledger_counts()

    again = (
        await gql(PURCHASE, {"input": purchase_input("ada", "A-1", 5_000, key="k-2")}, auth=service)
    )["recordPurchase"]

    assert again["__typename"] == "ConflictError", again
    assert "A-1" in again["message"]
    assert await ledger_counts() == counts
    assert await _points(gql) == (0, 50, 50, [50])


async def test_keys_are_scoped_per_operation(gql: GraphQL, keys: dict[str, str], ada: str) -> None:
    bought = (
        await gql(
            PURCHASE,
            {"input": purchase_input("ada", "A-1", 5_000, key="shared-key")},
            auth=keys["SERVICE"],
        )
    )["recordPurchase"]
    adjusted = (await gql(ADJUST, _adjustment(ada, "shared-key", 20), auth=keys["ADMIN"]))[
        "adjustPoints"
    ]

    assert (bought["__typename"], bought["duplicate"]) == ("ActivityRecorded", False)
    assert (adjusted["__typename"], adjusted["duplicate"]) == ("PointsAdjusted", False)
    assert await ledger_counts() == (2, 1)
    assert await _points(gql) == (20, 50, 70, [70])


async def test_twenty_concurrent_identical_purchases_credit_once(
    gql: GraphQL, keys: dict[str, str], ada: str
) -> None:
    variables = {"input": purchase_input("ada", "RACE-1", 10_000, key="race-key")}
    responses = await asyncio.gather(
        *(gql(PURCHASE, variables, auth=keys["SERVICE"]) for _ in range(20))
    )
    results = [r["recordPurchase"] for r in responses]

    assert {r["__typename"] for r in results} == {"ActivityRecorded"}, results
    assert sorted(r["duplicate"] for r in results) == [False] + [True] * 19
    assert len({r["activity"]["id"] for r in results}) == 1
    assert {r["pointsAwarded"] for r in results} == {100}
    assert await ledger_counts() == (1, 1)
    assert await _points(gql) == (0, 100, 100, [100])
