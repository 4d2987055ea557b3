"""Badges: the catalog, definitions by admins, grants after activities, revocation,
progress, images and Open Badges export."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from badges import (
    ALL_METRICS,
    Art,
    BadgeAssertion,
    BadgeAward,
    BadgeDefinition,
    BadgeSpec,
    Grant,
    Progress,
    create_badge,
    evaluate,
    held_badges,
    progress,
    revoke,
)
from badges import catalog as _catalog
from badges import openbadges as ob
from badges.art import MAX_SIZE, MIN_SIZE
from badges.images import DEFAULT_SIZE, BadgeImage, draw
from badges.spec import MAX_LEVELS
from server.actions.common import find_by_id, require
from server.actions.effects import announce_badges
from server.actions.services import Services
from server.auth import Principal, Role
from server.events import LIVE_MAX_AGE
from server.rewards import validation as v
from server.rewards.errors import Invalid, NotFound, PermissionDenied
from server.rewards.members import Member
from server.rewards.text import msg

__all__ = [
    "Exported",
    "HostedAssertion",
    "Revoked",
    "badge_art_preview",
    "badge_awards",
    "badge_catalog",
    "badge_image",
    "badge_progress",
    "badges_by_slug",
    "define_badge",
    "export_badge",
    "hosted_assertion",
    "member_badges",
    "reevaluate_badges",
    "revoke_badge",
    "update_badge",
]

# A slug anything could name: the catalog's alphabet, at most the column's length. Anything
# else (a NUL, a control character, 5,000 characters) names no badge without a query.
_SLUG_SHAPE = re.compile(r"[a-z0-9_-]{1,48}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")  # secrets.token_urlsafe


async def badge_catalog() -> list[BadgeDefinition]:
    """Enabled badges in catalog order."""
    return await BadgeDefinition.filter(enabled=True).order_by("id")


async def badges_by_slug(slugs: Sequence[str]) -> dict[str, BadgeDefinition]:
    """Badge definitions (disabled ones too) by slug in one query (for DataLoaders)."""
    asked = [slug for slug in slugs if _SLUG_SHAPE.fullmatch(slug)]
    if not asked:
        return {}
    return {b.slug: b for b in await BadgeDefinition.filter(slug__in=asked)}


async def define_badge(principal: Principal, spec: BadgeSpec) -> BadgeDefinition:
    """ADMIN: a new badge, validated; members earn it from their next activity on."""
    require(principal, Role.ADMIN)
    return await create_badge(spec, principal.actor)


async def update_badge(principal: Principal, slug: str, changes: dict[str, Any]) -> BadgeDefinition:
    """ADMIN: change or disable a badge. Held levels stay held unless the badge is
    revocable and the member no longer meets the new threshold."""
    require(principal, Role.ADMIN)
    return await _catalog.update_badge(slug, changes, principal.actor)


@dataclass(frozen=True, slots=True)
class Revoked:
    """What ``revoke_badge`` took away: the badge, and the levels revoked (none on a repeat)."""

    badge: BadgeDefinition
    revoked: list[Grant]

    @property
    def levels(self) -> list[int]:
        return [g.level for g in self.revoked]


async def revoke_badge(
    svc: Services, principal: Principal, *, member_id: str, slug: str, reason: str
) -> Revoked:
    """MODERATOR: take a badge away with a reason; its bonuses are reversed and rules
    do not give it back. Repeating it revokes nothing more."""
    require(principal, Role.MODERATOR, Role.ADMIN)
    why = v.clean_text("reason", reason, max_length=500)
    member = await find_by_id(Member, "memberId", member_id, "member")
    badge, outcome = await revoke(
        member.id, slug.strip(), actor=principal.actor, reason=why, now=svc.clock()
    )
    await announce_badges(svc, outcome)
    return Revoked(badge=badge, revoked=outcome.revoked)


async def member_badges(member_ids: Sequence[int]) -> dict[int, list[Grant]]:
    """Per member, the highest level held of each badge, in one query (for DataLoaders)."""
    return await held_badges(member_ids)


async def badge_progress(member_id: int) -> list[Progress]:
    """How far the member is towards the next level of every enabled badge."""
    return await progress(member_id)


async def reevaluate_badges(
    svc: Services, *, on_member: Callable[[int, int], None] | None = None
) -> tuple[int, int]:
    """Every member against every enabled badge: (levels granted, levels revoked)."""
    granted = revoked = 0
    ids: list[int] = [
        int(str(pk)) for pk in await Member.all().order_by("id").values_list("id", flat=True)
    ]
    for done, member_id in enumerate(ids, start=1):
        outcome = await evaluate(member_id, ALL_METRICS, now=svc.clock(), keep_for=svc.keep_for)
        await announce_badges(svc, outcome)
        granted += len(outcome.granted)
        revoked += len(outcome.revoked)
        if on_member is not None:
            on_member(done, len(ids))
    return granted, revoked


async def badge_image(svc: Services, slug: str, level: int, size: int | None) -> BadgeImage:
    """The badge's PNG at a level; ``NotFound`` for an unknown badge or level."""
    badge = await BadgeDefinition.get_or_none(slug=slug) if _SLUG_SHAPE.fullmatch(slug) else None
    if badge is None or not 1 <= level <= len(badge.thresholds):
        raise NotFound(
            msg("No badge {slug} with level {level}.", slug=v.excerpt(slug), level=level)
        )
    wanted = DEFAULT_SIZE if size is None else size
    if not MIN_SIZE <= wanted <= MAX_SIZE:
        raise Invalid("size", msg("size must be {least} to {most}", least=MIN_SIZE, most=MAX_SIZE))
    return await svc.images.get(badge, level, wanted)


