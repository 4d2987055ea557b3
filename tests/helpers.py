"""GraphQL documents and small helpers shared by the tests."""

from __future__ import annotations

from typing import Any

from server.rewards.ledger import LedgerEntry
from server.rewards.members import Member

UPSERT = """
mutation Upsert($input: UpsertMemberInput!) {
  upsertMember(input: $input) {
    __typename
    ... on MemberSaved { member { id displayName lifetimePoints } }
    ... on Error { message }
    ... on ValidationError { field }
  }
}"""

PURCHASE = """
mutation Purchase($input: RecordPurchaseInput!) {
  recordPurchase(input: $input) {
    __typename
    ... on ActivityRecorded {
      pointsAwarded duplicate
      activity { id kind status points occurredAt member { id displayName } }
    }
    ... on Error { message }
    ... on ValidationError { field }
  }
}"""

ADJUST = """
mutation Adjust($input: AdjustPointsInput!) {
  adjustPoints(input: $input) {
    __typename
    ... on PointsAdjusted { duplicate entry { id amount reason } account { pointsBalance } }
    ... on InsufficientPointsError { balance required }
    ... on Error { message }
    ... on ValidationError { field }
  }
}"""

VIEWER = """
query Viewer($first: Int! = 20, $after: String) {
  viewer {
    pointsBalance pendingPoints referralCode
    member { id displayName lifetimePoints }
    ledger(first: $first, after: $after) {
      edges { cursor node { id amount reason createdAt spendableAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""

BOARD = """
query Board($first: Int! = 10, $offset: Int! = 0) {
  leaderboard(first: $first, offset: $offset) {
    totalMembers
    entries { rank score member { id displayName } }
  }
}"""


async def ledger_counts() -> tuple[int, int]:
    """(ledger entries, members): what a rejected request must leave unchanged."""
    return await LedgerEntry.all().count(), await Member.all().count()


def purchase_input(member: str, order: str, cents: int, key: str | None = None) -> dict[str, Any]:
    return {
        "idempotencyKey": key or f"key-{order}",
        "memberExternalId": member,
        "orderId": order,
        "amountCents": cents,
    }
