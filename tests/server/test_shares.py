"""Shares over HTTP: a known platform, a page of the shop, once per page, a few a day."""

from __future__ import annotations

from typing import Any

import pytest

from server.actions import Services
from tests.conftest import Clock, GraphQL, member_token
from tests.helpers import BOARD, UPSERT, VIEWER, ledger_counts

SHARE = """
mutation Share($input: RecordShareInput!) {
  recordShare(input: $input) {
    __typename
    ... on ActivityRecorded {
      pointsAwarded duplicate
      activity {
        id kind status points occurredAt
        member { id displayName }
        share { platform url }
        review { productId }
      }
    }
    ... on Error { message }
    ... on ValidationError { field }
  }
}"""


def share_input(
    key: str, url: str, platform: str = "facebook", member: str | None = None
) -> dict[str, Any]:
    fields: dict[str, Any] = {"idempotencyKey": key, "platform": platform, "url": url}
    if member is not None:
        fields["memberExternalId"] = member
    return {"input": fields}


async def _member(gql: GraphQL, service: str, external_id: str, name: str = "Sam") -> str:
    """A new member; returns their id."""
    saved = await gql(
        UPSERT, {"input": {"externalId": external_id, "displayName": name}}, auth=service
    )
    member_id: str = saved["upsertMember"]["member"]["id"]
    return member_id


async def _balance(gql: GraphQL, token: str) -> int:
    balance: int = (await gql(VIEWER, auth=token))["viewer"]["pointsBalance"]
    return balance


async def test_a_shopper_share_earns_spendable_points_at_once(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    member_id = await _member(gql, keys["SERVICE"], "sam")
    token = await member_token("sam")
    done = await gql(
        SHARE,
        share_input("s-1", "https://www.Shop.example/products/boots/?utm_source=x", "Twitter"),
        auth=token,
    )
    recorded = done["recordShare"]
    assert recorded["__typename"] == "ActivityRecorded"
    assert (recorded["pointsAwarded"], recorded["duplicate"]) == (5, False)
    activity = recorded["activity"]
    assert (activity["kind"], activity["status"], activity["points"]) == (
        "SOCIAL_SHARE",
        "APPROVED",
        5,
    )
    assert activity["member"] == {"id": member_id, "displayName": "Sam"}
    # "twitter" is the platform now called x; the page is kept in its canonical form.
    assert activity["share"] == {"platform": "x", "url": "https://shop.example/products/boots"}
    assert activity["review"] is None

    account = (await gql(VIEWER, auth=token))["viewer"]
    assert (account["pointsBalance"], account["pendingPoints"]) == (5, 0)
    assert account["member"]["lifetimePoints"] == 5
    [entry] = account["ledger"]["edges"]
    assert (entry["node"]["amount"], entry["node"]["spendableAt"]) == (5, None)
    board = (await gql(BOARD))["leaderboard"]
    assert board["entries"][0]["score"] == 5
    assert board["entries"][0]["member"]["id"] == member_id


async def test_the_shop_service_records_a_share_for_a_member(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    service = keys["SERVICE"]
    member_id = await _member(gql, service, "svc-sharer")
    done = await gql(
        SHARE, share_input("k-1", "https://shop.example/a", "pinterest", "svc-sharer"), auth=service
    )
    assert done["recordShare"]["activity"]["member"]["id"] == member_id
    assert done["recordShare"]["activity"]["share"]["platform"] == "pinterest"
    assert await _balance(gql, await member_token("svc-sharer")) == 5

    nobody = await gql(SHARE, share_input("k-2", "https://shop.example/b"), auth=service)
    assert nobody["recordShare"]["__typename"] == "ValidationError"
    assert nobody["recordShare"]["field"] == "memberExternalId"


@pytest.mark.parametrize(
    ("platform", "url", "field"),
    [
        ("myspace", "https://shop.example/a", "platform"),
        ("", "https://shop.example/a", "platform"),
        ("facebook", "ftp://shop.example/a", "url"),
        ("facebook", "javascript:alert(1)", "url"),
        ("facebook", "shop.example/a", "url"),
        ("facebook", "https://", "url"),
        ("facebook", "https://shop.example/" + "a" * 500, "url"),
    ],
)
async def test_a_share_needs_a_known_platform_and_a_web_address(
    gql: GraphQL, keys: dict[str, str], platform: str, url: str, field: str
) -> None:
    await _member(gql, keys["SERVICE"], "sam")
    token = await member_token("sam")
    before = await ledger_counts()
    refused = (await gql(SHARE, share_input("bad", url, platform), auth=token))["recordShare"]
    assert (refused["__typename"], refused["field"]) == ("ValidationError", field)
    assert refused["message"]
    assert await ledger_counts() == before
    assert await _balance(gql, token) == 0


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("https://shop.example/boots", True),
        ("https://blog.shop.example/post/1", True),
        ("https://SHOP.EXAMPLE./boots", True),
        ("https://elsewhere.example/boots", False),
        ("https://notshop.example/boots", False),
        ("https://shop.example.evil.com/boots", False),
        ("https://evil.com/?next=shop.example", False),
    ],
)
async def test_with_shop_domains_set_only_the_shops_pages_earn(
    gql: GraphQL, keys: dict[str, str], svc: Services, url: str, accepted: bool
) -> None:
    svc.shop_domains = ("shop.example",)
    await _member(gql, keys["SERVICE"], "sam")
    token = await member_token("sam")
    result = (await gql(SHARE, share_input("d-1", url), auth=token))["recordShare"]
    if accepted:
        assert result["__typename"] == "ActivityRecorded"
        assert await _balance(gql, token) == 5
    else:
        assert (result["__typename"], result["field"]) == ("ValidationError", "url")
        assert await _balance(gql, token) == 0


