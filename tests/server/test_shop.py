"""The shop's look and FAQ: public to read, the owner's to change, checked in plain
words; a colour too pale for white text is darkened for text use."""

from __future__ import annotations

import base64
import io

import httpx
import pytest
from PIL import Image

from server.rewards.shop import contrast_with_white, readable_on_white
from tests.conftest import GraphQL

SHOP = "{ shop { name primaryColor accentColor primaryTextColor accentTextColor faq logoUrl } }"
UPDATE = """
mutation($input: UpdateShopInput!) {
  updateShop(input: $input) {
    __typename
    ... on ShopSaved { shop { name primaryColor primaryTextColor accentColor faq } }
    ... on ValidationError { field message }
    ... on Error { message }
  }
}"""
LOGO = """
mutation($input: SetShopLogoInput!) {
  setShopLogo(input: $input) {
    __typename ... on ShopSaved { shop { logoUrl } } ... on Error { message }
  }
}"""
FAQ = "How do I earn?\nBuy, review, share.\n\nWhen do points come?\nAfter 14 days."


async def test_defaults_until_the_owner_sets_them(gql: GraphQL) -> None:
    shop = (await gql(SHOP))["shop"]
    assert shop == {
        "name": "Laurel community",
        "primaryColor": "#256045",
        "accentColor": "#b7791f",
        "primaryTextColor": "#256045",
        "accentTextColor": shop["accentTextColor"],
        "faq": "",
        "logoUrl": None,
    }
    assert contrast_with_white(shop["accentTextColor"]) >= 4.5


async def test_the_owner_changes_name_colours_and_faq(gql: GraphQL, keys: dict[str, str]) -> None:
    changes = {"name": "  Bell & Birch  ", "primaryColor": "#FFD700", "faq": f"{FAQ}\r\n"}
    done = (await gql(UPDATE, {"input": changes}, auth=keys["ADMIN"]))["updateShop"]
    assert done["__typename"] == "ShopSaved", done
    shop = (await gql(SHOP))["shop"]
    assert shop["name"] == "Bell & Birch"
    assert shop["faq"] == FAQ
    assert shop["primaryColor"] == "#ffd700"  # what the owner chose, as given
    assert shop["primaryTextColor"] != "#ffd700"  # gold fails 4.5:1 with white: darkened
    assert contrast_with_white(shop["primaryTextColor"]) >= 4.5
    partial = await gql(UPDATE, {"input": {"accentColor": "#0a0b0c"}}, auth=keys["ADMIN"])
    assert partial["updateShop"]["shop"]["name"] == "Bell & Birch"  # untouched


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"primaryColor": "green"}, "primaryColor", "#rrggbb"),
        ({"accentColor": "#12345"}, "accentColor", "#rrggbb"),
        ({"name": "   "}, "name", "name"),
        ({"name": "x" * 101}, "name", "100"),
        ({"faq": "x" * 5_001}, "faq", "5000"),
        ({"faq": "bell\x07"}, "faq", "control"),
    ],
)
async def test_bad_values_are_plain_word_errors_and_change_nothing(
    gql: GraphQL, keys: dict[str, str], changes: dict[str, str], field: str, words: str
) -> None:
    done = await gql(UPDATE, {"input": {"name": "Kept", **changes}}, auth=keys["ADMIN"])
    refused = done["updateShop"]
    assert refused["__typename"] == "ValidationError", refused
    assert refused["field"] == field
    assert words in refused["message"]
    assert (await gql(SHOP))["shop"]["name"] == "Laurel community"


async def test_errors_in_the_callers_language(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    answer = await client.post(
        "/graphql",
        json={"query": UPDATE, "variables": {"input": {"primaryColor": "red"}}},
        headers={"Authorization": f"Bearer {keys['ADMIN']}", "Accept-Language": "ru"},
    )
    assert "#rrggbb" in answer.text
    assert "цвет" in answer.text


@pytest.mark.parametrize("role", ["SERVICE", "MODERATOR"])
async def test_only_the_owner_changes_the_shop(
    gql: GraphQL, keys: dict[str, str], role: str
) -> None:
    done = await gql(UPDATE, {"input": {"name": "Mine"}}, auth=keys[role])
    assert done["updateShop"]["__typename"] == "PermissionDeniedError"
    logo = await gql(LOGO, {"input": {"image": None}}, auth=keys[role])
    assert logo["setShopLogo"]["__typename"] == "PermissionDeniedError"


async def test_the_logo_is_served_with_an_etag_and_removed(
    client: httpx.AsyncClient, gql: GraphQL, keys: dict[str, str]
) -> None:
    out = io.BytesIO()
    Image.new("RGB", (900, 300), (10, 20, 30)).save(out, "JPEG")
    image = base64.b64encode(out.getvalue()).decode()
    done = await gql(LOGO, {"input": {"image": image}}, auth=keys["ADMIN"])
    url = done["setShopLogo"]["shop"]["logoUrl"]
    assert url.startswith("/shop/logo.png?v=")
    served = await client.get(url)
    assert served.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(served.content)).size == (512, 171)
    again = await client.get(url, headers={"If-None-Match": served.headers["etag"]})
    assert again.status_code == 304
    await gql(LOGO, {"input": {"image": None}}, auth=keys["ADMIN"])
    assert (await gql(SHOP))["shop"]["logoUrl"] is None
    assert (await client.get("/shop/logo.png")).status_code == 404


@pytest.mark.parametrize("colour", ["#ffffff", "#ffd700", "#7fffd4", "#00ff00", "#256045"])
def test_readable_colours_reach_aa(colour: str) -> None:
    found = readable_on_white(colour)
    assert contrast_with_white(found) >= 4.5
    if contrast_with_white(colour) >= 4.5:
        assert found == colour
