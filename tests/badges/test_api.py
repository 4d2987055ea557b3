"""Badges over HTTP: GraphQL fields and mutations by role, the image endpoint, and
Open Badges export with a baked PNG that openbadges-bakery can read back."""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
import pytest
from openbadges_bakery import unbake
from PIL import Image

from badges.models import BadgeChange
from server.actions import Services
from tests.conftest import GraphQL, member_token
from tests.helpers import PURCHASE, UPSERT, purchase_input

BADGES = """
query { badges { slug name description imageUrl levels bonusPoints metric revocable } }"""

PURCHASE_BADGES = """
mutation Purchase($input: RecordPurchaseInput!) {
  recordPurchase(input: $input) {
    __typename
    ... on ActivityRecorded {
      duplicate
      badgesAwarded { level levelName awardedAt imageUrl badge { slug name } }
    }
  }
}"""

MINE = """
query {
  viewer {
    member { badges { level levelName badge { slug } } }
    badgeProgress { badge { slug } level value nextThreshold nextLevelName remaining percent }
  }
}"""

DEFINE = """
mutation Define($input: DefineBadgeInput!) {
  defineBadge(input: $input) {
    __typename
    ... on BadgeSaved { badge { slug levels bonusPoints imageUrl } }
    ... on Error { message }
    ... on ValidationError { field }
  }
}"""

UPDATE = """
mutation Update($input: UpdateBadgeInput!) {
  updateBadge(input: $input) {
    __typename
    ... on BadgeSaved { badge { slug name levels enabled imageUrl } }
    ... on Error { message }
    ... on ValidationError { field }
  }
}"""

REVOKE = """
mutation Revoke($input: RevokeBadgeInput!) {
  revokeBadge(input: $input) {
    __typename
    ... on BadgeRevoked { levelsRevoked badge { slug } member { id badges { badge { slug } } } }
    ... on Error { message }
    ... on ValidationError { field }
  }
}"""

EXPORT = """
mutation Export($slug: String!) {
  exportBadge(badgeSlug: $slug) {
    __typename
    ... on BadgeExported { assertionUrl bakedImageUrl badge { level badge { slug } } }
    ... on Error { message }
  }
}"""

NEW_BADGE: dict[str, Any] = {
    "slug": "night-owl",
    "name": "Night owl",
    "description": "Orders kept: 2 and 4.",
    "metric": "PURCHASES",
    "levels": [2, 4],
    "bonusPoints": [10, 20],
    "art": {
        "shape": "octagon",
        "glyph": "star",
        "primaryColor": "#1b1f3b",
        "secondaryColor": "#f1e9da",
    },
}


async def _shopper(gql: GraphQL, keys: dict[str, str], name: str, *orders: int) -> str:
    await gql(
        UPSERT,
        {"input": {"externalId": name, "displayName": name.title(), "email": f"{name}@x.org"}},
        auth=keys["SERVICE"],
    )
    for n, cents in enumerate(orders):
        await gql(
            PURCHASE, {"input": purchase_input(name, f"{name}-{n}", cents)}, auth=keys["SERVICE"]
        )
    return await member_token(name)


async def test_catalog_and_awards_over_graphql(
    catalog: Services, gql: GraphQL, keys: dict[str, str]
) -> None:
    listed = (await gql(BADGES))["badges"]
    assert len(listed) == 13
    first = next(b for b in listed if b["slug"] == "loyal-customer")
    assert first["levels"] == [3, 10, 50]
    assert first["imageUrl"] == "/badges/loyal-customer/1.png?v=1"
    await gql(UPSERT, {"input": {"externalId": "ana", "displayName": "Ana"}}, auth=keys["SERVICE"])
    args = {"input": purchase_input("ana", "A-1", 15_000)}
    done = (await gql(PURCHASE_BADGES, args, auth=keys["SERVICE"]))["recordPurchase"]
    assert {(b["badge"]["slug"], b["level"], b["levelName"]) for b in done["badgesAwarded"]} == {
        ("first-purchase", 1, ""),
        ("big-spender", 1, "Bronze"),
    }
    again = (await gql(PURCHASE_BADGES, args, auth=keys["SERVICE"]))["recordPurchase"]
    assert again["duplicate"] is True
    assert again["badgesAwarded"] == done["badgesAwarded"]
    mine = (await gql(MINE, auth=await member_token("ana")))["viewer"]
    assert {(b["badge"]["slug"], b["level"]) for b in mine["member"]["badges"]} == {
        ("first-purchase", 1),
        ("big-spender", 1),
    }
    progress = {p["badge"]["slug"]: p for p in mine["badgeProgress"]}
    assert progress["loyal-customer"] == {
        "badge": {"slug": "loyal-customer"},
        "level": 0,
        "value": 1,
        "nextThreshold": 3,
        "nextLevelName": "Bronze",
        "remaining": 2,
        "percent": 33,
    }
    assert progress["big-spender"]["remaining"] == 1_000 - 150
    assert progress["first-purchase"]["nextThreshold"] is None
    assert progress["first-purchase"]["percent"] == 100


