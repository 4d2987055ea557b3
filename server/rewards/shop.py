"""The shop's look and its own words: name, two colours, a logo and the rules/FAQ text.

One row (id 1), edited by the owner; until it exists the pages use the defaults below
(the name from ``LAUREL_SHOP_NAME``). Colours are ``#rrggbb``. The pages put white text
on the primary colour and use both colours for text on white, so each colour is also
given darkened, if needed, until it reaches the 4.5:1 contrast WCAG AA asks of text
(``readable_on_white``): an owner's pale yellow still makes readable buttons.
"""

from __future__ import annotations

import re

from tortoise import fields
from tortoise.models import Model

from server.rewards import validation as v
from server.rewards.errors import Invalid
from server.rewards.text import msg

__all__ = [
    "DEFAULT_ACCENT",
    "DEFAULT_PRIMARY",
    "MAX_FAQ_CHARS",
    "MAX_NAME_CHARS",
    "SHOP_ROW",
    "ShopLogo",
    "ShopProfile",
    "clean_colour",
    "clean_faq",
    "clean_name",
    "contrast_with_white",
    "readable_on_white",
]

SHOP_ROW = 1
DEFAULT_PRIMARY = "#256045"
DEFAULT_ACCENT = "#b7791f"
MAX_NAME_CHARS = 100
MAX_FAQ_CHARS = 5_000
_COLOUR = re.compile(r"#[0-9a-f]{6}")
_AA = 4.5


class ShopProfile(Model):
    """The owner's settings for the pages: a single row, id 1."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=MAX_NAME_CHARS)
    primary_color = fields.CharField(max_length=7, default=DEFAULT_PRIMARY)
    accent_color = fields.CharField(max_length=7, default=DEFAULT_ACCENT)
    faq = fields.TextField(default="")
    # A hash of the logo's PNG: in its URL and its ETag. None: no logo.
    logo_version = fields.CharField(max_length=16, null=True)
    updated_by = fields.CharField(max_length=128)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "shop_profile"


class ShopLogo(Model):
    """The logo as a PNG, apart so that reading the shop skips it."""

    id = fields.IntField(primary_key=True)
    png = fields.BinaryField()
    width = fields.IntField()
    height = fields.IntField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "shop_logo"


def clean_name(value: str) -> str:
    """The shop's name: 1 to 100 characters of a display name (``clean_text``)."""
    return v.clean_text("name", value, max_length=MAX_NAME_CHARS, display=True)


def clean_colour(field: str, value: str) -> str:
    """A colour as ``#rrggbb`` (lower case)."""
    colour = value.strip().lower()
    if not _COLOUR.fullmatch(colour):
        raise Invalid(
            field,
            msg("{field} must be a colour written #rrggbb, like #256045.", field=field),
        )
    return colour


def clean_faq(value: str) -> str:
    """Plain text of at most 5,000 characters (empty: none); paragraphs are separated by
    a blank line. Shown as text, never as HTML."""
    return v.clean_text("faq", value, max_length=MAX_FAQ_CHARS, multiline=True, allow_empty=True)


def _luminance(colour: str) -> float:
    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_with_white(colour: str) -> float:
    """The WCAG contrast ratio of ``#rrggbb`` against white (1 to 21)."""
    return 1.05 / (_luminance(colour) + 0.05)


def readable_on_white(colour: str) -> str:
    """``colour`` itself when white text on it (and it on white) reaches 4.5:1; else the
    same hue darkened in small steps until it does."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    found = colour
    scale = 1.0
    while contrast_with_white(found) < _AA and scale > 0:
        scale = round(scale - 0.02, 2)
        found = "#" + "".join(f"{int(c * scale):02x}" for c in rgb)
    return found