@pytest.mark.parametrize(
    "again",
    [
        "https://shop.example/boots",
        "https://shop.example/boots/",
        "https://shop.example/boots?utm_source=newsletter&utm_medium=email",
        "http://www.shop.example/boots",
        "https://SHOP.example/boots#reviews",
    ],
)
async def test_the_same_page_earns_once(gql: GraphQL, keys: dict[str, str], again: str) -> None:
    await _member(gql, keys["SERVICE"], "sam")
    token = await member_token("sam")
    first = await gql(SHARE, share_input("p-1", "https://shop.example/boots"), auth=token)
    assert first["recordShare"]["__typename"] == "ActivityRecorded"
    before = await ledger_counts()
    # Even on another platform: one share per page.
    second = await gql(SHARE, share_input("p-2", again, "linkedin"), auth=token)
    assert second["recordShare"]["__typename"] == "ConflictError"
    assert second["recordShare"]["message"]
    assert await ledger_counts() == before
    assert await _balance(gql, token) == 5


async def test_pages_that_differ_earn_separately(gql: GraphQL, keys: dict[str, str]) -> None:
    await _member(gql, keys["SERVICE"], "sam")
    token = await member_token("sam")
    urls = [
        "https://shop.example/boots?color=red",
        "https://shop.example/boots?color=blue",
        "https://shop.example/boots/leather",
    ]
    for i, url in enumerate(urls):
        done = await gql(SHARE, share_input(f"v-{i}", url), auth=token)
        assert done["recordShare"]["__typename"] == "ActivityRecorded", url
    assert await _balance(gql, token) == 15


async def test_the_fourth_share_of_a_day_waits_for_tomorrow(
    gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    await _member(gql, keys["SERVICE"], "sam")
    token = await member_token("sam")
    for i in range(3):
        done = await gql(SHARE, share_input(f"d1-{i}", f"https://shop.example/{i}"), auth=token)
        assert done["recordShare"]["__typename"] == "ActivityRecorded"
    before = await ledger_counts()
    fourth = await gql(SHARE, share_input("d1-3", "https://shop.example/3"), auth=token)
    assert fourth["recordShare"]["__typename"] == "LimitReachedError"
    assert fourth["recordShare"]["message"]
    assert await ledger_counts() == before
    assert await _balance(gql, token) == 15

    clock.advance(days=1)
    for i in range(3, 6):
        done = await gql(SHARE, share_input(f"d2-{i}", f"https://shop.example/{i}"), auth=token)
        assert done["recordShare"]["__typename"] == "ActivityRecorded"
    assert await _balance(gql, token) == 30
    # The new day has its own cap of three.
    again = await gql(SHARE, share_input("d2-6", "https://shop.example/6"), auth=token)
    assert again["recordShare"]["__typename"] == "LimitReachedError"
    assert await _balance(gql, token) == 30


async def test_a_retried_share_is_credited_once(gql: GraphQL, keys: dict[str, str]) -> None:
    await _member(gql, keys["SERVICE"], "sam")
    token = await member_token("sam")
    variables = share_input("retry-1", "https://shop.example/boots", "reddit")
    first = (await gql(SHARE, variables, auth=token))["recordShare"]
    before = await ledger_counts()
    again = (await gql(SHARE, variables, auth=token))["recordShare"]
    assert again["__typename"] == "ActivityRecorded"
    assert (again["duplicate"], again["pointsAwarded"]) == (True, 5)
    assert again["activity"]["id"] == first["activity"]["id"]
    assert await ledger_counts() == before
    assert await _balance(gql, token) == 5

    reused = await gql(SHARE, share_input("retry-1", "https://shop.example/hat"), auth=token)
    assert reused["recordShare"]["__typename"] == "ConflictError"
    assert await _balance(gql, token) == 5


@pytest.mark.parametrize("role", ["ANONYMOUS", "MODERATOR"])
async def test_who_may_not_record_a_share(gql: GraphQL, keys: dict[str, str], role: str) -> None:
    await _member(gql, keys["SERVICE"], "sam")
    auth = None if role == "ANONYMOUS" else keys[role]
    before = await ledger_counts()
    variables = share_input("x-1", "https://shop.example/a", member="sam")
    refused = await gql(SHARE, variables, auth=auth)
    assert refused["recordShare"]["__typename"] == "PermissionDeniedError"
    assert await ledger_counts() == before


async def test_a_shopper_cannot_share_for_another_member(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    await _member(gql, keys["SERVICE"], "sam")
    await _member(gql, keys["SERVICE"], "bob", "Bob")
    token = await member_token("sam")
    variables = share_input("x-1", "https://shop.example/a", member="bob")
    refused = await gql(SHARE, variables, auth=token)
    assert refused["recordShare"]["__typename"] == "PermissionDeniedError"
    assert await _balance(gql, await member_token("bob")) == 0
    assert await _balance(gql, token) == 0


async def test_a_too_long_member_external_id_is_a_validation_error(svc: Services) -> None:
    """Longer than the column (128): the field's error, not a failed lookup (fuzzing found
    a 5,001-character one answered "Unexpected error.")."""
    from server import actions
    from server.auth import Principal, Role
    from server.rewards.errors import Invalid

    shop = Principal(role=Role.SERVICE, name="shop backend")
    with pytest.raises(Invalid) as refused:
        await actions.record_share(
            svc,
            shop,
            idempotency_key="long-id",
            platform="facebook",
            url="https://shop.example/p/1",
            member_external_id="x" * 5001,
        )
    assert refused.value.field == "memberExternalId"
