"""The default catalog is valid data that covers every kind of activity, and the
validator names the field of each mistake."""

from __future__ import annotations

from dataclasses import replace

import pytest

from badges import CAUSES, DEFAULT_BADGES, Art, Metric
from badges.catalog import validate
from badges.glyphs import GLYPHS
from badges.shapes import SHAPES
from server.rewards.activities import ActivityKind
from server.rewards.errors import Invalid


@pytest.mark.parametrize("spec", DEFAULT_BADGES, ids=lambda s: s.slug)
def test_every_default_badge_is_valid(spec: object) -> None:
    assert validate(spec) is spec  # type: ignore[arg-type]


def test_defaults_cover_every_activity_kind_with_distinct_art() -> None:
    metrics = {spec.metric for spec in DEFAULT_BADGES}
    for kind in ActivityKind:
        assert CAUSES[kind] & metrics, kind
    assert Metric.CONTESTS_WON in metrics
    assert len({spec.slug for spec in DEFAULT_BADGES}) == len(DEFAULT_BADGES) >= 12
    assert len({spec.art.shape for spec in DEFAULT_BADGES}) == len(DEFAULT_BADGES)
    assert len({spec.art.primary for spec in DEFAULT_BADGES}) == len(DEFAULT_BADGES)
    assert sum(1 for spec in DEFAULT_BADGES if len(spec.thresholds) == 3) >= 9


BASE = DEFAULT_BADGES[1]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"slug": "A b"}, "slug"),
        ({"name": " "}, "name"),
        ({"description": "x" * 301}, "description"),
        ({"thresholds": ()}, "levels"),
        ({"thresholds": (1, 2, 3, 4, 5, 6)}, "levels"),
        ({"thresholds": (5, 5, 10)}, "levels"),
        ({"thresholds": (0, 5, 10)}, "levels"),
        ({"bonus_points": (1, 2)}, "bonusPoints"),
        ({"bonus_points": (1, 2, -3)}, "bonusPoints"),
        ({"art": Art("blob", "pen", "#000000", "#ffffff")}, "art.shape"),
        ({"art": Art("circle", "sword", "#000000", "#ffffff")}, "art.glyph"),
        ({"art": Art("circle", "pen", "black", "#ffffff")}, "art.primaryColor"),
        ({"art": Art("circle", "pen", "#000000", "#fff")}, "art.secondaryColor"),
    ],
)
def test_a_bad_definition_names_its_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(Invalid) as raised:
        validate(replace(BASE, **change))  # type: ignore[arg-type]
    assert raised.value.field == field


def test_every_shape_and_glyph_can_be_drawn() -> None:
    from badges.art import render

    for i, shape in enumerate(SHAPES):
        glyph = GLYPHS[i % len(GLYPHS)]
        image = render(shape, glyph, "#224466", "#eeeeee", 1, 3, 64)
        assert image.size == (64, 64)
        assert image.getbbox() is not None
    for glyph in GLYPHS:
        assert render("circle", glyph, "#224466", "#eeeeee", 3, 3, 64).getbbox() is not None
