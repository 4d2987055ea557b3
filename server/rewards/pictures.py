"""Prize pictures: what an upload may be, and the PNG that Laurel keeps of it.

An upload is the base64 of a PNG, JPEG or WebP file of at most ``MAX_BYTES``, at most
``MAX_SIDE`` pixels a side. Pillow decodes it and Laurel draws it again as a new PNG of
at most ``STORED_SIDE`` pixels on its long side (never enlarged): only the pixels
survive, so metadata (a photo's GPS position), trailing bytes, a script disguised as an
image or a second file hidden in the first never reach a browser. A JPEG's orientation
tag is applied first, so a phone photo stands the right way up.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
from dataclasses import dataclass

from PIL import Image, ImageOps

from server.rewards.errors import Invalid
from server.rewards.text import msg

__all__ = [
    "MAX_BYTES",
    "MAX_ENCODED_CHARS",
    "MAX_SIDE",
    "STORED_SIDE",
    "Picture",
    "decode_upload",
    "picture_of",
    "version_of",
]

MAX_BYTES = 1_048_576
MAX_SIDE = 4_096
STORED_SIDE = 512
# Base64 of MAX_BYTES, with room for a ``data:`` prefix and line breaks every 76 characters.
MAX_ENCODED_CHARS = 4 * -(-MAX_BYTES // 3) * 78 // 76 + 64
_FORMATS = ("PNG", "JPEG", "WEBP")
_DATA_URL = re.compile(r"data:image/[a-z0-9.+-]{1,40};base64,", re.IGNORECASE)
_TOO_BIG = msg("image must be at most 1 MB ({most:,} bytes) once decoded.", most=MAX_BYTES)
_UNREADABLE = msg("image is not a PNG, JPEG or WebP picture that can be read.")


@dataclass(frozen=True, slots=True)
class Picture:
    """A re-encoded picture: PNG bytes and their size in pixels."""

    png: bytes
    width: int
    height: int

    @property
    def version(self) -> str:
        """A hash of the bytes: the picture's ETag and the ``v`` of its URL."""
        return version_of(self.png)


def version_of(png: bytes) -> str:
    """16 hex digits of the SHA-256 of a stored PNG."""
    return hashlib.sha256(png).hexdigest()[:16]


def decode_upload(field: str, encoded: str) -> bytes:
    """The file's bytes from its base64 (a ``data:image/...;base64,`` prefix and line
    breaks are allowed); ``Invalid(field)`` when it is too long or not base64. The length
    is checked before anything else is done with the text."""
    if len(encoded) > MAX_ENCODED_CHARS:
        raise Invalid(field, _TOO_BIG)
    text = "".join(encoded.split())
    prefix = _DATA_URL.match(text)
    if prefix is not None:
        text = text[prefix.end() :]
    if not text:
        raise Invalid(
            field, msg("{field} must not be empty (null removes the picture).", field=field)
        )
    if len(text) > 4 * -(-MAX_BYTES // 3):
        raise Invalid(field, _TOO_BIG)
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid(
            field, msg("{field} must be base64 (the file's bytes).", field=field)
        ) from None
    if len(data) > MAX_BYTES:
        raise Invalid(field, _TOO_BIG)
    return data


def picture_of(field: str, data: bytes) -> Picture:
    """The upload drawn again as a PNG of at most ``STORED_SIDE`` pixels on its long side.

    ``Invalid(field)`` for what Pillow cannot open as a PNG, JPEG or WebP, and for a
    picture over ``MAX_SIDE`` pixels a side (checked from its header, before decoding
    it). Takes tens of milliseconds of CPU: call it in a thread.
    """
    try:
        with Image.open(io.BytesIO(data), formats=_FORMATS) as opened:
            if opened.width > MAX_SIDE or opened.height > MAX_SIDE:
                raise Invalid(
                    field,
                    msg(
                        "image must be at most {most} pixels a side (it is {width}x{height}).",
                        most=MAX_SIDE,
                        width=opened.width,
                        height=opened.height,
                    ),
                )
            image = ImageOps.exif_transpose(opened)
            image.load()
    except Invalid:
        raise
    except Image.DecompressionBombError:
        raise Invalid(
            field, msg("image must be at most {most} pixels a side.", most=MAX_SIDE)
        ) from None
    except Exception:  # whatever a malformed file makes a decoder raise
        raise Invalid(field, _UNREADABLE) from None
    alpha = "A" in image.getbands() or "transparency" in image.info
    if image.mode != ("RGBA" if alpha else "RGB"):
        image = image.convert("RGBA" if alpha else "RGB")
    image.thumbnail((STORED_SIDE, STORED_SIDE), Image.Resampling.LANCZOS)
    # A new image from the pixels alone: Pillow would write what ``info`` still holds
    # (an ICC profile, text chunks) into the PNG.
    pixels = Image.frombytes(image.mode, image.size, image.tobytes())
    out = io.BytesIO()
    pixels.save(out, "PNG")
    return Picture(png=out.getvalue(), width=pixels.width, height=pixels.height)
