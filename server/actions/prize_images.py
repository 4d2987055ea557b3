"""Prize pictures: admins upload or remove one; anyone fetches it (prizes are public).

The upload is checked and drawn again by ``server.rewards.pictures``; what is stored is
only that PNG, and the prize's ``image_version`` (a hash of it) puts it in the prize's
image URL, so a new picture is a new URL and browsers may keep one for long.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from server.actions.common import require
from server.actions.prizes import prize_by_id
from server.auth import Principal, Role
from server.rewards import pictures
from server.rewards import validation as v
from server.rewards.errors import NotFound
from server.rewards.prizes import Prize, PrizeImage
from server.rewards.text import msg

__all__ = ["MAX_IMAGE_CHARS", "StoredImage", "prize_image", "set_prize_image"]

# The longest ``image`` argument worth reading (the use case checks it first).
MAX_IMAGE_CHARS = pictures.MAX_ENCODED_CHARS


@dataclass(frozen=True, slots=True)
class StoredImage:
    """A prize's stored PNG and its strong ETag (quoted, from the bytes)."""

    png: bytes
    etag: str


async def set_prize_image(principal: Principal, prize_id: str, image: str | None) -> Prize:
    """ADMIN: the prize's picture from a base64 PNG, JPEG or WebP (at most 1 MB, 4096 px a
    side), stored as a PNG of at most 512 px on its long side; ``None`` removes it.
    ``Invalid('image')`` for anything else; setting the same picture again changes nothing
    a client can see."""
    require(principal, Role.ADMIN)
    prize = await prize_by_id(prize_id)
    if image is None:
        async with in_transaction():
            await Prize.filter(id=prize.id).update(image_version=None, updated_by=principal.actor)
            await PrizeImage.filter(prize_id=prize.id).delete()
    else:
        data = pictures.decode_upload("image", image)
        picture = await asyncio.to_thread(pictures.picture_of, "image", data)
        stored: dict[str, Any] = {
            "png": picture.png,
            "width": picture.width,
            "height": picture.height,
            "updated_by": principal.actor,
        }
        async with in_transaction():
            # The prize's row first: a concurrent upload waits here (row lock on
            # PostgreSQL, the write lock on SQLite), then finds this one's image row.
            await Prize.filter(id=prize.id).update(
                image_version=picture.version, updated_by=principal.actor
            )
            if not await PrizeImage.filter(prize_id=prize.id).update(**stored):
                await PrizeImage.create(prize_id=prize.id, **stored)
    await prize.refresh_from_db()
    return prize


async def prize_image(prize_id: str) -> StoredImage:
    """The picture of a prize (archived ones too); ``NotFound`` when it has none."""
    pk = v.parse_id("prizeId", prize_id)
    rows = [] if pk is None else await PrizeImage.filter(prize_id=pk).values_list("png", flat=True)
    if not rows:
        raise NotFound(msg("Prize {prize} has no picture.", prize=v.excerpt(prize_id)))
    png = bytes(rows[0])
    return StoredImage(png=png, etag=f'"{pictures.version_of(png)}"')
