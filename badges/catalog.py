"""The badge catalog as data: validation, seeding the defaults, run-time changes.

A definition names a metric over the member's history, the threshold of each
level (lowest first), the points each level grants, whether the badge is taken
back when its criterion stops holding, and an art spec for its image. Every
change is validated and logged in ``BadgeChange``.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import asdict, replace
from typing import Any

from tortoise.exceptions import IntegrityError

from badges.defaults import DEFAULT_BADGES
from badges.glyphs import GLYPHS
from badges.models import BadgeChange, BadgeDefinition
from badges.shapes import SHAPES
from badges.spec import MAX_LEVELS, Art, BadgeSpec, Metric
from server.rewards import snapshots
from server.rewards.errors import Conflict, Invalid, NotFound
from server.rewards.text import msg, msg_n
from server.rewards.validation import clean_text

__all__ = [
    "create_badge",
    "ensure_badges",
    "spec_of",
    "update_badge",
    "validate",
    "validate_art",
]
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,46}[a-z0-9]$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def validate(spec: BadgeSpec) -> BadgeSpec:
    """Raise ``Invalid`` naming the field when a definition cannot be used."""
    if not _SLUG.match(spec.slug):
        raise Invalid("slug", msg("slug: 3-48 lowercase letters, digits and dashes."))
    name = clean_text("name", spec.name, max_length=60, display=True)
    description = clean_text(
        "description", spec.description, max_length=300, multiline=True, allow_empty=True
    )
    if not 1 <= len(spec.thresholds) <= MAX_LEVELS:
        raise Invalid(
            "levels",
            msg_n(
                "A badge has 1 to {most} levels.",
                "A badge has 1 to {most} levels.",
                MAX_LEVELS,
                most=MAX_LEVELS,
            ),
        )
    if any(t < 1 or t > 10_000_000 for t in spec.thresholds):
        raise Invalid("levels", msg("Thresholds must be between 1 and 10,000,000."))
    if any(a >= b for a, b in zip(spec.thresholds, spec.thresholds[1:], strict=False)):
        raise Invalid("levels", msg("Thresholds must rise from one level to the next."))
    if len(spec.bonus_points) != len(spec.thresholds):
        raise Invalid("bonusPoints", msg("Give one bonus per level (0 for none)."))
    if any(not 0 <= b <= 100_000 for b in spec.bonus_points):
        raise Invalid("bonusPoints", msg("A level's bonus must be between 0 and 100,000 points."))
    validate_art(spec.art)
    if (name, description) == (spec.name, spec.description):
        return spec
    return replace(spec, name=name, description=description)


def validate_art(art: Art) -> None:
    """Raise ``Invalid`` naming the field (``art.shape``...) when the art cannot be drawn."""
    if art.shape not in SHAPES:
        raise Invalid("art.shape", msg("shape must be one of {names}.", names=", ".join(SHAPES)))
    if art.glyph not in GLYPHS:
        raise Invalid("art.glyph", msg("glyph must be one of {names}.", names=", ".join(GLYPHS)))
    for colour in ("primary", "secondary"):
        if not _COLOUR.match(getattr(art, colour)):
            raise Invalid(
                f"art.{colour}Color", msg("{field} must look like #1a2b3c.", field=f"{colour}Color")
            )


def spec_of(row: BadgeDefinition) -> BadgeSpec:
    return BadgeSpec(
        slug=row.slug,
        name=row.name,
        description=row.description,
        metric=Metric(row.metric),
        thresholds=tuple(row.thresholds),
        bonus_points=tuple(row.bonus_points),
        art=Art(**row.art),
        revocable=row.revocable,
        enabled=row.enabled,
    )


def _columns(spec: BadgeSpec) -> dict[str, Any]:
    return {
        "name": spec.name.strip(),
        "description": spec.description.strip(),
        "metric": spec.metric.value,
        "thresholds": list(spec.thresholds),
        "bonus_points": list(spec.bonus_points),
        "revocable": spec.revocable,
        "art": asdict(spec.art),
        "enabled": spec.enabled,
    }


async def ensure_badges() -> None:
    """Insert each default badge that is missing; existing definitions are kept."""
    for spec in DEFAULT_BADGES:
        if await BadgeDefinition.exists(slug=spec.slug):
            continue
        with contextlib.suppress(IntegrityError):  # seeded concurrently by another process
            await BadgeDefinition.create(slug=spec.slug, **_columns(validate(spec)))
    snapshots.changed()


async def create_badge(spec: BadgeSpec, actor: str) -> BadgeDefinition:
    spec = validate(spec)
    try:
        row = await BadgeDefinition.create(slug=spec.slug, updated_by=actor, **_columns(spec))
    except IntegrityError:
        raise Conflict(msg("A badge with slug {slug!r} exists already.", slug=spec.slug)) from None
    await BadgeChange.create(slug=spec.slug, actor=actor, changes={"created": _columns(spec)})
    snapshots.changed()
    return row


async def update_badge(slug: str, changes: dict[str, Any], actor: str) -> BadgeDefinition:
    """Apply ``changes`` (BadgeSpec field names) to a definition; log what changed.

    Levels already held stay held: new thresholds count from the next evaluation,
    and only a revocable badge can be taken back by them.
    """
    row = None if len(slug) > 48 else await BadgeDefinition.get_or_none(slug=slug)
    if row is None:
        raise NotFound(msg("No badge {slug!r}.", slug=slug[:48]))
    before = spec_of(row)
    after = validate(replace(before, **changes))
    old, new = _columns(before), _columns(after)
    diff = {k: [old[k], new[k]] for k in new if old[k] != new[k]}
    if diff:
        version = row.art_version + (1 if "art" in diff else 0)
        await BadgeDefinition.filter(id=row.id).update(updated_by=actor, art_version=version, **new)
        await BadgeChange.create(slug=slug, actor=actor, changes=diff)
        await row.refresh_from_db()
        snapshots.changed()
    return row