async def test_admin_defines_and_changes_badges_validated(
    catalog: Services, gql: GraphQL, keys: dict[str, str]
) -> None:
    for role in ("SERVICE", "MODERATOR"):
        denied = (await gql(DEFINE, {"input": NEW_BADGE}, auth=keys[role]))["defineBadge"]
        assert denied["__typename"] == "PermissionDeniedError"
    bad_cases = {
        "levels": {"levels": [4, 2]},
        "bonusPoints": {"bonusPoints": [10]},
        "slug": {"slug": "Night Owl!"},
        "art.shape": {"art": {**NEW_BADGE["art"], "shape": "blob"}},
        "art.primaryColor": {"art": {**NEW_BADGE["art"], "primaryColor": "navy"}},
    }
    for field, change in bad_cases.items():
        bad = await gql(DEFINE, {"input": {**NEW_BADGE, **change}}, auth=keys["ADMIN"])
        assert bad["defineBadge"]["__typename"] == "ValidationError", field
        assert bad["defineBadge"]["field"] == field
    assert await BadgeChange.all().count() == 0
    saved = (await gql(DEFINE, {"input": NEW_BADGE}, auth=keys["ADMIN"]))["defineBadge"]
    assert saved["badge"]["levels"] == [2, 4]
    twice = (await gql(DEFINE, {"input": NEW_BADGE}, auth=keys["ADMIN"]))["defineBadge"]
    assert twice["__typename"] == "ConflictError"
    await _shopper(gql, keys, "bo", 500, 500)
    mine = (await gql(MINE, auth=await member_token("bo")))["viewer"]["member"]["badges"]
    # Two levels end on gold, as three do: Silver, then Gold.
    assert {"badge": {"slug": "night-owl"}, "level": 1, "levelName": "Silver"} in mine
    # A new design is a new image URL; a held level survives a raised threshold.
    changed = await gql(
        UPDATE,
        {
            "input": {
                "slug": "night-owl",
                "levels": [3, 5],
                "art": {**NEW_BADGE["art"], "glyph": "gem"},
            }
        },
        auth=keys["ADMIN"],
    )
    assert changed["updateBadge"]["badge"]["imageUrl"] == "/badges/night-owl/1.png?v=2"
    mine = (await gql(MINE, auth=await member_token("bo")))["viewer"]["member"]["badges"]
    assert any(b["badge"]["slug"] == "night-owl" for b in mine)
    gone = await gql(UPDATE, {"input": {"slug": "nope", "name": "x"}}, auth=keys["ADMIN"])
    assert gone["updateBadge"]["__typename"] == "NotFoundError"
    off = await gql(UPDATE, {"input": {"slug": "night-owl", "enabled": False}}, auth=keys["ADMIN"])
    assert off["updateBadge"]["badge"]["enabled"] is False
    assert "night-owl" not in {b["slug"] for b in (await gql(BADGES))["badges"]}
    log = await BadgeChange.filter(slug="night-owl").order_by("id")
    assert [c.actor for c in log] == ["admin:test ADMIN"] * 3


async def test_moderator_revokes_by_graphql(
    catalog: Services, gql: GraphQL, keys: dict[str, str]
) -> None:
    await _shopper(gql, keys, "cy", 500)
    member_id = (await gql("query { viewer { member { id } } }", auth=await member_token("cy")))[
        "viewer"
    ]["member"]["id"]
    args = {"input": {"memberId": member_id, "badgeSlug": "first-purchase", "reason": "test order"}}
    denied = (await gql(REVOKE, args, auth=keys["SERVICE"]))["revokeBadge"]
    assert denied["__typename"] == "PermissionDeniedError"
    done = (await gql(REVOKE, args, auth=keys["MODERATOR"]))["revokeBadge"]
    assert done["levelsRevoked"] == [1]
    assert done["member"]["badges"] == []
    again = (await gql(REVOKE, args, auth=keys["MODERATOR"]))["revokeBadge"]
    assert again["levelsRevoked"] == []
    blank = {"input": {**args["input"], "reason": "  "}}
    assert (await gql(REVOKE, blank, auth=keys["MODERATOR"]))["revokeBadge"]["field"] == "reason"


