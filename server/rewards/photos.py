"""Review photos: what a shopper's upload may be, and the JPEGs that Laurel keeps of it.

An upload is the raw bytes of a JPEG, PNG or WebP file of at most ``MAX_BYTES``. Pillow
reads the size from the header before decoding anything: more than ``MAX_SIDE`` pixels a
side or ``MAX_PIXELS`` in all (a decompression bomb: a few kilobytes that decode to
gigabytes) is refused unread. The pixels are then drawn again, the right way up (the
EXIF orientation applied), as a new JPEG of at most ``STORED_SIDE`` pixels on the long
side and a thumbnail of at most ``THUMB_SIDE``: only the pixels survive, so the GPS
position, the camera's serial number, an ICC profile or a script hidden after the image
never reach a moderator's or a shopper's browser. Transparency is laid on white.

The files live outside the database (under ``LAUREL_PHOTO_DIR``); a ``Photo`` row says
whose they are. Its id is a random token: the photo's URL is unguessable, so a pending
review's photo is seen only by those who were given the URL (the author, moderators).
"""

from __future__ import annotations

import hashlib
import io
import secrets
from dataclasses import dataclass

from PIL import Image, ImageOps
from tortoise import fields
from tortoise.models import Model

from server.rewards.errors import Invalid
from server.rewards.members import Member
from server.rewards.text import msg

__all__ = [
    "MAX_BYTES",
    "MAX_PIXELS",
    "MAX_SIDE",
    "STORED_SIDE",
    "THUMB_SIDE",
    "EncodedPhoto",
    "Photo",
    "encode_photo",
    "etag_of",
    "new_photo_id",
]

MAX_BYTES = 10 * 1_048_576
MAX_SIDE = 10_000
MAX_PIXELS = 40_000_000
STORED_SIDE = 1_600
THUMB_SIDE = 320
_FORMATS = ("JPEG", "PNG", "WEBP")
_QUALITY = 85
_UNREADABLE = msg("photo is not a JPEG, PNG or WebP picture that can be read.")


class Photo(Model):
    """An uploaded photo: its files are the id with .jpg and with .thumb.jpg."""

    id = fields.CharField(max_length=32, primary_key=True)
    member: fields.ForeignKeyRelation[Member] = fields.ForeignKeyField(
        "laurel.Member", related_name="photos", on_delete=fields.RESTRICT
    )
    member_id: int
    width = fields.IntField()
    height = fields.IntField()
    # Quoted strong ETags: a hash of each file's bytes.
    etag = fields.CharField(max_length=40)
    thumb_etag = fields.CharField(max_length=40)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "photos"
        indexes = (("member_id", "created_at"),)


@dataclass(frozen=True, slots=True)
class EncodedPhoto:
    """The re-encoded photo and thumbnail (JPEG bytes) and the photo's size in pixels."""

    jpeg: bytes
    thumb: bytes
    width: int
    height: int


def new_photo_id() -> str:
    """A random, unguessable id (22 URL-safe characters)."""
    return secrets.token_urlsafe(16)


def etag_of(data: bytes) -> str:
    """A strong ETag (quoted) from the bytes."""
    return f'"{hashlib.sha256(data).hexdigest()[:32]}"'


def _jpeg(image: Image.Image) -> bytes:
    # A new image from the pixels alone: Pillow writes what ``info`` holds (EXIF, ICC).
    pixels = Image.frombytes(image.mode, image.size, image.tobytes())
    out = io.BytesIO()
    pixels.save(out, "JPEG", quality=_QUALITY, optimize=True)
    return out.getvalue()


def _too_big(width: int, height: int) -> Invalid:
    return Invalid(
        "photo",
        msg(
            "photo must be at most {side:,} pixels a side and {most:,} pixels in all "
            "(it is {width}x{height}).",
            side=MAX_SIDE,
            most=MAX_PIXELS,
            width=width,
            height=height,
        ),
    )


def encode_photo(data: bytes) -> EncodedPhoto:
    """The upload drawn again as JPEGs; ``Invalid('photo')`` for anything else.

    Takes up to a few hundred milliseconds of CPU for a large photo: call it in a thread.
    """
    if not data:
        raise Invalid("photo", msg("photo is empty: send the picture's bytes."))
    if len(data) > MAX_BYTES:
        raise Invalid("photo", msg("photo must be at most {most:,} bytes.", most=MAX_BYTES))
    try:
        with Image.open(io.BytesIO(data), formats=_FORMATS) as opened:
            width, height = opened.size
            if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
                raise _too_big(width, height)
            if opened.format == "JPEG":  # decode at a smaller scale: faster, less memory
                opened.draft("RGB", (STORED_SIDE, STORED_SIDE))
            image = ImageOps.exif_transpose(opened)
            image.load()
    except Invalid:
        raise
    except Image.DecompressionBombError:
        raise Invalid("photo", msg("photo has too many pixels to be read safely.")) from None
    except Exception:  # whatever a malformed file makes a decoder raise
        raise Invalid("photo", _UNREADABLE) from None
    if "A" in image.getbands() or "transparency" in image.info:
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, (255, 255, 255))
        image.paste(rgba, mask=rgba.getchannel("A"))
    elif image.mode != "RGB":
        image = image.convert("RGB")
    image.thumbnail((STORED_SIDE, STORED_SIDE), Image.Resampling.LANCZOS)
    thumb = image.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    return EncodedPhoto(
        jpeg=_jpeg(image), thumb=_jpeg(thumb), width=image.width, height=image.height
    )
