"""Badges: the catalog as data, the granter, progress, images and Open Badges export.

Depends on the domain (``server.rewards``) for members and the ledger; knows
nothing of GraphQL, HTTP or Redis.
"""

from PIL import Image

from badges.art import contact_sheet, render
from badges.catalog import create_badge, ensure_badges
from badges.defaults import DEFAULT_BADGES
from badges.granter import Outcome, evaluate, grant, revoke
from badges.holdings import Grant, Progress, grants_of_activity, held_badges, progress
from badges.metrics import ALL_METRICS, CAUSES
from badges.models import BadgeAssertion, BadgeAward, BadgeDefinition
from badges.spec import Art, BadgeSpec, Metric

__all__ = [
    "ALL_METRICS",
    "CAUSES",
    "DEFAULT_BADGES",
    "Art",
    "BadgeAssertion",
    "BadgeAward",
    "BadgeDefinition",
    "BadgeSpec",
    "Grant",
    "Metric",
    "Outcome",
    "Progress",
    "create_badge",
    "default_contact_sheet",
    "ensure_badges",
    "evaluate",
    "grant",
    "grants_of_activity",
    "held_badges",
    "progress",
    "revoke",
]


def default_contact_sheet(size: int = 128) -> Image.Image:
    """Every default badge at every level, one row per badge."""
    rows = []
    for spec in DEFAULT_BADGES:
        art, levels = spec.art, len(spec.thresholds)
        images = [
            render(art.shape, art.glyph, art.primary, art.secondary, level, levels, size)
            for level in range(1, levels + 1)
        ]
        rows.append((spec.name, images))
    return contact_sheet(rows, cell=size + size // 4)