async def test_badge_images_are_png_with_etag_and_sizes(
    catalog: Services, client: httpx.AsyncClient
) -> None:
    first = await client.get("/badges/photo-reviewer/2.png")
    assert first.status_code == 200
    assert first.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(first.content))
    assert (image.format, image.size, image.mode) == ("PNG", (256, 256), "RGBA")
    assert image.getpixel((0, 0))[3] == 0  # transparent corners
    assert image.getpixel((128, 128))[3] == 255
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert "max-age" in first.headers["cache-control"]
    same = await client.get("/badges/photo-reviewer/2.png", headers={"If-None-Match": etag})
    assert same.status_code == 304
    assert same.content == b""
    other_level = await client.get("/badges/photo-reviewer/3.png")
    assert other_level.headers["etag"] != etag
    for size in (64, 512):
        sized = await client.get(f"/badges/photo-reviewer/2.png?size={size}")
        assert Image.open(io.BytesIO(sized.content)).size == (size, size)
    for bad in ("size=32", "size=513", "size=big"):
        assert (await client.get(f"/badges/photo-reviewer/2.png?{bad}")).status_code == 400
    assert (await client.get("/badges/photo-reviewer/4.png")).status_code == 404
    assert (await client.get("/badges/no-such-badge/1.png")).status_code == 404


async def test_every_default_badge_level_looks_different(
    catalog: Services, client: httpx.AsyncClient
) -> None:
    seen: set[bytes] = set()
    for badge in (await client.post("/graphql", json={"query": BADGES})).json()["data"]["badges"]:
        for level in range(1, len(badge["levels"]) + 1):
            png = (await client.get(f"/badges/{badge['slug']}/{level}.png?size=64")).content
            seen.add(Image.open(io.BytesIO(png)).convert("RGBA").tobytes())
    assert len(seen) == 3 * 10 + 3


async def test_open_badges_export_bake_and_revocation(
    catalog: Services, gql: GraphQL, keys: dict[str, str], client: httpx.AsyncClient
) -> None:
    token = await _shopper(gql, keys, "dee", 500)
    nothing = (await gql(EXPORT, {"slug": "sharer"}, auth=token))["exportBadge"]
    assert nothing["__typename"] == "NotFoundError"
    staff = (await gql(EXPORT, {"slug": "first-purchase"}, auth=keys["ADMIN"]))["exportBadge"]
    assert staff["__typename"] == "PermissionDeniedError"
    done = (await gql(EXPORT, {"slug": "first-purchase"}, auth=token))["exportBadge"]
    again = (await gql(EXPORT, {"slug": "first-purchase"}, auth=token))["exportBadge"]
    assert again["assertionUrl"] == done["assertionUrl"]
    url = done["assertionUrl"]
    assert url.startswith("http://laurel.test/openbadges/assertions/")
    hosted = (await client.get(url)).json()
    assert hosted["type"] == "Assertion"
    assert hosted["id"] == url
    assert hosted["verification"] == {"type": "HostedBadge"}
    assert hosted["recipient"]["hashed"] is True
    assert hosted["recipient"]["type"] == "email"
    badge_class = (await client.get(hosted["badge"])).json()
    assert badge_class["type"] == "BadgeClass"
    assert badge_class["name"] == "Welcome aboard"
    issuer = (await client.get(badge_class["issuer"])).json()
    assert issuer["type"] == "Profile"
    assert issuer["name"] == "Laurel community"
    baked = await client.get(done["bakedImageUrl"])
    assert baked.headers["content-type"] == "image/png"
    assert json.loads(unbake(io.BytesIO(baked.content))) == hosted
    # Revoked: the hosted assertion answers 410 with revoked: true, and nothing is baked.
    member_id = (await gql("query { viewer { member { id } } }", auth=token))["viewer"]["member"][
        "id"
    ]
    revoke = {"memberId": member_id, "badgeSlug": "first-purchase", "reason": "order cancelled"}
    await gql(REVOKE, {"input": revoke}, auth=keys["MODERATOR"])
    gone = await client.get(url)
    assert gone.status_code == 410
    assert gone.json()["revoked"] is True
    assert gone.json()["revocationReason"] == "order cancelled"
    assert (await client.get(done["bakedImageUrl"])).status_code == 410
    assert (await client.get("/openbadges/assertions/not-a-token")).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/openbadges/badges/first-purchase/2",
        "/openbadges/badges/x/1",
        # A NUL or a control character in the slug names no badge (PostgreSQL refuses a NUL
        # in a text parameter: the lookup must not reach it).
        "/openbadges/badges/%00/%20",
        "/openbadges/badges/first%00purchase/1",
        "/openbadges/badges/first%01purchase/1",
        "/badges/%00/1.png",
        "/badges/first%00purchase/1.png",
    ],
)
async def test_unknown_badge_classes_are_404(
    catalog: Services, client: httpx.AsyncClient, path: str
) -> None:
    answer = await client.get(path)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/json"
    assert "error" in answer.json()
