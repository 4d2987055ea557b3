"""POST /photos and the photo routes, and photo reviews: a shopper's upload is re-encoded
as a JPEG without metadata, served with an ETag, and a photo review needs one of the
author's own photos."""

from __future__ import annotations

import asyncio
import io
import struct
import zlib
from typing import Any

import httpx
import pytest
from PIL import Image

from server.settings import Settings
from tests.conftest import GraphQL
from tests.server.test_reviews import REVIEW, _buyer, review_input

PUT_GPS_HERE = 0x8825  # the EXIF GPS IFD pointer


def _jpeg(width: int = 3000, height: int = 2000, **save: Any) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(out, "JPEG", **save)
    return out.getvalue()


def _with_exif() -> bytes:
    """A JPEG with a camera make, a GPS block and orientation 6 (turn 90° to stand up)."""
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90 CW
    exif[PUT_GPS_HERE] = {1: "N", 2: (51.0, 30.0, 0.0)}
    return _jpeg(400, 200, exif=exif.tobytes())


def _bomb(width: int = 60_000, height: int = 60_000) -> bytes:
    """A valid PNG header claiming 3.6 gigapixels, with a few bytes of data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 100))
        + chunk(b"IEND", b"")
    )


async def _post(
    client: httpx.AsyncClient, token: str | None, body: bytes, **headers: str
) -> httpx.Response:
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return await client.post("/photos", content=body, headers=headers)


async def test_a_jpeg_is_reencoded_capped_and_stripped(
    client: httpx.AsyncClient, gql: GraphQL, keys: dict[str, str], settings: Settings
) -> None:
    ada = await _buyer(gql, keys["SERVICE"], "ada", ["boots"])
    answer = await _post(client, ada.token, _jpeg(), **{"Content-Type": "image/jpeg"})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["width"], body["height"]) == (1600, 1067)
    assert answer.headers["location"] == body["url"] == f"/photos/{body['id']}.jpg"
    photo = await client.get(body["url"])
    assert photo.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(photo.content)).size == (1600, 1067)
    thumb = await client.get(body["thumbnailUrl"])
    assert max(Image.open(io.BytesIO(thumb.content)).size) == 320
    stored = await asyncio.to_thread(lambda: list(settings.resolved_photo_dir.iterdir()))
    assert sorted(p.name for p in stored) == sorted(
        [f"{body['id']}.jpg", f"{body['id']}.thumb.jpg"]
    )


async def test_exif_orientation_is_applied_and_metadata_dropped(
    client: httpx.AsyncClient, gql: GraphQL, keys: dict[str, str]
) -> None:
    ada = await _buyer(gql, keys["SERVICE"], "ada", ["boots"])
    upload = _with_exif()
    assert b"SpyCam" in upload
    body = (await _post(client, ada.token, upload)).json()
    assert (body["width"], body["height"]) == (200, 400)  # stood up
    served = (await client.get(body["url"])).content
    assert b"SpyCam" not in served
    assert b"Exif" not in served
    assert not Image.open(io.BytesIO(served)).getexif()


async def test_png_with_transparency_and_webp_are_accepted(
    client: httpx.AsyncClient, gql: GraphQL, keys: dict[str, str]
) -> None:
    ada = await _buyer(gql, keys["SERVICE"], "ada", ["boots"])
    for kind in ("PNG", "WEBP"):
        out = io.BytesIO()
        Image.new("RGBA", (64, 48), (255, 0, 0, 0)).save(out, kind)
        answer = await _post(client, ada.token, out.getvalue())
        assert answer.status_code == 201, answer.text
        served = Image.open(io.BytesIO((await client.get(answer.json()["url"])).content))
        assert served.format == "JPEG"
        assert served.getpixel((0, 0)) > (245, 245, 245)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"", "empty"),
        (b"GIF89a" + b"\0" * 100, "JPEG, PNG or WebP"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "JPEG, PNG or WebP"),
        (_jpeg(400, 300)[:200], "JPEG, PNG or WebP"),
        (_bomb(), "pixels"),
        (_bomb(12_000, 10), "pixels"),
    ],
)
async def test_what_is_no_photo_is_a_400_in_plain_words(
    client: httpx.AsyncClient, gql: GraphQL, keys: dict[str, str], body: bytes, words: str
) -> None:
    ada = await _buyer(gql, keys["SERVICE"], "ada", ["boots"])
    answer = await _post(client, ada.token, body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == "photo"
    assert words in answer.json()["error"]


async def test_too_big_is_refused_in_the_callers_language(
    client: httpx.AsyncClient, gql: GraphQL, keys: dict[str, str]
) -> None:
    ada = await _buyer(gql, keys["SERVICE"], "ada", ["boots"])
    answer = await _post(client, ada.token, b"\xff" * 2_000_000, **{"Accept-Language": "bg"})
    assert answer.status_code == 413
    assert "байта" in answer.text
    bad = await _post(client, ada.token, b"GIF89a", **{"Accept-Language": "ru"})
    assert bad.status_code == 400
    assert "JPEG, PNG или WebP" in bad.json()["error"]


async def test_only_a_signed_in_shopper_uploads(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    assert (await _post(client, None, _jpeg(10, 10))).status_code == 403
    assert (await _post(client, "not-a-token", _jpeg(10, 10))).status_code == 401
    staff = await _post(client, keys["ADMIN"], _jpeg(10, 10))
    assert staff.status_code == 403
    assert "SHOPPER" in staff.json()["error"]


async def test_photos_have_a_strong_etag_and_304(
    client: httpx.AsyncClient, gql: GraphQL, keys: dict[str, str]
) -> None:
    ada = await _buyer(gql, keys["SERVICE"], "ada", ["boots"])
    body = (await _post(client, ada.token, _jpeg(100, 100))).json()
    for url in (body["url"], body["thumbnailUrl"]):
        first = await client.get(url)
        etag = first.headers["etag"]
        assert etag.startswith('"')
        assert not etag.startswith("W/")
        assert "max-age" in first.headers["cache-control"]
        again = await client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
    assert (await client.get("/photos/AAAAAAAAAAAAAAAAAAAAAA.jpg")).status_code == 404
    assert (await client.get("/photos/..%2F..%2Fjwt_secret.jpg")).status_code == 404


async def test_a_photo_review_shows_its_photo_to_moderators(
    client: httpx.AsyncClient, gql: GraphQL, keys: dict[str, str]
) -> None:
    ada = await _buyer(gql, keys["SERVICE"], "ada", ["boots"])
    photo = (await _post(client, ada.token, _jpeg(100, 100))).json()
    done = await gql(REVIEW, review_input("r-1", "boots", photo=photo["id"]), auth=ada.token)
    activity = done["submitReview"]["activity"]
    assert activity["kind"] == "PHOTO_REVIEW"
    assert activity["review"]["hasPhoto"] is True
    queue = await gql(
        "{ moderationQueue { id kind photo { url thumbnailUrl } } }", auth=keys["MODERATOR"]
    )
    [waiting] = queue["moderationQueue"]
    assert waiting["photo"] == {"url": photo["url"], "thumbnailUrl": photo["thumbnailUrl"]}


async def test_a_photo_review_needs_a_photo_of_the_author(
    client: httpx.AsyncClient, gql: GraphQL, keys: dict[str, str]
) -> None:
    ada = await _buyer(gql, keys["SERVICE"], "ada", ["boots"])
    bob = await _buyer(gql, keys["SERVICE"], "bob", ["boots"])
    bobs = (await _post(client, bob.token, _jpeg(50, 50))).json()["id"]
    for photo in (True, bobs, "AAAAAAAAAAAAAAAAAAAAAA", "../../etc/passwd"):
        done = await gql(REVIEW, review_input("r-1", "boots", photo=photo), auth=ada.token)
        refused = done["submitReview"]
        assert refused["__typename"] == "ValidationError"
        assert refused["field"] == "photoId"
        assert "photo" in refused["message"]
    plain = await gql(REVIEW, review_input("r-1", "boots"), auth=ada.token)
    assert plain["submitReview"]["activity"]["kind"] == "REVIEW"
