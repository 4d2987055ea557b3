"""Community titles from percentile bands, as data.

A member's percentile is their competition position over the members with a
score, in percent; the first band whose ``top_percent`` it does not exceed
names them. No score at all: ``NO_SCORE``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["DEFAULT_BANDS", "NO_SCORE", "Band", "title_for", "validate_bands"]


@dataclass(frozen=True, slots=True)
class Band:
    title: str
    top_percent: float


DEFAULT_BANDS: tuple[Band, ...] = (
    Band("Legend", 1),
    Band("Expert", 10),
    Band("Contributor", 50),
    Band("Member", 100),
)
NO_SCORE = "Newcomer"


def validate_bands(bands: Sequence[Band]) -> Sequence[Band]:
    """Titles set, percents rising strictly, the last band covering everyone (100)."""
    if not bands or bands[-1].top_percent != 100:
        raise ValueError("the last band must cover the top 100%")
    previous = 0.0
    for band in bands:
        if not band.title.strip():
            raise ValueError("every band needs a title")
        if not previous < band.top_percent <= 100:
            raise ValueError("band percents must rise strictly from above 0 to 100")
        previous = band.top_percent
    return bands


def title_for(position: int | None, total: int, bands: Sequence[Band] = DEFAULT_BANDS) -> str:
    if position is None or total <= 0:
        return NO_SCORE
    percent = position * 100 / total
    return next(b.title for b in bands if percent <= b.top_percent)
