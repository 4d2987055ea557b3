"""addPrizeCodes: an admin loads a prize's code pool through GraphQL, with the rules of
``laurel load-codes``; codes already there are skipped, a bad code adds none, and a
shopper redeeming the prize receives one of the uploaded codes."""

from __future__ import annotations

import asyncio
from typing import Any

from server import actions
from server.actions import Services
from server.auth import Principal, Role
from server.rewards.prizes import PrizeCode
from tests.conftest import GraphQL, member_token

ADD = """
mutation($input: AddPrizeCodesInput!) {
  addPrizeCodes(input: $input) {
    __typename
    ... on PrizeCodesAdded { added skipped prize { id name stockLeft } }
    ... on ValidationError { field }
    ... on Error { message }
  }
}"""

CREATE = """
mutation($input: CreatePrizeInput!) {
  createPrize(input: $input) { ... on PrizeSaved { prize { id } } ... on Error { message } }
}"""

REDEEM = """
mutation($input: RedeemPrizeInput!) {
  redeemPrize(input: $input) {
    __typename
    ... on PrizeRedeemed { redemption { code prize { stockLeft } } }
    ... on Error { message }
  }
}"""

SHOP = Principal(role=Role.SERVICE, name="shop backend")
ADMIN = Principal(role=Role.ADMIN, name="ops")


async def _prize(gql: GraphQL, keys: dict[str, str], **fields: Any) -> str:
    made = await gql(
        CREATE, {"input": {"name": "Gift card", "cost": 100, **fields}}, auth=keys["ADMIN"]
    )
    prize_id: str = made["createPrize"]["prize"]["id"]
    return prize_id


async def _add(gql: GraphQL, auth: str | None, prize_id: str, codes: list[str]) -> dict[str, Any]:
    done = await gql(ADD, {"input": {"prizeId": prize_id, "codes": codes}}, auth=auth)
    result: dict[str, Any] = done["addPrizeCodes"]
    return result


async def test_codes_are_added_once_and_a_shopper_receives_one_of_them(
    svc: Services, gql: GraphQL, keys: dict[str, str]
) -> None:
    prize_id = await _prize(gql, keys, stock=0, kind="GIFT_CARD")
    # 5 entries: a blank one, one padded with spaces, GC-2 twice.
    first = await _add(gql, keys["ADMIN"], prize_id, ["GC-1", "", "GC-2", "  GC-3  ", "GC-2"])
    assert first["__typename"] == "PrizeCodesAdded", first
    # GC-1, GC-2, GC-3 are new; the second GC-2 is skipped; the blank one is not counted.
    # A limited stock grows by the codes added: 0 + 3.
    assert (first["added"], first["skipped"]) == (3, 1)
    assert first["prize"] == {"id": prize_id, "name": "Gift card", "stockLeft": 3}
    again = await _add(gql, keys["ADMIN"], prize_id, ["GC-3", "GC-1", "GC-2"])
    assert (again["added"], again["skipped"], again["prize"]["stockLeft"]) == (0, 3, 3)
    assert await PrizeCode.filter(prize_id=int(prize_id)).count() == 3

    member = await actions.upsert_member(svc, SHOP, external_id="ann", display_name="Ann")
    await actions.adjust_points(
        svc, ADMIN, idempotency_key="open", member_id=str(member.id), amount=250, reason="x"
    )
    token = await member_token("ann")
    codes = []
    for key in ("r1", "r2"):
        got = await gql(REDEEM, {"input": {"idempotencyKey": key, "prizeId": prize_id}}, auth=token)
        assert got["redeemPrize"]["__typename"] == "PrizeRedeemed", got
        codes.append(got["redeemPrize"]["redemption"]["code"])
    # Two of the three uploaded codes, each handed out once; stock 3 - 2.
    assert set(codes) < {"GC-1", "GC-2", "GC-3"}
    assert len(set(codes)) == 2
    assert got["redeemPrize"]["redemption"]["prize"]["stockLeft"] == 1


async def test_ten_thousand_codes_in_one_call_and_no_more(
    svc: Services, gql: GraphQL, keys: dict[str, str]
) -> None:
    prize_id = await _prize(gql, keys)
    codes = [f"CODE-{n:05d}" for n in range(1, 10_002)]
    over = await _add(gql, keys["ADMIN"], prize_id, codes)
    assert (over["__typename"], over["field"]) == ("ValidationError", "codes")
    assert "10,000" in over["message"]
    assert await PrizeCode.all().count() == 0
    done = await _add(gql, keys["ADMIN"], prize_id, codes[:10_000])
    assert (done["added"], done["skipped"]) == (10_000, 0)
    # An unlimited prize stays unlimited: it is the pool that runs out.
    assert done["prize"]["stockLeft"] is None
    assert await PrizeCode.filter(prize_id=int(prize_id)).count() == 10_000


async def test_a_bad_code_is_named_by_its_position_and_adds_none(
    svc: Services, gql: GraphQL, keys: dict[str, str]
) -> None:
    prize_id = await _prize(gql, keys)
    for codes, position in (
        (["OK-1", "", "bad\x00code", "OK-2"], 3),  # a control character
        (["OK-1", "x" * 65], 2),  # longer than 64 characters
        (["OK-1", "tab\tinside"], 2),
    ):
        got = await _add(gql, keys["ADMIN"], prize_id, codes)
        assert (got["__typename"], got["field"]) == ("ValidationError", "codes"), got
        assert got["message"].startswith(f"Code {position} is not a code:"), got["message"]
    assert await PrizeCode.all().count() == 0  # OK-1 came before the bad one: not added


async def test_unknown_prizes_and_callers_who_are_not_admins(
    svc: Services, gql: GraphQL, keys: dict[str, str]
) -> None:
    prize_id = await _prize(gql, keys)
    for missing in ("999999", "not-an-id"):
        got = await _add(gql, keys["ADMIN"], missing, ["GC-1"])
        assert got["__typename"] == "NotFoundError", got
    await actions.upsert_member(svc, SHOP, external_id="bo", display_name="Bo")
    for auth in (None, await member_token("bo"), keys["SERVICE"], keys["MODERATOR"]):
        got = await _add(gql, auth, prize_id, ["GC-1"])
        assert got["__typename"] == "PermissionDeniedError", got
    assert await PrizeCode.all().count() == 0


async def test_the_same_codes_sent_at_once_are_each_added_once(
    svc: Services, gql: GraphQL, keys: dict[str, str]
) -> None:
    prize_id = await _prize(gql, keys, stock=0)
    codes = [f"TWICE-{n:04d}" for n in range(1, 1_501)]  # two batches of the CLI's 1,000
    results = await asyncio.gather(*(_add(gql, keys["ADMIN"], prize_id, codes) for _ in range(3)))
    kinds = {r["__typename"] for r in results}
    assert kinds <= {"PrizeCodesAdded", "ConflictError"}, results
    # SQLite runs one write transaction at a time: the later calls skip everything. On
    # PostgreSQL a call that met another's uncommitted codes answers ConflictError and
    # added none of its own (all or nothing).
    assert sum(r["added"] for r in results if "added" in r) == 1_500
    again = await _add(gql, keys["ADMIN"], prize_id, codes)
    assert (again["added"], again["skipped"], again["prize"]["stockLeft"]) == (0, 1_500, 1_500)
    assert await PrizeCode.filter(prize_id=int(prize_id)).count() == 1_500
