"""A member's history: newest first by when things happened (an order imported later
falls into its place, across page boundaries too), and pending points shown as such."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import GraphQL, member_token
from tests.helpers import PURCHASE, UPSERT, purchase_input

HISTORY = """
query History($first: Int!, $after: String) {
  viewer {
    pendingPoints
    activities(first: $first, after: $after) {
      edges { node { orderId status points pendingPoints occurredAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""


async def _history(gql: GraphQL, token: str, first: int) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        page = (await gql(HISTORY, {"first": first, "after": after}, auth=token))["viewer"]
        seen += [edge["node"] for edge in page["activities"]["edges"]]
        if not page["activities"]["pageInfo"]["hasNextPage"]:
            return seen
        after = page["activities"]["pageInfo"]["endCursor"]


async def test_orders_are_in_date_order_with_their_pending_points(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    service = keys["SERVICE"]
    given = {"externalId": "hal", "displayName": "Hal"}
    assert (await gql(UPSERT, {"input": given}, auth=service))["upsertMember"]["__typename"] == (
        "MemberSaved"
    )
    now = datetime.now(UTC).replace(microsecond=0)
    # Recorded in this order; H-3 and H-4 happened at the same second.
    orders = [
        ("H-1", 1_000, now - timedelta(days=1)),
        ("H-2", 2_000, now - timedelta(days=3)),
        ("H-3", 3_000, now - timedelta(days=2)),
        ("H-4", 4_000, now - timedelta(days=2)),
        ("H-5", 5_000, None),
    ]
    for order, cents, at in orders:
        sent = purchase_input("hal", order, cents)
        if at is not None:
            sent["occurredAt"] = at.isoformat()
        result = (await gql(PURCHASE, {"input": sent}, auth=service))["recordPurchase"]
        assert result["__typename"] == "ActivityRecorded", result
    token = await member_token("hal")

    # Newest first by occurredAt; H-4 before H-3 (same time, recorded later).
    expected = ["H-5", "H-1", "H-4", "H-3", "H-2"]
    for first in (1, 2, 10):
        seen = await _history(gql, token, first)
        assert [a["orderId"] for a in seen] == expected, first
    # 1 point per 1.00, all within the return window: pending, none spendable yet.
    pending = {a["orderId"]: (a["status"], a["points"], a["pendingPoints"]) for a in seen}
    assert pending == {
        "H-1": ("PENDING", 0, 10),
        "H-2": ("PENDING", 0, 20),
        "H-3": ("PENDING", 0, 30),
        "H-4": ("PENDING", 0, 40),
        "H-5": ("PENDING", 0, 50),
    }
    viewer = (await gql(HISTORY, {"first": 1}, auth=token))["viewer"]
    assert viewer["pendingPoints"] == 10 + 20 + 30 + 40 + 50


async def test_a_cursor_of_another_members_list_is_refused(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    service = keys["SERVICE"]
    for name in ("ivy", "jon"):
        given = {"externalId": name, "displayName": name.title()}
        await gql(UPSERT, {"input": given}, auth=service)
        await gql(PURCHASE, {"input": purchase_input(name, f"{name}-1", 1_000)}, auth=service)
    ivy = await member_token("ivy")
    page = (await gql(HISTORY, {"first": 1}, auth=ivy))["viewer"]["activities"]
    cursor = page["pageInfo"]["endCursor"]
    jon = await member_token("jon")
    answer = (await gql.raw(HISTORY, {"first": 1, "after": cursor}, auth=jon)).json()
    assert answer["data"] == {"viewer": None}, answer
    [error] = answer["errors"]
    assert (error["message"], error["extensions"]["code"]) == (
        "after is not a cursor from this list.",
        "BAD_USER_INPUT",
    )
