"""Badge outlines: each shape as a polygon for a radius, centred on (0, 0).

Shapes are plain point lists, so one outline is drawn several times at
shrinking radii to make the metal rim, the bevel and the face.
"""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = ["SHAPES", "Point", "outline", "polar", "star_points"]

Point = tuple[float, float]


def _regular(sides: int, rotation: float = -90.0) -> Callable[[float], list[Point]]:
    def points(r: float) -> list[Point]:
        step = 360.0 / sides
        return [polar(r, rotation + i * step) for i in range(sides)]

    return points


def polar(r: float, degrees: float) -> Point:
    """The point at distance ``r`` and angle ``degrees`` (clockwise from +x, y down)."""
    a = math.radians(degrees)
    return (r * math.cos(a), r * math.sin(a))


def star_points(r: float, inner: float = 0.5, tips: int = 5) -> list[Point]:
    """A star with ``tips`` points of radius ``r``, its inner corners at ``inner * r``."""
    return [polar(r if i % 2 == 0 else r * inner, -90 + i * 180 / tips) for i in range(tips * 2)]


def _wavy(r: float, lobes: int, depth: float) -> list[Point]:
    return [
        polar(r * (1 - depth + depth * abs(math.cos(math.radians(d) * lobes / 2))), d)
        for d in range(0, 360, 3)
    ]


def _cog(r: float) -> list[Point]:
    out: list[Point] = []
    for i in range(10):
        base = i * 36
        for d, k in ((-14, 0.82), (-9, 1.0), (9, 1.0), (14, 0.82)):
            out.append(polar(r * k, base + d - 90))
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
        out += [_offset(polar(radius, start + d), ox, oy) for d in range(0, 91, 15)]
    return out


def _offset(p: Point, dx: float, dy: float) -> Point:
    return (p[0] + dx, p[1] + dy)


# Outline of each shape for a radius r, centred on (0, 0).
_SHAPES: dict[str, Callable[[float], list[Point]]] = {
    "circle": lambda r: [polar(r, d) for d in range(0, 360, 3)],
    "square": _square,
    "diamond": _regular(4),
    "pentagon": _regular(5),
    "hexagon": _regular(6, 0),
    "heptagon": _regular(7),
    "octagon": _regular(8, 22.5),
    "shield": _shield,
    "star": lambda r: star_points(r, 0.72, 8),
    "flower": lambda r: _wavy(r, 8, 0.14),
    "burst": lambda r: star_points(r, 0.84, 16),
    "cog": _cog,
    "medal": lambda r: [polar(r * 0.9, d) for d in range(0, 360, 3)],
}
SHAPES: tuple[str, ...] = tuple(_SHAPES)


def outline(shape: str) -> Callable[[float], list[Point]]:
    """The outline of a shape named in an art spec (one of ``SHAPES``)."""
    return _SHAPES[shape]
