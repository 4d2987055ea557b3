"""badgeArtPreview: an admin sees the image a design would draw, byte for byte what the
image route serves once a badge has that design; a bad design is a BAD_USER_INPUT error
naming its field, and only admins may ask."""

from __future__ import annotations

import base64
import io
from typing import Any

import httpx
from PIL import Image

from server.actions import Services
from tests.conftest import GraphQL, member_token

PREVIEW = """
query($art: BadgeArtInput!, $level: Int! = 1, $levels: Int! = 3) {
  badgeArtPreview(art: $art, level: $level, levels: $levels)
}"""

DEFINE = """
mutation($input: DefineBadgeInput!) {
  defineBadge(input: $input) { __typename ... on Error { message } }
}"""

ART = {"shape": "shield", "glyph": "camera", "primaryColor": "#1F6FEB", "secondaryColor": "#f2cc60"}
PREFIX = "data:image/png;base64,"


async def _define(gql: GraphQL, admin: str, slug: str, levels: list[int]) -> None:
    done = await gql(
        DEFINE,
        {
            "input": {
                "slug": slug,
                "name": slug.title(),
                "metric": "PHOTO_REVIEWS",
                "levels": levels,
                "bonusPoints": [0] * len(levels),
                "art": ART,
            }
        },
        auth=admin,
    )
    assert done["defineBadge"]["__typename"] == "BadgeSaved", done


async def _preview(gql: GraphQL, admin: str, **variables: Any) -> bytes:
    url: str = (await gql(PREVIEW, {"art": ART, **variables}, auth=admin))["badgeArtPreview"]
    assert url.startswith(PREFIX), url[:40]
    return base64.b64decode(url[len(PREFIX) :], validate=True)


async def test_the_preview_is_the_image_the_badge_route_serves(
    svc: Services, gql: GraphQL, client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    admin = keys["ADMIN"]
    png = await _preview(gql, admin)
    image = Image.open(io.BytesIO(png))
    # The route's default size: 256 px square, with transparency around the shape.
    assert (image.format, image.size, image.mode) == ("PNG", (256, 256), "RGBA")
    await _define(gql, admin, "snapshot", [1, 5, 10])  # three levels, like the default
    served = await client.get("/badges/snapshot/1.png")
    assert served.status_code == 200
    assert served.content == png
    # A two-level badge's top level: its own stars and metal, previewed as such.
    await _define(gql, admin, "duo", [2, 4])
    top = await _preview(gql, admin, level=2, levels=2)
    assert top == (await client.get("/badges/duo/2.png")).content
    assert top != png


async def test_a_bad_design_is_an_error_naming_its_field(
    svc: Services, gql: GraphQL, keys: dict[str, str]
) -> None:
    for changed, field in (
        ({"art": {**ART, "shape": "blob"}}, "art.shape"),
        ({"art": {**ART, "glyph": "skull"}}, "art.glyph"),
        ({"art": {**ART, "primaryColor": "red"}}, "art.primaryColor"),
        ({"art": {**ART, "secondaryColor": "#12345"}}, "art.secondaryColor"),
        ({"level": 4}, "level"),  # of 3 levels
        ({"level": 0}, "level"),
        ({"levels": 6}, "levels"),
    ):
        body = (await gql.raw(PREVIEW, {"art": ART, **changed}, auth=keys["ADMIN"])).json()
        assert body["data"] is None, body
        (error,) = body["errors"]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}, error


async def test_only_admins_may_preview(svc: Services, gql: GraphQL, keys: dict[str, str]) -> None:
    await gql(
        'mutation { upsertMember(input: {externalId: "di", displayName: "Di"}) { __typename } }',
        auth=keys["SERVICE"],
    )
    for auth in (None, await member_token("di"), keys["SERVICE"], keys["MODERATOR"]):
        body = (await gql.raw(PREVIEW, {"art": ART}, auth=auth)).json()
        assert body["data"] is None, body
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
