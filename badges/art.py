"""Badge images drawn with Pillow from an art spec: shape, glyph, two colours, level.

Everything is drawn as vector shapes at three times the asked size and scaled
down with a Lanczos filter, so edges stay smooth at 64 px and crisp at 512 px.
The level shows twice: the outer ring takes the level's metal (bronze,
silver, gold, platinum, diamond) and the ribbon carries one star per level,
the held ones filled.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence

from PIL import Image, ImageDraw, ImageFont

__all__ = [
    "GLYPHS",
    "MAX_SIZE",
    "METALS",
    "METAL_NAMES",
    "MIN_SIZE",
    "SHAPES",
    "contact_sheet",
    "metal_index",
    "render",
    "render_png",
]

MIN_SIZE = 64
MAX_SIZE = 512
_SUPERSAMPLE = 3

Point = tuple[float, float]
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


def _regular(sides: int, rotation: float = -90.0) -> Callable[[float], list[Point]]:
    def points(r: float) -> list[Point]:
        step = 360.0 / sides
        return [_polar(r, rotation + i * step) for i in range(sides)]

    return points


def _polar(r: float, degrees: float) -> Point:
    a = math.radians(degrees)
    return (r * math.cos(a), r * math.sin(a))


def _star_points(r: float, inner: float = 0.5, tips: int = 5) -> list[Point]:
    return [_polar(r if i % 2 == 0 else r * inner, -90 + i * 180 / tips) for i in range(tips * 2)]


def _wavy(r: float, lobes: int, depth: float) -> list[Point]:
    return [
        _polar(r * (1 - depth + depth * abs(math.cos(math.radians(d) * lobes / 2))), d)
        for d in range(0, 360, 3)
    ]


def _cog(r: float) -> list[Point]:
    out: list[Point] = []
    for i in range(10):
        base = i * 36
        for d, k in ((-14, 0.82), (-9, 1.0), (9, 1.0), (14, 0.82)):
            out.append(_polar(r * k, base + d - 90))
    return out


def _shield(r: float) -> list[Point]:
    top = [(-0.86 * r, -0.82 * r), (0.0, -0.98 * r), (0.86 * r, -0.82 * r)]
    side = [(0.86 * r, 0.05 * r)]
    curve = [
        (0.86 * r * math.cos(math.radians(t)), 0.05 * r + 0.93 * r * math.sin(math.radians(t)))
        for t in range(10, 90, 8)
    ]
    left = [(-x, y) for x, y in reversed(curve)]
    return top + side + curve + [(0.0, 0.98 * r)] + left + [(-0.86 * r, 0.05 * r)]


def _square(r: float) -> list[Point]:
    return _rounded_box(r * 0.86, r * 0.86, r * 0.18)


def _rounded_box(w: float, h: float, radius: float) -> list[Point]:
    out: list[Point] = []
    for cx, cy, start in ((w, h, 0), (-w, h, 90), (-w, -h, 180), (w, -h, 270)):
        ox, oy = cx - math.copysign(radius, cx), cy - math.copysign(radius, cy)
        out += [_offset(_polar(radius, start + d), ox, oy) for d in range(0, 91, 15)]
    return out


def _offset(p: Point, dx: float, dy: float) -> Point:
    return (p[0] + dx, p[1] + dy)


# Outline of each shape for a radius r, centred on (0, 0).
_SHAPES: dict[str, Callable[[float], list[Point]]] = {
    "circle": lambda r: [_polar(r, d) for d in range(0, 360, 3)],
    "square": _square,
    "diamond": _regular(4),
    "pentagon": _regular(5),
    "hexagon": _regular(6, 0),
    "heptagon": _regular(7),
    "octagon": _regular(8, 22.5),
    "shield": _shield,
    "star": lambda r: _star_points(r, 0.72, 8),
    "flower": lambda r: _wavy(r, 8, 0.14),
    "burst": lambda r: _star_points(r, 0.84, 16),
    "cog": _cog,
    "medal": lambda r: [_polar(r * 0.9, d) for d in range(0, 360, 3)],
}
SHAPES: tuple[str, ...] = tuple(_SHAPES)


class _Pen:
    """Draws in glyph units (-1..1) around a centre, at a scale."""

    def __init__(self, draw: ImageDraw.ImageDraw, cx: float, cy: float, scale: float) -> None:
        self.draw, self.cx, self.cy, self.k = draw, cx, cy, scale

    def _p(self, p: Point) -> Point:
        return (self.cx + p[0] * self.k, self.cy + p[1] * self.k)

    def poly(self, points: Sequence[Point], fill: str) -> None:
        self.draw.polygon([self._p(p) for p in points], fill=fill)

    def disc(self, x: float, y: float, r: float, fill: str) -> None:
        (a, b), (c, d) = self._p((x - r, y - r)), self._p((x + r, y + r))
        self.draw.ellipse((a, b, c, d), fill=fill)

    def oval(self, x: float, y: float, rx: float, ry: float, fill: str) -> None:
        (a, b), (c, d) = self._p((x - rx, y - ry)), self._p((x + rx, y + ry))
        self.draw.ellipse((a, b, c, d), fill=fill)

    def box(self, x0: float, y0: float, x1: float, y1: float, fill: str, r: float = 0) -> None:
        (a, b), (c, d) = self._p((x0, y0)), self._p((x1, y1))
        self.draw.rounded_rectangle((a, b, c, d), radius=r * self.k, fill=fill)

    def line(self, points: Sequence[Point], width: float, fill: str) -> None:
        self.draw.line([self._p(p) for p in points], fill=fill, width=max(1, round(width * self.k)))
        for x, y in (points[0], points[-1]):
            self.disc(x, y, width / 2, fill)

    def arc(self, x: float, y: float, r: float, start: int, end: int, w: float, fill: str) -> None:
        (a, b), (c, d) = self._p((x - r, y - r)), self._p((x + r, y + r))
        self.draw.arc((a, b, c, d), start, end, fill=fill, width=max(1, round(w * self.k)))


def _rotated(points: Sequence[Point], degrees: float) -> list[Point]:
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return [(x * c - y * s, x * s + y * c) for x, y in points]


def _pen(p: _Pen, fg: str, bg: str) -> None:
    body = [(-0.75, -0.15), (0.45, -0.15), (0.8, 0.0), (0.45, 0.15), (-0.75, 0.15)]
    p.poly(_rotated(body, -45), fg)
    p.poly(_rotated([(0.45, -0.15), (0.8, 0.0), (0.45, 0.15)], -45), bg)
    p.poly(_rotated([(0.64, -0.07), (0.8, 0.0), (0.64, 0.07)], -45), fg)
    p.line(_rotated([(-0.5, -0.15), (-0.5, 0.15)], -45), 0.07, bg)
    p.line([(-0.75, 0.82), (0.7, 0.82)], 0.09, fg)


def _book(p: _Pen, fg: str, bg: str) -> None:
    p.poly([(-0.85, -0.55), (-0.05, -0.42), (-0.05, 0.68), (-0.85, 0.55)], fg)
    p.poly([(0.85, -0.55), (0.05, -0.42), (0.05, 0.68), (0.85, 0.55)], fg)
    for y in (-0.2, 0.05, 0.3):
        p.line([(-0.7, y - 0.08), (-0.2, y)], 0.06, bg)
        p.line([(0.7, y - 0.08), (0.2, y)], 0.06, bg)


def _camera(p: _Pen, fg: str, bg: str) -> None:
    p.box(-0.3, -0.62, 0.3, -0.3, fg, 0.08)
    p.box(-0.85, -0.42, 0.85, 0.65, fg, 0.16)
    p.disc(0.0, 0.1, 0.38, bg)
    p.disc(0.0, 0.1, 0.24, fg)
    p.disc(0.6, -0.22, 0.08, bg)


def _megaphone(p: _Pen, fg: str, bg: str) -> None:
    p.poly([(-0.5, -0.22), (0.55, -0.7), (0.55, 0.7), (-0.5, 0.22)], fg)
    p.box(-0.82, -0.22, -0.45, 0.22, fg, 0.06)
    p.poly([(-0.45, 0.2), (-0.2, 0.2), (-0.1, 0.7), (-0.35, 0.7)], fg)
    p.arc(0.55, 0.0, 0.3, -50, 50, 0.09, fg)


def _share(p: _Pen, fg: str, bg: str) -> None:
    p.line([(-0.5, 0.0), (0.5, -0.55)], 0.14, fg)
    p.line([(-0.5, 0.0), (0.5, 0.55)], 0.14, fg)
    for x, y in ((0.5, -0.55), (0.5, 0.55), (-0.5, 0.0)):
        p.disc(x, y, 0.26, fg)


def _people(p: _Pen, fg: str, bg: str) -> None:
    p.disc(0.32, -0.38, 0.22, fg)
    p.oval(0.32, 0.42, 0.42, 0.4, fg)
    p.disc(-0.3, -0.28, 0.27, bg)
    p.oval(-0.3, 0.55, 0.56, 0.5, bg)
    p.disc(-0.3, -0.28, 0.22, fg)
    p.oval(-0.3, 0.55, 0.48, 0.42, fg)
    p.box(-0.95, 0.72, 0.95, 1.0, bg)


def _bag(p: _Pen, fg: str, bg: str) -> None:
    p.arc(0.0, -0.3, 0.32, 180, 360, 0.1, fg)
    p.poly([(-0.65, -0.25), (0.65, -0.25), (0.78, 0.75), (-0.78, 0.75)], fg)
    p.disc(-0.32, -0.05, 0.07, bg)
    p.disc(0.32, -0.05, 0.07, bg)


def _heart(p: _Pen, fg: str, bg: str) -> None:
    p.disc(-0.36, -0.22, 0.4, fg)
    p.disc(0.36, -0.22, 0.4, fg)
    p.poly([(-0.74, -0.08), (0.74, -0.08), (0.0, 0.78)], fg)
    p.disc(-0.4, -0.3, 0.12, bg)


def _coins(p: _Pen, fg: str, bg: str) -> None:
    for i, y in enumerate((0.55, 0.25, -0.05, -0.35)):
        x = -0.15 + (0.08 if i % 2 else 0.0)
        p.oval(x, y + 0.1, 0.55, 0.2, fg)
        p.oval(x, y, 0.55, 0.2, fg)
        p.oval(x, y - 0.02, 0.55, 0.2, bg)
        p.oval(x, y - 0.04, 0.47, 0.15, fg)
    p.disc(0.55, 0.35, 0.36, bg)
    p.disc(0.55, 0.35, 0.3, fg)
    p.line([(0.55, 0.2), (0.55, 0.5)], 0.08, bg)


def _flame(p: _Pen, fg: str, bg: str) -> None:
    outer = [
        (0.0, -0.9),
        (0.3, -0.45),
        (0.62, -0.05),
        (0.68, 0.35),
        (0.45, 0.72),
        (0.0, 0.85),
        (-0.45, 0.72),
        (-0.68, 0.35),
        (-0.55, -0.1),
        (-0.3, 0.1),
        (-0.25, -0.35),
    ]
    p.poly(outer, fg)
    p.poly([(0.05, -0.1), (0.3, 0.3), (0.3, 0.6), (0.0, 0.72), (-0.3, 0.6), (-0.25, 0.3)], bg)


def _calendar(p: _Pen, fg: str, bg: str) -> None:
    p.box(-0.78, -0.6, 0.78, 0.75, fg, 0.12)
    p.box(-0.66, -0.25, 0.66, 0.63, bg, 0.04)
    for x in (-0.4, 0.4):
        p.box(x - 0.08, -0.8, x + 0.08, -0.45, fg, 0.05)
    for row, y in enumerate((-0.08, 0.2, 0.46)):
        for col, x in enumerate((-0.45, -0.15, 0.15, 0.45)):
            if (row, col) != (2, 3):
                p.box(x - 0.1, y - 0.09, x + 0.1, y + 0.09, fg, 0.03)


def _gem(p: _Pen, fg: str, bg: str) -> None:
    p.poly([(-0.8, -0.2), (-0.45, -0.62), (0.45, -0.62), (0.8, -0.2), (0.0, 0.8)], fg)
    p.line([(-0.8, -0.2), (0.8, -0.2)], 0.06, bg)
    p.line([(-0.2, -0.62), (-0.32, -0.2), (0.0, 0.8)], 0.05, bg)
    p.line([(0.2, -0.62), (0.32, -0.2), (0.0, 0.8)], 0.05, bg)


def _trophy(p: _Pen, fg: str, bg: str) -> None:
    p.arc(-0.52, -0.3, 0.3, 90, 270, 0.12, fg)
    p.arc(0.52, -0.3, 0.3, -90, 90, 0.12, fg)
    p.poly(
        [(-0.55, -0.7), (0.55, -0.7), (0.45, -0.05), (0.15, 0.22), (-0.15, 0.22), (-0.45, -0.05)],
        fg,
    )
    p.box(-0.1, 0.2, 0.1, 0.5, fg)
    p.box(-0.45, 0.5, 0.45, 0.75, fg, 0.06)
    p.poly(_star_points(0.22), bg)


def _star_glyph(p: _Pen, fg: str, bg: str) -> None:
    p.poly(_star_points(0.85, 0.45), fg)


_GLYPHS: dict[str, Callable[[_Pen, str, str], None]] = {
    "pen": _pen,
    "book": _book,
    "camera": _camera,
    "megaphone": _megaphone,
    "share": _share,
    "people": _people,
    "bag": _bag,
    "heart": _heart,
    "coins": _coins,
    "flame": _flame,
    "calendar": _calendar,
    "gem": _gem,
    "trophy": _trophy,
    "star": _star_glyph,
}
GLYPHS: tuple[str, ...] = tuple(_GLYPHS)


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
    outline = _SHAPES[shape]
    metal = _metal(level, levels)

    def fill(points: list[Point], colour: str, dy: float = 0.0) -> None:
        draw.polygon([(c + x, c - big * 0.03 + y + dy) for x, y in points], fill=colour)

    if shape == "medal":  # ribbon tails behind the disc
        tails = [(-0.55, 0.2), (-0.15, 0.3), (-0.3, 1.02), (-0.5, 0.9), (-0.7, 1.02)]
        fill([(x * r, y * r) for x, y in tails], _shade(primary, 0.7))
        fill([(-x * r, y * r) for x, y in tails], _shade(primary, 0.7))
    fill(outline(r), _shade(metal, 0.55), dy=big * 0.015)  # a soft lower edge
    fill(outline(r), metal)
    fill(outline(r * 0.9), _shade(metal, 0.8))
    fill(outline(r * 0.86), primary)
    fill(outline(r * 0.78), _shade(primary, 1.12))
    medallion = r * 0.52
    cy = c - big * 0.06
    draw.ellipse((c - medallion, cy - medallion, c + medallion, cy + medallion), fill=secondary)
    _GLYPHS[glyph](_Pen(draw, c, cy, medallion * 0.68), _shade(primary, 0.85), secondary)
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
        draw.polygon([(x + px, cy + py) for px, py in _star_points(h * 0.8, 0.45)], fill=colour)


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
