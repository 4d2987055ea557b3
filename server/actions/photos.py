"""Review photos: a shopper uploads one, then names it in ``submitReview``.

``upload_photo`` checks and re-encodes the bytes (``server.rewards.photos``) in a thread,
writes the photo and its thumbnail under the photo directory (to a temporary name, then
renamed: a reader never sees half a file) and records whose they are. The files are named
by the photo's random id, which is all a URL needs; their contents never change, so their
ETags are fixed at upload.
"""

from __future__ import annotations

import asyncio
import os
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from server.actions.common import require
from server.actions.services import utcnow
from server.auth import Principal, Role
from server.rewards import photos
from server.rewards.errors import Invalid, LimitReached, NotFound
from server.rewards.photos import Photo
from server.rewards.text import msg

__all__ = [
    "MAX_PHOTOS_A_DAY",
    "PhotoFile",
    "photo_file",
    "photo_urls",
    "review_photo",
    "upload_photo",
]

MAX_PHOTOS_A_DAY = 30
_ID = re.compile(r"[A-Za-z0-9_-]{22}")


@dataclass(frozen=True, slots=True)
class PhotoFile:
    """A stored JPEG and its strong ETag."""

    path: Path
    etag: str


def photo_urls(photo_id: str) -> tuple[str, str]:
    """The photo's URL and its thumbnail's."""
    return f"/photos/{photo_id}.jpg", f"/photos/{photo_id}/thumb.jpg"


def _write(directory: Path, photo_id: str, encoded: photos.EncodedPhoto) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in ((f"{photo_id}.jpg", encoded.jpeg), (f"{photo_id}.thumb.jpg", encoded.thumb)):
        part = directory / f".{name}.part"
        part.write_bytes(data)
        os.replace(part, directory / name)


async def upload_photo(principal: Principal, data: bytes, directory: Path) -> Photo:
    """SHOPPER: a photo for a review, from a JPEG, PNG or WebP file's bytes, kept as a JPEG
    of at most 1600 px on its long side plus a 320 px thumbnail, without metadata.
    ``Invalid('photo')`` for anything else; at most ``MAX_PHOTOS_A_DAY`` a day."""
    require(principal, Role.SHOPPER)
    member_id = principal.member_id
    since = utcnow() - timedelta(days=1)
    if await Photo.filter(member_id=member_id, created_at__gte=since).count() >= MAX_PHOTOS_A_DAY:
        raise LimitReached(
            msg("At most {most} photos a day can be uploaded.", most=MAX_PHOTOS_A_DAY)
        )
    encoded = await asyncio.to_thread(photos.encode_photo, data)
    photo_id = photos.new_photo_id()
    await asyncio.to_thread(_write, directory, photo_id, encoded)
    return await Photo.create(
        id=photo_id,
        member_id=member_id,
        width=encoded.width,
        height=encoded.height,
        etag=photos.etag_of(encoded.jpeg),
        thumb_etag=photos.etag_of(encoded.thumb),
    )


async def review_photo(member_id: int, photo_id: str) -> str:
    """``photo_id`` when it names a photo this member uploaded; ``Invalid('photoId')``
    otherwise (another shopper's photo is as unknown as one that never existed)."""
    if not _ID.fullmatch(photo_id) or not await Photo.exists(id=photo_id, member_id=member_id):
        raise Invalid(
            "photoId", msg("photoId is not a photo you uploaded: upload the photo first.")
        )
    return photo_id


async def photo_file(photo_id: str, directory: Path, *, thumb: bool) -> PhotoFile:
    """Where a photo's (or its thumbnail's) JPEG is; ``NotFound`` for an unknown id."""
    found = await Photo.get_or_none(id=photo_id) if _ID.fullmatch(photo_id) else None
    path = directory / f"{photo_id}{'.thumb' if thumb else ''}.jpg"
    if found is None or not await asyncio.to_thread(path.is_file):
        raise NotFound(msg("There is no such photo."))
    return PhotoFile(path=path, etag=found.thumb_etag if thumb else found.etag)
