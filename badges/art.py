"""Badge images drawn with Pillow from an art spec: shape, glyph, two colours, level.

Outlines come from ``badges.shapes`` and glyphs from ``badges.glyphs``; this
module colours them by level and assembles the badge.

Everything is drawn as vector shapes at three times the asked size and scaled
down with a Lanczos filter, so edges stay smooth at 64 px and crisp at 512 px.
The level shows twice: the outer ring takes the level's metal (bronze,
silver, gold, platinum, diamond) and the ribbon carries one star per level,
the held ones filled.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

from badges.glyphs import Pen, draw_glyph
from badges.shapes import Point, outline, star_points

__all__ = [
    "MAX_SIZE",
    "METALS",
    "METAL_NAMES",
    "MIN_SIZE",
    "contact_sheet",
    "metal_index",
    "render",
    "render_png",
]

MIN_SIZE = 64
MAX_SIZE = 512
_SUPERSAMPLE = 3

# Metal of each level, lowest first; a badge with fewer levels ends on gold.
METALS = ("#b0703a", "#aab4bf", "#e2b007", "#6fc7d1", "#9c7cf4")
METAL_NAMES = ("Bronze", "Silver", "Gold", "Platinum", "Diamond")
_WHITE = "#ffffff"
_INK = "#1d1d28"


def metal_index(level: int, levels: int) -> int:
    """Which metal a level shows: bronze, silver, gold for three levels; a badge with
    fewer levels ends on gold, one with more goes on to platinum and diamond."""
    first = max(0, 3 - levels) if levels <= 3 else 0
    return min(first + level - 1, len(METALS) - 1)


def _metal(level: int, levels: int) -> str:
    return METALS[metal_index(level, levels)]


def _shade(colour: str, factor: float) -> str:
    """Darker (< 1) or lighter (> 1) version of a #rrggbb colour."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    if factor < 1:
        out = [round(c * factor) for c in rgb]
    else:
        out = [round(c + (255 - c) * (factor - 1)) for c in rgb]
    return "#" + "".join(f"{max(0, min(255, c)):02x}" for c in out)


def render(
    shape: str, glyph: str, primary: str, secondary: str, level: int, levels: int, size: int
) -> Image.Image:
    """The badge at one level as an RGBA image of ``size`` pixels square."""
    big = size * _SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    c = big / 2
    r = big * 0.44
    shape_of = outline(shape)
    metal = _metal(level, levels)

    def fill(points: list[Point], colour: str, dy: float = 0.0) -> None:
        draw.polygon([(c + x, c - big * 0.03 + y + dy) for x, y in points], fill=colour)

    if shape == "medal":  # ribbon tails behind the disc
        tails = [(-0.55, 0.2), (-0.15, 0.3), (-0.3, 1.02), (-0.5, 0.9), (-0.7, 1.02)]
        fill([(x * r, y * r) for x, y in tails], _shade(primary, 0.7))
        fill([(-x * r, y * r) for x, y in tails], _shade(primary, 0.7))
    fill(shape_of(r), _shade(metal, 0.55), dy=big * 0.015)  # a soft lower edge
    fill(shape_of(r), metal)
    fill(shape_of(r * 0.9), _shade(metal, 0.8))
    fill(shape_of(r * 0.86), primary)
    fill(shape_of(r * 0.78), _shade(primary, 1.12))
    medallion = r * 0.52
    cy = c - big * 0.06
    draw.ellipse((c - medallion, cy - medallion, c + medallion, cy + medallion), fill=secondary)
    draw_glyph(glyph, Pen(draw, c, cy, medallion * 0.68), _shade(primary, 0.85), secondary)
    _ribbon(draw, c, c + r * 0.62, r, metal, level, levels)
    return image.reduce(_SUPERSAMPLE)  # a box filter: the average of each 3x3 block


def _ribbon(
    draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float, metal: str, level: int, levels: int
) -> None:
    w, h = r * (0.36 + 0.15 * levels), r * 0.2
    notch = h * 0.8
    for side in (-1, 1):  # folded ends
        x0 = cx + side * w
        end = [(x0, cy - h * 0.6), (x0 + side * notch * 1.6, cy - h * 0.6)]
        end += [(x0 + side * notch, cy + h * 0.2), (x0 + side * notch * 1.6, cy + h)]
        end += [(x0, cy + h)]
        draw.polygon(end, fill=_shade(metal, 0.62))
    draw.rounded_rectangle((cx - w, cy - h, cx + w, cy + h), radius=h * 0.3, fill=metal)
    step = r * 0.28
    first = cx - step * (levels - 1) / 2
    for i in range(levels):
        x = first + i * step
        colour = _WHITE if i < level else _shade(metal, 0.7)
        draw.polygon([(x + px, cy + py) for px, py in star_points(h * 0.8, 0.45)], fill=colour)


def render_png(
    shape: str, glyph: str, primary: str, secondary: str, level: int, levels: int, size: int
) -> bytes:
    out = io.BytesIO()
    render(shape, glyph, primary, secondary, level, levels, size).save(out, "PNG", optimize=False)
    return out.getvalue()


def contact_sheet(
    rows: Sequence[tuple[str, Sequence[Image.Image]]], cell: int = 160
) -> Image.Image:
    """One row per badge: its name, then its image at every level."""
    width = max((len(images) for _, images in rows), default=1)
    label_w = cell * 2
    sheet = Image.new("RGBA", (label_w + cell * width, cell * len(rows)), "#f7f7fb")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=max(12, cell // 8))
    for y, (name, images) in enumerate(rows):
        top = y * cell
        if y % 2:
            draw.rectangle((0, top, sheet.width, top + cell), fill="#ececf4")
        draw.text((cell // 8, top + cell // 2), name, fill=_INK, font=font, anchor="lm")
        for x, image in enumerate(images):
            pad = (cell - image.width) // 2
            sheet.alpha_composite(image, (label_w + x * cell + pad, top + pad))
    return sheet