async def badge_art_preview(principal: Principal, art: Art, *, level: int, levels: int) -> bytes:
    """ADMIN: the PNG a design draws at ``level`` of a badge with ``levels`` levels, at the
    image route's default size, before any badge has it: the very bytes
    ``/badges/{slug}/{level}.png`` serves for a badge with that art and as many levels."""
    require(principal, Role.ADMIN)
    _catalog.validate_art(art)
    if not 1 <= levels <= MAX_LEVELS:
        raise Invalid("levels", msg("levels must be between 1 and {most}.", most=MAX_LEVELS))
    if not 1 <= level <= levels:
        raise Invalid("level", msg("level must be between 1 and levels ({levels}).", levels=levels))
    return (await draw(art, level, levels, DEFAULT_SIZE)).png


@dataclass(frozen=True, slots=True)
class Exported:
    """An exported badge: the token of its hosted Open Badges assertion, and the grant."""

    token: str
    grant: Grant


async def export_badge(principal: Principal, slug: str) -> Exported:
    """SHOPPER: an Open Badges assertion of the highest level held of a badge.

    One assertion per grant: exporting again returns the same id.
    """
    if principal.role is not Role.SHOPPER or principal.member_id is None:
        raise PermissionDenied(msg("Only a signed-in shopper can export their own badge."))
    held = (await held_badges([principal.member_id]))[principal.member_id]
    grant = next((g for g in held if g.badge.slug == slug.strip()), None)
    if grant is None:
        raise NotFound(msg("You do not hold the badge {slug}.", slug=v.excerpt(slug)))
    award = grant.award
    for _ in range(2):
        found = await BadgeAssertion.get_or_none(award_id=award.id, generation=award.generation)
        if found is not None:
            return Exported(token=found.token, grant=grant)
        try:
            made = await BadgeAssertion.create(
                token=secrets.token_urlsafe(18), award_id=award.id, generation=award.generation
            )
            return Exported(token=made.token, grant=grant)
        except IntegrityError:  # exported concurrently: take theirs
            continue
    raise RuntimeError("could not store the badge assertion")


@dataclass(frozen=True, slots=True)
class HostedAssertion:
    """An assertion's public document, whether its grant was revoked, and what it asserts."""

    document: dict[str, Any]
    revoked: bool
    award: BadgeAward
    badge: BadgeDefinition


async def hosted_assertion(svc: Services, base_url: str, token: str) -> HostedAssertion:
    """The assertion's public JSON; revoked when its grant was revoked since."""
    known = v.code("token", token, max_length=40, pattern=_TOKEN)
    found = (
        None
        if known is None
        else await BadgeAssertion.get_or_none(token=known).prefetch_related("award__badge")
    )
    if found is None:
        raise NotFound(msg("No such assertion."))
    award, badge = found.award, found.award.badge
    if award.revoked_at is not None or award.generation != found.generation:
        return HostedAssertion(
            ob.revoked(base_url, token, award.revoked_reason), True, award, badge
        )
    member = await Member.get(id=award.member_id)
    identity = member.email or f"{base_url}/members/{member.id}"
    document = ob.assertion(base_url, token, award, badge, identity)
    return HostedAssertion(document, False, award, badge)


def badge_awards(svc: Services, principal: Principal) -> AsyncIterator[Grant]:
    """SHOPPER: the levels granted to the caller from now on, whichever worker granted them."""
    if principal.role is not Role.SHOPPER or principal.member_id is None:
        raise PermissionDenied(msg("Only a signed-in shopper can follow their own badges."))
    return _grants_of(svc, principal.member_id)


async def _grants_of(svc: Services, member_id: int) -> AsyncIterator[Grant]:
    """Each level once: as published, and after a Redis outage (``None``) the levels
    granted since the subscription began that were not yet sent, from SQL (no older
    than ``LIVE_MAX_AGE``, as the live consumer would have skipped them too)."""
    since = datetime.now(UTC)
    sent: set[int] = set()
    async for award_id in svc.events.badge_awards(member_id):
        if award_id is None:
            after = max(since, datetime.now(UTC) - LIVE_MAX_AGE)
            found = BadgeAward.filter(member_id=member_id, awarded_at__gte=after).order_by("id")
        else:
            found = BadgeAward.filter(id=award_id)
        for award in await found.prefetch_related("badge"):
            if award.held and award.id not in sent:
                sent.add(award.id)
                yield Grant(award, award.badge)
