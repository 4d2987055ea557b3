"""Bad input gets a typed error naming the field as the client spells it, and writes nothing.

Mutations answer with ``ValidationError``/``NotFoundError``/``InsufficientPointsError``
in their union result; query arguments with a GraphQL error whose extensions carry
``code: BAD_USER_INPUT`` and the ``field``; bad credentials with HTTP 401 before
anything runs.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from server.rewards.errors import Invalid
from server.rewards.validation import clean_text
from tests.conftest import JWT_SECRET, Clock, GraphQL, member_token
from tests.helpers import ADJUST, PURCHASE, UPSERT, VIEWER, ledger_counts, purchase_input

BOARD_PAGE = """
query Board($first: Int!, $offset: Int!) {
  leaderboard(first: $first, offset: $offset) { totalMembers }
}"""

MEMBER = """
query Member($id: ID!) { member(id: $id) { id displayName } }"""


@pytest.fixture
async def ada(gql: GraphQL, keys: dict[str, str]) -> str:
    """A member with 40 pending points from one purchase; returns her id."""
    saved = await gql(
        UPSERT,
        {"input": {"externalId": "ada", "displayName": "Ada", "email": "ada@example.com"}},
        auth=keys["SERVICE"],
    )
    await gql(PURCHASE, {"input": purchase_input("ada", "SEED-1", 4_000)}, auth=keys["SERVICE"])
    member_id: str = saved["upsertMember"]["member"]["id"]
    return member_id


# Mutations: typed errors, nothing written

UPSERT_CASES = [
    pytest.param({"externalId": ""}, "externalId", id="externalId-empty"),
    pytest.param({"externalId": "   "}, "externalId", id="externalId-blank"),
    pytest.param({"externalId": "x" * 129}, "externalId", id="externalId-too-long"),
    pytest.param({"externalId": "cust\x001"}, "externalId", id="externalId-nul"),
    pytest.param({"displayName": ""}, "displayName", id="displayName-empty"),
    pytest.param({"displayName": " \t\n "}, "displayName", id="displayName-blank"),
    pytest.param({"displayName": "N" * 81}, "displayName", id="displayName-too-long"),
    pytest.param({"displayName": "Nia\x1b[31m"}, "displayName", id="displayName-escape"),
    pytest.param({"displayName": "Ni\ra"}, "displayName", id="displayName-cr"),
    pytest.param({"email": "not-an-email"}, "email", id="email-no-at"),
    pytest.param({"email": "nia@localhost"}, "email", id="email-no-domain"),
    pytest.param({"email": "ni a@example.com"}, "email", id="email-space"),
    pytest.param({"email": "n" * 250 + "@example.com"}, "email", id="email-too-long"),
    pytest.param({"community": "North Europe"}, "community", id="community-space"),
    pytest.param({"community": "-north"}, "community", id="community-leading-dash"),
    pytest.param({"community": "c" * 65}, "community", id="community-too-long"),
]


@pytest.mark.parametrize(("change", "field"), UPSERT_CASES)
async def test_upsert_member_rejects_bad_fields(
    gql: GraphQL, keys: dict[str, str], change: dict[str, str], field: str
) -> None:
    before = await ledger_counts()
    variables = {"input": {"externalId": "nia", "displayName": "Nia", **change}}
    result = (await gql(UPSERT, variables, auth=keys["SERVICE"]))["upsertMember"]
    assert result["__typename"] == "ValidationError", result
    assert result["field"] == field
    assert result["message"]
    assert await ledger_counts() == before


async def test_a_rejected_update_keeps_the_profile(
    gql: GraphQL, keys: dict[str, str], ada: str
) -> None:
    bad = {"externalId": "ada", "displayName": "A" * 81, "email": "new@example.com"}
    result = (await gql(UPSERT, {"input": bad}, auth=keys["ADMIN"]))["upsertMember"]
    assert result == {
        "__typename": "ValidationError",
        "message": result["message"],
        "field": "displayName",
    }
    profile = (await gql(MEMBER, {"id": ada}))["member"]
    assert profile == {"id": ada, "displayName": "Ada"}


PURCHASE_CASES = [
    pytest.param({"amountCents": 0}, "amountCents", id="amount-zero"),
    pytest.param({"amountCents": -500}, "amountCents", id="amount-negative"),
    pytest.param({"idempotencyKey": ""}, "idempotencyKey", id="key-empty"),
    pytest.param({"idempotencyKey": "two words"}, "idempotencyKey", id="key-space"),
    pytest.param({"idempotencyKey": "k" * 129}, "idempotencyKey", id="key-too-long"),
    pytest.param({"idempotencyKey": "cl\u00e9"}, "idempotencyKey", id="key-non-ascii"),
    pytest.param({"idempotencyKey": "key\x00"}, "idempotencyKey", id="key-nul"),
    pytest.param({"orderId": ""}, "orderId", id="order-empty"),
    pytest.param({"orderId": "   "}, "orderId", id="order-blank"),
    pytest.param({"orderId": "O" * 129}, "orderId", id="order-too-long"),
    pytest.param({"orderId": "A-1\x07"}, "orderId", id="order-bell"),
    pytest.param({"memberExternalId": " "}, "memberExternalId", id="member-blank"),
    pytest.param({"memberExternalId": "a" * 129}, "memberExternalId", id="member-too-long"),
]


@pytest.mark.parametrize(("change", "field"), PURCHASE_CASES)
async def test_record_purchase_rejects_bad_fields(
    gql: GraphQL, keys: dict[str, str], ada: str, change: dict[str, Any], field: str
) -> None:
    before = await ledger_counts()
    variables = {"input": {**purchase_input("ada", "O-1", 1_000), **change}}
    result = (await gql(PURCHASE, variables, auth=keys["SERVICE"]))["recordPurchase"]
    assert result["__typename"] == "ValidationError", result
    assert result["field"] == field
    assert await ledger_counts() == before


async def test_record_purchase_rejects_a_future_occurred_at(
    gql: GraphQL, keys: dict[str, str], ada: str, clock: Clock
) -> None:
    before = await ledger_counts()
    bought = purchase_input("ada", "O-1", 1_000)
    bought["occurredAt"] = (clock.now + timedelta(hours=1)).isoformat()
    result = (await gql(PURCHASE, {"input": bought}, auth=keys["SERVICE"]))["recordPurchase"]
    assert result["__typename"] == "ValidationError", result
    assert result["field"] == "occurredAt"
    assert await ledger_counts() == before
    # A shop clock a minute ahead of ours is tolerated.
    bought["occurredAt"] = (clock.now + timedelta(minutes=1)).isoformat()
    result = (await gql(PURCHASE, {"input": bought}, auth=keys["SERVICE"]))["recordPurchase"]
    assert result["__typename"] == "ActivityRecorded"


async def test_record_purchase_beyond_the_int_range_is_refused(
    gql: GraphQL, keys: dict[str, str], ada: str
) -> None:
    """amountCents is a GraphQL Int: a larger amount never reaches the use case."""
    before = await ledger_counts()
    variables = {"input": purchase_input("ada", "O-1", 2**31)}
    response = await gql.raw(PURCHASE, variables, auth=keys["SERVICE"])
    body = response.json()
    assert body.get("data") is None
    assert "amountCents" in body["errors"][0]["message"]
    assert await ledger_counts() == before


async def test_record_purchase_for_an_unknown_member_is_not_found(
    gql: GraphQL, keys: dict[str, str], ada: str
) -> None:
    before = await ledger_counts()
    variables = {"input": purchase_input("nobody", "O-1", 1_000)}
    result = (await gql(PURCHASE, variables, auth=keys["SERVICE"]))["recordPurchase"]
    assert result["__typename"] == "NotFoundError"
    assert "nobody" in result["message"]
    assert await ledger_counts() == before


ADJUST_CASES = [
    pytest.param({"amount": 0}, "amount", id="amount-zero"),
    pytest.param({"amount": 1_000_001}, "amount", id="amount-over-cap"),
    pytest.param({"amount": -1_000_001}, "amount", id="debit-over-cap"),
    pytest.param({"reason": ""}, "reason", id="reason-empty"),
    pytest.param({"reason": "   "}, "reason", id="reason-blank"),
    pytest.param({"reason": "r" * 501}, "reason", id="reason-too-long"),
    pytest.param({"reason": "fix\x00it"}, "reason", id="reason-nul"),
    pytest.param({"idempotencyKey": ""}, "idempotencyKey", id="key-empty"),
    pytest.param({"idempotencyKey": "tab\tkey"}, "idempotencyKey", id="key-tab"),
]


@pytest.mark.parametrize(("change", "field"), ADJUST_CASES)
async def test_adjust_points_rejects_bad_fields(
    gql: GraphQL, keys: dict[str, str], ada: str, change: dict[str, Any], field: str
) -> None:
    before = await ledger_counts()
    variables = {
        "input": {
            "idempotencyKey": "adj-1",
            "memberId": ada,
            "amount": 10,
            "reason": "Goodwill",
            **change,
        }
    }
    result = (await gql(ADJUST, variables, auth=keys["ADMIN"]))["adjustPoints"]
    assert result["__typename"] == "ValidationError", result
    assert result["field"] == field
    assert await ledger_counts() == before


@pytest.mark.parametrize(
    "member_id", ["999999", "abc", "", " ", "-1", "1.5", "1e3", "0x10", "9" * 40]
)
async def test_adjust_points_for_an_unknown_member_is_not_found(
    gql: GraphQL, keys: dict[str, str], ada: str, member_id: str
) -> None:
    before = await ledger_counts()
    variables = {
        "input": {"idempotencyKey": "a-1", "memberId": member_id, "amount": 5, "reason": "Gift"}
    }
    result = (await gql(ADJUST, variables, auth=keys["ADMIN"]))["adjustPoints"]
    assert result["__typename"] == "NotFoundError", result
    assert await ledger_counts() == before


async def test_a_debit_larger_than_the_balance_is_refused_with_the_numbers(
    gql: GraphQL, keys: dict[str, str], ada: str
) -> None:
    admin = keys["ADMIN"]
    credit = {"idempotencyKey": "c-1", "memberId": ada, "amount": 50, "reason": "Welcome"}
    done = (await gql(ADJUST, {"input": credit}, auth=admin))["adjustPoints"]
    assert done["account"]["pointsBalance"] == 50
    before = await ledger_counts()

    # 40 more points are pending: they do not count towards what may be taken.
    debit = {"idempotencyKey": "d-1", "memberId": ada, "amount": -80, "reason": "Clawback"}
    refused = (await gql(ADJUST, {"input": debit}, auth=admin))["adjustPoints"]

    assert refused["__typename"] == "InsufficientPointsError", refused
    assert (refused["balance"], refused["required"]) == (50, 80)
    assert await ledger_counts() == before
    account = (await gql(VIEWER, auth=await member_token("ada")))["viewer"]
    assert (account["pointsBalance"], account["pendingPoints"]) == (50, 40)
    assert account["member"]["lifetimePoints"] == 90
    # The refused key was not used up: a retry once the debit fits goes through.
    debit["amount"] = -50
    taken = (await gql(ADJUST, {"input": debit}, auth=admin))["adjustPoints"]
    assert taken["__typename"] == "PointsAdjusted"
    assert taken["account"]["pointsBalance"] == 0


# Query arguments: a GraphQL error with code and field


def _bad_user_input(response: httpx.Response, field: str) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}, error
    assert error["message"] != "Unexpected error."
    return body


@pytest.mark.parametrize(
    ("first", "offset", "field"),
    [
        (100_000, 0, "first"),
        (101, 0, "first"),
        (0, 0, "first"),
        (-5, 0, "first"),
        (10, -1, "offset"),
        (10, 100_001, "offset"),
    ],
)
async def test_leaderboard_page_out_of_range(
    gql: GraphQL, ada: str, first: int, offset: int, field: str
) -> None:
    response = await gql.raw(BOARD_PAGE, {"first": first, "offset": offset})
    body = _bad_user_input(response, field)
    assert body["data"] is None


@pytest.mark.parametrize("first", [5_000, 101, 0, -1])
async def test_ledger_page_out_of_range(gql: GraphQL, ada: str, first: int) -> None:
    token = await member_token("ada")
    response = await gql.raw(VIEWER, {"first": first}, auth=token)
    body = _bad_user_input(response, "first")
    assert body["data"] == {"viewer": None}


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "after",
    [
        pytest.param("garbage", id="not-base64"),
        pytest.param("%%%", id="symbols"),
        pytest.param("", id="empty"),
        pytest.param(_b64("member:1"), id="other-kind"),
        pytest.param(_b64("ledger:abc"), id="not-a-number"),
        pytest.param(_b64("ledger:-1"), id="negative"),
        pytest.param(base64.urlsafe_b64encode(b"\xff\xfe").decode(), id="not-utf8"),
        pytest.param(_b64("ledger:" + "9" * 30), id="huge-number"),
    ],
)
async def test_a_malformed_ledger_cursor_is_bad_input(gql: GraphQL, ada: str, after: str) -> None:
    token = await member_token("ada")
    response = await gql.raw(VIEWER, {"first": 2, "after": after}, auth=token)
    body = _bad_user_input(response, "after")
    assert body["data"] == {"viewer": None}


# Credentials: 401 before anything runs


def _token(secret: str, **claims: Any) -> str:
    now = datetime.now(UTC)
    payload = {"sub": "ada", "aud": "laurel:shopper", "exp": now + timedelta(hours=1), **claims}
    return jwt.encode(payload, secret, algorithm="HS256")


async def _expired(keys: dict[str, str]) -> str:
    return "Bearer " + await member_token("ada", minutes=-1)


def _static(value: str) -> Callable[[dict[str, str]], Awaitable[str]]:
    async def make(keys: dict[str, str]) -> str:
        return value

    return make


async def _wrong_key_secret(keys: dict[str, str]) -> str:
    key = keys["ADMIN"]
    return "Bearer " + key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")


BAD_CREDENTIALS: list[Any] = [
    pytest.param(_static("Bearer not.a.jwt"), id="malformed-jwt"),
    pytest.param(_static("Bearer abc"), id="garbage-token"),
    pytest.param(_static("Bearer " + _token("another-secret-" + "y" * 40)), id="other-secret"),
    pytest.param(_expired, id="expired"),
    pytest.param(_static("Bearer " + _token(JWT_SECRET, sub="ghost")), id="no-such-member"),
    pytest.param(_static("Bearer " + _token(JWT_SECRET, aud="someone-else")), id="wrong-audience"),
    pytest.param(
        _static(
            "Bearer "
            + jwt.encode(
                {"sub": "ada", "aud": "laurel:shopper", "exp": 4_102_444_800},
                key=None,
                algorithm="none",
            )
        ),
        id="unsigned-jwt",
    ),
    pytest.param(_static("Bearer lrl_abc_def"), id="unknown-api-key"),
    pytest.param(_wrong_key_secret, id="api-key-wrong-secret"),
    pytest.param(_static("Basic xyz"), id="basic-scheme"),
    pytest.param(_static("Bearer"), id="bearer-without-credential"),
]


@pytest.mark.parametrize("make_header", BAD_CREDENTIALS)
async def test_bad_credentials_get_401_and_nothing_runs(
    client: httpx.AsyncClient,
    keys: dict[str, str],
    ada: str,
    make_header: Callable[[dict[str, str]], Awaitable[str]],
) -> None:
    before = await ledger_counts()
    # A valid purchase and sign-up: only the credentials are wrong.
    document = """
    mutation($purchase: RecordPurchaseInput!, $member: UpsertMemberInput!) {
      recordPurchase(input: $purchase) { __typename }
      upsertMember(input: $member) { __typename }
    }"""
    variables = {
        "purchase": purchase_input("ada", "O-401", 10_000),
        "member": {"externalId": "eve", "displayName": "Eve"},
    }
    response = await client.post(
        "/graphql",
        json={"query": document, "variables": variables},
        headers={"Authorization": await make_header(keys)},
    )
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"errors"}
    [error] = body["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    assert isinstance(error["message"], str)
    assert error["message"]
    assert await ledger_counts() == before


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        pytest.param("A prize \u202eezirp", True, id="rlo"),
        pytest.param("Left \u202d override", True, id="lro"),
        pytest.param("An \u202bembedding\u202c", True, id="embedding"),
        pytest.param("Price \u2067\u05de\u05d7\u05d9\u05e8\u2069 in Hebrew", False, id="isolate"),
        pytest.param("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", False, id="persian-zwnj"),
        pytest.param("Line one\nline two", False, id="newline"),
    ],
)
def test_long_texts_refuse_direction_overrides_only(text: str, refused: bool) -> None:
    """A description may hold mixed-direction text (isolates, ZWNJ, line breaks), but
    not the embeddings and overrides that make it read backwards (issue 16's probe)."""
    if refused:
        with pytest.raises(Invalid, match="direction overrides"):
            clean_text("description", text, max_length=500, multiline=True)
    else:
        assert clean_text("description", text, max_length=500, multiline=True) == text
