"""setPrizeImage and GET /prizes/{id}/image.png: an admin's upload is drawn again as a PNG
of at most 512 px a side and served to anyone with cache headers; what is not a picture,
or is too big, is a ValidationError on ``image``; null removes it."""

from __future__ import annotations

import base64
import io
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, PngImagePlugin

from server.actions import Services
from server.app import create_app
from server.settings import Settings
from tests.conftest import JWT_SECRET, GraphQL, member_token

SET = """
mutation($input: SetPrizeImageInput!) {
  setPrizeImage(input: $input) {
    __typename
    ... on PrizeSaved { prize { id imageUrl } }
    ... on ValidationError { field }
    ... on Error { message }
  }
}"""

CREATE = """
mutation($input: CreatePrizeInput!) {
  createPrize(input: $input) { ... on PrizeSaved { prize { id imageUrl } } }
}"""


def _file(width: int, height: int, kind: str = "PNG", **save: Any) -> bytes:
    out = io.BytesIO()
    mode = "RGBA" if kind == "WEBP" else "RGB"
    Image.new(mode, (width, height), (200, 40, 90, 255)[: len(mode)]).save(out, kind, **save)
    return out.getvalue()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@pytest.fixture
async def http(svc: Services, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a body limit that lets a payload over the 1 MB picture limit arrive
    (the default, 1 MiB, would answer it 413 before GraphQL sees it)."""
    settings = Settings(
        data_dir=tmp_path,
        jwt_secret=JWT_SECRET,
        rate_limit_enabled=False,
        max_body_bytes=4 * 1_048_576,
    )
    app = create_app(settings, services=svc, jwt_secret=JWT_SECRET)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://laurel.test") as client:
        yield client


async def _prize(gql: GraphQL, keys: dict[str, str]) -> str:
    made = await gql(CREATE, {"input": {"name": "Poster", "cost": 10}}, auth=keys["ADMIN"])
    assert made["createPrize"]["prize"]["imageUrl"] is None  # no picture yet
    prize_id: str = made["createPrize"]["prize"]["id"]
    return prize_id


async def _set(gql: GraphQL, auth: str | None, prize_id: str, image: str | None) -> Any:
    done = await gql(SET, {"input": {"prizeId": prize_id, "image": image}}, auth=auth)
    return done["setPrizeImage"]


async def test_an_upload_is_served_resized_with_cache_headers_then_removed(
    http: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    gql = GraphQL(http)
    prize_id = await _prize(gql, keys)
    saved = await _set(gql, keys["ADMIN"], prize_id, _b64(_file(1024, 512)))
    assert saved["__typename"] == "PrizeSaved", saved
    url = saved["prize"]["imageUrl"]
    assert re.fullmatch(rf"/prizes/{prize_id}/image\.png\?v=[0-9a-f]{{16}}", url), url
    # Public: the catalog shows it to anyone.
    listed = await gql("{ prizes { edges { node { id imageUrl } } } }")
    assert listed["prizes"]["edges"] == [{"node": {"id": prize_id, "imageUrl": url}}]

    got = await http.get(url)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "image/png"
    assert got.headers["cache-control"] == "public, max-age=86400"
    picture = Image.open(io.BytesIO(got.content))
    # 1024x512 -> 512 on the long side, the same ratio: 512x256.
    assert (picture.format, picture.size) == ("PNG", (512, 256))
    etag = got.headers["etag"]
    assert etag == f'"{url.rsplit("=", 1)[1]}"'  # the URL's version is the ETag
    again = await http.get(url, headers={"If-None-Match": etag})
    assert (again.status_code, again.content) == (304, b"")

    removed = await _set(gql, keys["ADMIN"], prize_id, None)
    assert removed == {"__typename": "PrizeSaved", "prize": {"id": prize_id, "imageUrl": None}}
    gone = await http.get(f"/prizes/{prize_id}/image.png")
    assert gone.status_code == 404
    assert gone.headers["content-type"] == "application/json"
    assert "no picture" in gone.json()["error"]


@pytest.mark.parametrize(
    ("kind", "given", "stored"),
    [
        ("JPEG", (300, 200), (300, 200)),  # small already: never enlarged
        ("WEBP", (600, 900), (341, 512)),  # 600 * 512 / 900 = 341.3 -> 341
        ("PNG", (4096, 1024), (512, 128)),  # the largest side allowed
    ],
)
async def test_png_jpeg_and_webp_are_stored_as_png_of_at_most_512_px(
    http: httpx.AsyncClient,
    keys: dict[str, str],
    kind: str,
    given: tuple[int, int],
    stored: tuple[int, int],
) -> None:
    gql = GraphQL(http)
    prize_id = await _prize(gql, keys)
    saved = await _set(gql, keys["ADMIN"], prize_id, _b64(_file(*given, kind=kind)))
    got = await http.get(saved["prize"]["imageUrl"])
    picture = Image.open(io.BytesIO(got.content))
    assert (picture.format, picture.size) == ("PNG", stored)


async def test_only_the_pixels_are_kept(http: httpx.AsyncClient, keys: dict[str, str]) -> None:
    gql = GraphQL(http)
    prize_id = await _prize(gql, keys)
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "<script>alert(1)</script>")
    upload = _file(64, 64, pnginfo=text) + b"<html>trailing bytes</html>"
    saved = await _set(gql, keys["ADMIN"], prize_id, _b64(upload))
    got = await http.get(saved["prize"]["imageUrl"])
    assert Image.open(io.BytesIO(got.content)).size == (64, 64)
    assert b"script" not in got.content
    assert b"html" not in got.content


async def test_what_is_not_a_picture_or_too_big_is_a_validation_error(
    http: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    gql = GraphQL(http)
    prize_id = await _prize(gql, keys)
    over_a_megabyte = os.urandom(1_048_577)  # checked by size before anything else
    for image, says in (
        (_b64(b"GIF? no, just some text"), "not a PNG, JPEG or WebP"),
        (_b64(_file(10, 10, kind="GIF")), "not a PNG, JPEG or WebP"),
        (_b64(_file(40, 40)[:60]), "not a PNG, JPEG or WebP"),  # cut off
        ("this is not base64!", "must be base64"),
        ("", "must not be empty"),
        (_b64(over_a_megabyte), "at most 1 MB"),
        (_b64(_file(4097, 8)), "at most 4096 pixels a side"),
    ):
        got = await _set(gql, keys["ADMIN"], prize_id, image)
        assert (got["__typename"], got["field"]) == ("ValidationError", "image"), got
        assert says in got["message"], got["message"]
    assert (await http.get(f"/prizes/{prize_id}/image.png")).status_code == 404


async def test_only_admins_set_pictures_and_anyone_may_fetch_them(
    svc: Services, http: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    gql = GraphQL(http)
    prize_id = await _prize(gql, keys)
    await gql(
        'mutation { upsertMember(input: {externalId: "cy", displayName: "Cy"}) { __typename } }',
        auth=keys["SERVICE"],
    )
    image = _b64(_file(20, 20))
    for auth in (None, await member_token("cy"), keys["SERVICE"], keys["MODERATOR"]):
        got = await _set(gql, auth, prize_id, image)
        assert got["__typename"] == "PermissionDeniedError", got
    for path in (
        "/prizes/999999/image.png",
        "/prizes/abc/image.png",
        f"/prizes/{prize_id}/image.png",
    ):
        assert (await http.get(path)).status_code == 404
    unknown = await _set(gql, keys["ADMIN"], "999999", image)
    assert unknown["__typename"] == "NotFoundError"
    saved = await _set(gql, keys["ADMIN"], prize_id, image)
    fetched = await http.get(saved["prize"]["imageUrl"])  # no credentials
    assert fetched.status_code == 200
    # The pages may show same-origin images (the prize pictures) and data: URLs (previews).
    page = await http.get("/")
    assert "img-src 'self' data:" in page.headers["content-security-policy"]
