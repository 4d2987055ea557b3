"""Prizes: the catalog by admins, redemption in one transaction with each typed error and
nothing changed on failure, pool codes, cancel and fulfil exactly once, codes shown to
their owner only."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from server import actions
from server.actions import Services
from server.auth import Principal, Role
from server.rewards.consistency import find_mismatches
from server.rewards.errors import Invalid, PermissionDenied
from server.rewards.ledger import LedgerEntry
from server.rewards.members import Member
from server.rewards.prizes import CODE_ALPHABET, Prize, PrizeCode, Redemption
from server.rewards.tiers import Tier, ensure_tiers
from tests.conftest import Clock, GraphQL, member_token

SHOP = Principal(role=Role.SERVICE, name="shop backend")
ADMIN = Principal(role=Role.ADMIN, name="ops")

CREATE = """
mutation($input: CreatePrizeInput!) {
  createPrize(input: $input) {
    __typename
    ... on PrizeSaved { prize { id name cost stockLeft kind minTier { name } } }
    ... on ValidationError { field message }
    ... on Error { message }
  }
}"""

REDEEM = """
mutation($input: RedeemPrizeInput!) {
  redeemPrize(input: $input) {
    __typename
    ... on PrizeRedeemed {
      duplicate
      redemption { id code cost status prize { name stockLeft } }
      account { pointsBalance }
    }
    ... on InsufficientPointsError { balance required }
    ... on Error { message }
  }
}"""

PRIZES = """
query($first: Int! = 20, $after: String) {
  prizes(first: $first, after: $after) {
    edges { cursor node { name cost stockLeft } }
    pageInfo { hasNextPage endCursor }
  }
}"""

MINE = "query { viewer { pointsBalance redemptions { code status prize { name } } } }"
CODE = re.compile(f"^[{CODE_ALPHABET}]{{4}}-[{CODE_ALPHABET}]{{4}}-[{CODE_ALPHABET}]{{4}}$")


async def _shopper(svc: Services, name: str, points: int) -> tuple[Member, str]:
    member = await actions.upsert_member(svc, SHOP, external_id=name, display_name=name)
    if points:
        await actions.adjust_points(
            svc,
            ADMIN,
            idempotency_key=f"open-{name}",
            member_id=str(member.id),
            amount=points,
            reason="x",
        )
    return member, await member_token(name)


async def _prize(gql: GraphQL, keys: dict[str, str], **fields: Any) -> str:
    saved = await gql(
        CREATE, {"input": {"name": "Tote bag", "cost": 100, **fields}}, auth=keys["ADMIN"]
    )
    assert saved["createPrize"]["__typename"] == "PrizeSaved", saved
    prize_id: str = saved["createPrize"]["prize"]["id"]
    return prize_id


async def _redeem(gql: GraphQL, token: str, prize_id: str, key: str = "r1") -> dict[str, Any]:
    done: dict[str, Any] = (
        await gql(REDEEM, {"input": {"idempotencyKey": key, "prizeId": prize_id}}, auth=token)
    )["redeemPrize"]
    return done


async def _state() -> tuple[int, int, list[int | None]]:
    """(redemptions, ledger entries, stock left of every prize): what a failure leaves alone."""
    stock = [p.stock_left for p in await Prize.all().order_by("id")]
    return await Redemption.all().count(), await LedgerEntry.all().count(), stock


async def test_admins_build_the_catalog(svc: Services, gql: GraphQL, keys: dict[str, str]) -> None:
    for role in ("SERVICE", "MODERATOR"):
        denied = await gql(CREATE, {"input": {"name": "x", "cost": 1}}, auth=keys[role])
        assert denied["createPrize"]["__typename"] == "PermissionDeniedError"
    for bad, field in (
        ({"cost": 0}, "cost"),
        ({"stock": -1}, "stock"),
        ({"name": " "}, "name"),
        ({"perMemberLimit": 0}, "perMemberLimit"),
        ({"minTierId": "999"}, "minTierId"),
    ):
        got = await gql(CREATE, {"input": {"name": "x", "cost": 5, **bad}}, auth=keys["ADMIN"])
        assert got["createPrize"]["field"] == field
    assert await Prize.all().count() == 0
    now = svc.clock()
    with pytest.raises(Invalid) as raised:
        await actions.create_prize(
            ADMIN, actions.PrizeFields(name="x", cost=5, available_from=now, available_until=now)
        )
    assert raised.value.field == "availableUntil"
    await _prize(gql, keys, name="Mug", cost=50, stock=3)
    hidden = await _prize(
        gql, keys, name="Later", availableFrom=(svc.clock() + timedelta(days=2)).isoformat()
    )
    gone = await _prize(gql, keys, name="Old")
    await actions.archive_prize(ADMIN, gone)
    listed = (await gql(PRIZES))["prizes"]
    assert [e["node"] for e in listed["edges"]] == [{"name": "Mug", "cost": 50, "stockLeft": 3}]
    svc.clock.advance(days=3)  # type: ignore[attr-defined]
    assert len((await gql(PRIZES))["prizes"]["edges"]) == 2
    page = (await gql(PRIZES, {"first": 1}))["prizes"]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = (await gql(PRIZES, {"first": 5, "after": page["pageInfo"]["endCursor"]}))["prizes"]
    assert [e["node"]["name"] for e in rest["edges"]] == ["Later"]
    assert hidden


async def test_a_redemption_spends_points_takes_stock_and_gives_a_code(
    svc: Services, gql: GraphQL, keys: dict[str, str]
) -> None:
    _, token = await _shopper(svc, "ana", 250)
    prize_id = await _prize(gql, keys, cost=100, stock=5)
    done = await _redeem(gql, token, prize_id)
    assert done["__typename"] == "PrizeRedeemed"
    assert done["duplicate"] is False
    assert CODE.match(done["redemption"]["code"])
    assert done["redemption"]["status"] == "RESERVED"
    assert done["redemption"]["prize"]["stockLeft"] == 4
    assert done["account"]["pointsBalance"] == 150
    again = await _redeem(gql, token, prize_id)  # a retry: the same answer, nothing spent
    assert again["duplicate"] is True
    assert again["redemption"] == done["redemption"] | {
        "prize": {"name": "Tote bag", "stockLeft": 4}
    }
    other = await _prize(gql, keys, name="Other", cost=10)
    reused = await _redeem(gql, token, other)  # the same key for another prize
    assert reused["__typename"] == "ConflictError"
    assert (await gql(MINE, auth=token))["viewer"]["pointsBalance"] == 150
    assert await find_mismatches() == []


async def test_every_failed_check_changes_nothing(
    svc: Services, gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    await ensure_tiers()
    _, token = await _shopper(svc, "bo", 120)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"cost": 500}, "InsufficientPointsError"),
        ({"stock": 0}, "OutOfStockError"),
        ({"minTierId": str((await Tier.get(name="Gold")).id)}, "PermissionDeniedError"),
        ({"availableUntil": (clock() - timedelta(hours=1)).isoformat()}, "ConflictError"),
    ]
    for fields, error in cases:
        prize_id = await _prize(gql, keys, **fields)
        before = await _state()
        got = await _redeem(gql, token, prize_id, key=f"k-{error}")
        assert got["__typename"] == error, (fields, got)
        assert await _state() == before
    missing = await _redeem(gql, token, "424242", key="k-missing")
    assert missing["__typename"] == "NotFoundError"
    staff = await _redeem(gql, keys["ADMIN"], "1", key="k-staff")
    assert staff["__typename"] == "PermissionDeniedError"


async def test_the_per_member_limit(svc: Services, gql: GraphQL, keys: dict[str, str]) -> None:
    _, token = await _shopper(svc, "cy", 1_000)
    prize_id = await _prize(gql, keys, cost=10, perMemberLimit=2)
    assert (await _redeem(gql, token, prize_id, "a"))["__typename"] == "PrizeRedeemed"
    assert (await _redeem(gql, token, prize_id, "b"))["__typename"] == "PrizeRedeemed"
    before = await _state()
    assert (await _redeem(gql, token, prize_id, "c"))["__typename"] == "LimitReachedError"
    assert await _state() == before


async def test_pool_codes_are_handed_out_then_run_out(
    svc: Services, gql: GraphQL, keys: dict[str, str]
) -> None:
    _, token = await _shopper(svc, "dee", 1_000)
    prize_id = await _prize(gql, keys, cost=10, kind="GIFT_CARD")
    added = await actions.load_codes(prize_id, ["GC-0001", "", "GC-0002", "GC-0001"])
    assert added == (2, 1)
    assert await actions.load_codes(prize_id, ["GC-0002"]) == (0, 1)
    with pytest.raises(Invalid):
        await actions.load_codes(prize_id, ["x" * 65])
    codes = [(await _redeem(gql, token, prize_id, f"p{i}"))["redemption"]["code"] for i in range(2)]
    assert sorted(codes) == ["GC-0001", "GC-0002"]
    before = await _state()
    assert (await _redeem(gql, token, prize_id, "p3"))["__typename"] == "OutOfStockError"
    assert await _state() == before
    assert await PrizeCode.filter(redemption_id__isnull=True).count() == 0


async def test_cancel_returns_points_and_stock_once_and_fulfil_marks_it_used(
    svc: Services, gql: GraphQL, keys: dict[str, str]
) -> None:
    member, token = await _shopper(svc, "eve", 300)
    prize_id = await _prize(gql, keys, cost=100, stock=2)
    first = (await _redeem(gql, token, prize_id, "x1"))["redemption"]
    second = (await _redeem(gql, token, prize_id, "x2"))["redemption"]
    with pytest.raises(PermissionDenied):
        await actions.cancel_redemption(
            svc, Principal(Role.SHOPPER, member.id), redemption_id=first["id"], reason=None
        )
    cancelled, changed = await actions.cancel_redemption(
        svc, SHOP, redemption_id=first["id"], reason="out of that colour"
    )
    assert (cancelled.row.status.value, changed) == ("CANCELLED", True)
    _, changed = await actions.cancel_redemption(svc, SHOP, redemption_id=first["id"], reason=None)
    assert changed is False
    await member.refresh_from_db()
    assert member.points_balance == 200
    assert (await Prize.get(id=int(prize_id))).stock_left == 1
    used = await actions.fulfill_redemption(svc, ADMIN, redemption_id=second["id"])
    assert used.row.status.value == "FULFILLED"
    assert used.code == "••••" + second["code"][-4:]  # staff never see a whole code
    with pytest.raises(Exception, match="fulfilled"):
        await actions.cancel_redemption(svc, ADMIN, redemption_id=second["id"], reason=None)
    with pytest.raises(Exception, match="cancelled"):
        await actions.fulfill_redemption(svc, ADMIN, redemption_id=first["id"])
    assert await find_mismatches() == []
    mine = (await gql(MINE, auth=token))["viewer"]["redemptions"]
    assert [(r["code"], r["status"]) for r in mine] == [
        (second["code"], "FULFILLED"),
        (first["code"], "CANCELLED"),
    ]
    staff_view = await gql(
        "query($id: ID!) { account(memberId: $id) { redemptions { code } } }",
        {"id": str(member.id)},
        auth=keys["ADMIN"],
    )
    assert [r["code"] for r in staff_view["account"]["redemptions"]] == [
        "••••" + second["code"][-4:],
        "••••" + first["code"][-4:],
    ]
