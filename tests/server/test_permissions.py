"""Who may do what: every operation built so far, called as every role.

A denied mutation answers with ``PermissionDeniedError`` in its union result and
writes nothing; a private query answers null to a caller who may not read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import GraphQL, member_token
from tests.helpers import ADJUST, BOARD, PURCHASE, UPSERT, VIEWER, ledger_counts, purchase_input

ROLES = ["ANONYMOUS", "SHOPPER", "SERVICE", "MODERATOR", "ADMIN"]

ACCOUNT = """
query Account($memberId: ID!) {
  account(memberId: $memberId) { pointsBalance pendingPoints member { id displayName } }
}"""

MEMBER = """
query Member($id: ID!) { member(id: $id) { id displayName lifetimePoints } }"""


@dataclass(frozen=True)
class World:
    """Two members, Ada (the shopper in these tests) with a purchase, and Bob."""

    auth: dict[str, str | None]
    ada_id: str
    bob_id: str


@pytest.fixture
async def world(gql: GraphQL, keys: dict[str, str]) -> World:
    service = keys["SERVICE"]
    ids: dict[str, str] = {}
    for external_id, name in (("ada", "Ada"), ("bob", "Bob")):
        saved = await gql(
            UPSERT, {"input": {"externalId": external_id, "displayName": name}}, auth=service
        )
        ids[external_id] = saved["upsertMember"]["member"]["id"]
    await gql(PURCHASE, {"input": purchase_input("ada", "SEED-1", 4_200)}, auth=service)
    auth: dict[str, str | None] = {"ANONYMOUS": None, "SHOPPER": await member_token("ada")}
    auth.update(keys)
    return World(auth=auth, ada_id=ids["ada"], bob_id=ids["bob"])


def _mutation_case(
    operation: str, world: World, role: str
) -> tuple[str, dict[str, Any], tuple[int, int]]:
    """The document, variables and the (ledger, members) growth when it is allowed."""
    if operation == "upsertMember":
        return UPSERT, {"input": {"externalId": f"new-{role}", "displayName": "Nia"}}, (0, 1)
    if operation == "recordPurchase":
        return PURCHASE, {"input": purchase_input("bob", f"O-{role}", 1_000)}, (1, 0)
    variables = {
        "input": {
            "idempotencyKey": f"adj-{role}",
            "memberId": world.bob_id,
            "amount": 25,
            "reason": "Goodwill",
        }
    }
    return ADJUST, variables, (1, 0)


ALLOWED = {
    "upsertMember": {"SERVICE", "ADMIN"},
    "recordPurchase": {"SERVICE", "ADMIN"},
    "adjustPoints": {"ADMIN"},
}
SUCCESS = {
    "upsertMember": "MemberSaved",
    "recordPurchase": "ActivityRecorded",
    "adjustPoints": "PointsAdjusted",
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", list(ALLOWED))
async def test_mutation_runs_only_for_its_roles_and_a_denied_one_writes_nothing(
    gql: GraphQL, world: World, operation: str, role: str
) -> None:
    document, variables, growth = _mutation_case(operation, world, role)
    before = await ledger_counts()

    result = (await gql(document, variables, auth=world.auth[role]))[operation]

    after = await ledger_counts()
    if role in ALLOWED[operation]:
        assert result["__typename"] == SUCCESS[operation], result
        assert (after[0] - before[0], after[1] - before[1]) == growth
    else:
        assert result["__typename"] == "PermissionDeniedError", result
        for needed in ALLOWED[operation]:
            assert needed in result["message"]
        assert after == before


async def test_denied_adjustment_leaves_the_balance_and_board_alone(
    gql: GraphQL, world: World
) -> None:
    variables = {
        "input": {
            "idempotencyKey": "adj-x",
            "memberId": world.ada_id,
            "amount": 1_000,
            "reason": "Self-service",
        }
    }
    for role in ("ANONYMOUS", "SHOPPER", "SERVICE", "MODERATOR"):
        denied = (await gql(ADJUST, variables, auth=world.auth[role]))["adjustPoints"]
        assert denied["__typename"] == "PermissionDeniedError"
    account = (await gql(VIEWER, auth=world.auth["SHOPPER"]))["viewer"]
    assert (account["pointsBalance"], account["pendingPoints"]) == (0, 42)
    board = (await gql(BOARD))["leaderboard"]
    assert [e["score"] for e in board["entries"]] == [42]
    # The key was not used up by the denied calls: the admin can still use it.
    done = (await gql(ADJUST, variables, auth=world.auth["ADMIN"]))["adjustPoints"]
    assert done["__typename"] == "PointsAdjusted"
    assert done["duplicate"] is False


@pytest.mark.parametrize("role", ROLES)
async def test_viewer_is_the_shoppers_own_account_and_null_for_everyone_else(
    gql: GraphQL, world: World, role: str
) -> None:
    viewer = (await gql(VIEWER, auth=world.auth[role]))["viewer"]
    if role == "SHOPPER":
        assert viewer["member"]["id"] == world.ada_id
        assert viewer["pendingPoints"] == 42
    else:
        assert viewer is None


@pytest.mark.parametrize(
    ("role", "sees_own", "sees_other"),
    [
        ("ANONYMOUS", False, False),
        ("SHOPPER", True, False),
        ("SERVICE", True, True),
        ("MODERATOR", True, True),
        ("ADMIN", True, True),
    ],
)
async def test_account_is_for_staff_and_for_the_shopper_it_belongs_to(
    gql: GraphQL, world: World, role: str, sees_own: bool, sees_other: bool
) -> None:
    own = (await gql(ACCOUNT, {"memberId": world.ada_id}, auth=world.auth[role]))["account"]
    other = (await gql(ACCOUNT, {"memberId": world.bob_id}, auth=world.auth[role]))["account"]
    if sees_own:
        assert own["member"] == {"id": world.ada_id, "displayName": "Ada"}
        assert (own["pointsBalance"], own["pendingPoints"]) == (0, 42)
    else:
        assert own is None
    if sees_other:
        assert other["member"] == {"id": world.bob_id, "displayName": "Bob"}
    else:
        assert other is None


@pytest.mark.parametrize("role", ROLES)
async def test_public_profiles_and_the_leaderboard_are_open_to_everyone(
    gql: GraphQL, world: World, role: str
) -> None:
    found = (await gql(MEMBER, {"id": world.ada_id}, auth=world.auth[role]))["member"]
    assert found == {"id": world.ada_id, "displayName": "Ada", "lifetimePoints": 42}
    board = (await gql(BOARD, auth=world.auth[role]))["leaderboard"]
    assert board["totalMembers"] == 1
    assert board["entries"] == [
        {"rank": 1, "score": 42, "member": {"id": world.ada_id, "displayName": "Ada"}}
    ]
