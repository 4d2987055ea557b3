"""Badge glyphs: the small picture in the medallion, drawn in glyph units (-1..1).

Each glyph draws with two colours: the foreground and the medallion's own
colour, used to cut shapes out of the foreground.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from PIL import ImageDraw

from badges.shapes import Point, star_points

__all__ = ["GLYPHS", "Pen", "draw_glyph"]


class Pen:
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


def _pen(p: Pen, fg: str, bg: str) -> None:
    body = [(-0.75, -0.15), (0.45, -0.15), (0.8, 0.0), (0.45, 0.15), (-0.75, 0.15)]
    p.poly(_rotated(body, -45), fg)
    p.poly(_rotated([(0.45, -0.15), (0.8, 0.0), (0.45, 0.15)], -45), bg)
    p.poly(_rotated([(0.64, -0.07), (0.8, 0.0), (0.64, 0.07)], -45), fg)
    p.line(_rotated([(-0.5, -0.15), (-0.5, 0.15)], -45), 0.07, bg)
    p.line([(-0.75, 0.82), (0.7, 0.82)], 0.09, fg)


def _book(p: Pen, fg: str, bg: str) -> None:
    p.poly([(-0.85, -0.55), (-0.05, -0.42), (-0.05, 0.68), (-0.85, 0.55)], fg)
    p.poly([(0.85, -0.55), (0.05, -0.42), (0.05, 0.68), (0.85, 0.55)], fg)
    for y in (-0.2, 0.05, 0.3):
        p.line([(-0.7, y - 0.08), (-0.2, y)], 0.06, bg)
        p.line([(0.7, y - 0.08), (0.2, y)], 0.06, bg)


def _camera(p: Pen, fg: str, bg: str) -> None:
    p.box(-0.3, -0.62, 0.3, -0.3, fg, 0.08)
    p.box(-0.85, -0.42, 0.85, 0.65, fg, 0.16)
    p.disc(0.0, 0.1, 0.38, bg)
    p.disc(0.0, 0.1, 0.24, fg)
    p.disc(0.6, -0.22, 0.08, bg)


def _megaphone(p: Pen, fg: str, bg: str) -> None:
    p.poly([(-0.5, -0.22), (0.55, -0.7), (0.55, 0.7), (-0.5, 0.22)], fg)
    p.box(-0.82, -0.22, -0.45, 0.22, fg, 0.06)
    p.poly([(-0.45, 0.2), (-0.2, 0.2), (-0.1, 0.7), (-0.35, 0.7)], fg)
    p.arc(0.55, 0.0, 0.3, -50, 50, 0.09, fg)


def _share(p: Pen, fg: str, bg: str) -> None:
    p.line([(-0.5, 0.0), (0.5, -0.55)], 0.14, fg)
    p.line([(-0.5, 0.0), (0.5, 0.55)], 0.14, fg)
    for x, y in ((0.5, -0.55), (0.5, 0.55), (-0.5, 0.0)):
        p.disc(x, y, 0.26, fg)


def _people(p: Pen, fg: str, bg: str) -> None:
    p.disc(0.32, -0.38, 0.22, fg)
    p.oval(0.32, 0.42, 0.42, 0.4, fg)
    p.disc(-0.3, -0.28, 0.27, bg)
    p.oval(-0.3, 0.55, 0.56, 0.5, bg)
    p.disc(-0.3, -0.28, 0.22, fg)
    p.oval(-0.3, 0.55, 0.48, 0.42, fg)
    p.box(-0.95, 0.72, 0.95, 1.0, bg)


def _bag(p: Pen, fg: str, bg: str) -> None:
    p.arc(0.0, -0.3, 0.32, 180, 360, 0.1, fg)
    p.poly([(-0.65, -0.25), (0.65, -0.25), (0.78, 0.75), (-0.78, 0.75)], fg)
    p.disc(-0.32, -0.05, 0.07, bg)
    p.disc(0.32, -0.05, 0.07, bg)


def _heart(p: Pen, fg: str, bg: str) -> None:
    p.disc(-0.36, -0.22, 0.4, fg)
    p.disc(0.36, -0.22, 0.4, fg)
    p.poly([(-0.74, -0.08), (0.74, -0.08), (0.0, 0.78)], fg)
    p.disc(-0.4, -0.3, 0.12, bg)


def _coins(p: Pen, fg: str, bg: str) -> None:
    for i, y in enumerate((0.55, 0.25, -0.05, -0.35)):
        x = -0.15 + (0.08 if i % 2 else 0.0)
        p.oval(x, y + 0.1, 0.55, 0.2, fg)
        p.oval(x, y, 0.55, 0.2, fg)
        p.oval(x, y - 0.02, 0.55, 0.2, bg)
        p.oval(x, y - 0.04, 0.47, 0.15, fg)
    p.disc(0.55, 0.35, 0.36, bg)
    p.disc(0.55, 0.35, 0.3, fg)
    p.line([(0.55, 0.2), (0.55, 0.5)], 0.08, bg)


def _flame(p: Pen, fg: str, bg: str) -> None:
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


def _calendar(p: Pen, fg: str, bg: str) -> None:
    p.box(-0.78, -0.6, 0.78, 0.75, fg, 0.12)
    p.box(-0.66, -0.25, 0.66, 0.63, bg, 0.04)
    for x in (-0.4, 0.4):
        p.box(x - 0.08, -0.8, x + 0.08, -0.45, fg, 0.05)
    for row, y in enumerate((-0.08, 0.2, 0.46)):
        for col, x in enumerate((-0.45, -0.15, 0.15, 0.45)):
            if (row, col) != (2, 3):
                p.box(x - 0.1, y - 0.09, x + 0.1, y + 0.09, fg, 0.03)


def _gem(p: Pen, fg: str, bg: str) -> None:
    p.poly([(-0.8, -0.2), (-0.45, -0.62), (0.45, -0.62), (0.8, -0.2), (0.0, 0.8)], fg)
    p.line([(-0.8, -0.2), (0.8, -0.2)], 0.06, bg)
    p.line([(-0.2, -0.62), (-0.32, -0.2), (0.0, 0.8)], 0.05, bg)
    p.line([(0.2, -0.62), (0.32, -0.2), (0.0, 0.8)], 0.05, bg)


def _trophy(p: Pen, fg: str, bg: str) -> None:
    p.arc(-0.52, -0.3, 0.3, 90, 270, 0.12, fg)
    p.arc(0.52, -0.3, 0.3, -90, 90, 0.12, fg)
    p.poly(
        [(-0.55, -0.7), (0.55, -0.7), (0.45, -0.05), (0.15, 0.22), (-0.15, 0.22), (-0.45, -0.05)],
        fg,
    )
    p.box(-0.1, 0.2, 0.1, 0.5, fg)
    p.box(-0.45, 0.5, 0.45, 0.75, fg, 0.06)
    p.poly(star_points(0.22), bg)


def _star_glyph(p: Pen, fg: str, bg: str) -> None:
    p.poly(star_points(0.85, 0.45), fg)


_GLYPHS: dict[str, Callable[[Pen, str, str], None]] = {
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


def draw_glyph(glyph: str, pen: Pen, fg: str, bg: str) -> None:
    """Draw a glyph named in an art spec (one of ``GLYPHS``) with ``pen``."""
    _GLYPHS[glyph](pen, fg, bg)
