"""The granter: award, upgrade and revoke badge levels exactly once.

``evaluate`` runs after an activity has committed, in its own transaction
under the member's row lock, and looks only at badges whose metric the
activity can change. A level is a row unique on (member, badge, level), its
bonus a ledger entry keyed by the row and its generation: concurrent or
repeated evaluations find the row and credit nothing more.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from badges.holdings import Grant
from badges.metrics import metric_values
from badges.models import AUTOMATIC, BadgeAward, BadgeDefinition, enabled_badges
from badges.spec import Metric
from server.rewards.engine import levels_reached
from server.rewards.errors import NotFound
from server.rewards.events import EventType, record
from server.rewards.experiments import TargetKind
from server.rewards.holdouts import held_out
from server.rewards.ledger import EntryKind
from server.rewards.members import Member
from server.rewards.posting import Posting, lock_member, post, reversal

__all__ = ["Outcome", "evaluate", "grant", "revoke"]

_CASCADE_ROUNDS = 4


@dataclass(slots=True)
class Outcome:
    granted: list[Grant] = field(default_factory=list)
    revoked: list[Grant] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.granted or self.revoked)


async def evaluate(
    member_id: int,
    metrics: Iterable[Metric],
    *,
    now: datetime,
    keep_for: timedelta | None,
    activity_id: int | None = None,
) -> Outcome:
    """Grant every level now reached and revoke revocable levels no longer reached.

    A level's bonus raises lifetime points, which may reach a points milestone:
    that badge is evaluated again, a few rounds at most.
    """
    outcome = Outcome()
    todo = set(metrics)
    for _ in range(_CASCADE_ROUNDS):
        step = await _evaluate_once(member_id, todo, now, keep_for, activity_id)
        outcome.granted += step.granted
        outcome.revoked += step.revoked
        if not step:
            break
        todo = {Metric.LIFETIME_POINTS}
    return outcome


async def _evaluate_once(
    member_id: int,
    metrics: set[Metric],
    now: datetime,
    keep_for: timedelta | None,
    activity_id: int | None,
) -> Outcome:
    wanted = {m.value for m in metrics}
    badges = [b for b in await enabled_badges() if b.metric in wanted]
    outcome = Outcome()
    if not badges or not await _due(member_id, badges):
        return outcome
    async with in_transaction():
        member = await lock_member(member_id)
        for badge, level, row, reached in await _changes(member_id, badges):
            if reached:
                award = await _grant(member, badge, level, row, now, keep_for, activity_id)
                if award is not None:
                    outcome.granted.append(Grant(award, badge))
            elif row is not None:
                threshold = badge.thresholds[level - 1]
                reason = f"No longer {threshold} {badge.metric.lower().replace('_', ' ')}"
                if await _revoke(row, badge, AUTOMATIC, reason, now):
                    outcome.revoked.append(Grant(row, badge))
    return outcome


_Change = tuple[BadgeDefinition, int, BadgeAward | None, bool]


async def _changes(member_id: int, badges: list[BadgeDefinition]) -> list[_Change]:
    """(badge, level, its row, reached) for each level to grant (reached and not held, not
    taken away by a moderator) or to revoke (revocable, held, no longer reached)."""
    values = await metric_values(member_id, {Metric(b.metric) for b in badges})
    rows = await BadgeAward.filter(member_id=member_id, badge_id__in=[b.id for b in badges])
    found = {(r.badge_id, r.level): r for r in rows}
    changes: list[_Change] = []
    for badge in badges:
        value = values[Metric(badge.metric)]
        reached = levels_reached(badge.thresholds, value)
        for level in range(1, len(badge.thresholds) + 1):
            row = found.get((badge.id, level))
            if level <= reached:
                if row is None or (not row.held and row.revoked_by == AUTOMATIC):
                    changes.append((badge, level, row, True))
            elif badge.revocable and row is not None and row.held:
                changes.append((badge, level, row, False))
    return changes


async def _due(member_id: int, badges: list[BadgeDefinition]) -> bool:
    """Whether a look without the lock finds any level to grant or revoke. Most activities
    change nothing: they skip the locked transaction. A level the look misses because a
    concurrent change had not committed is granted by that change's own evaluation."""
    return bool(await _changes(member_id, badges))


async def _grant(
    member: Member,
    badge: BadgeDefinition,
    level: int,
    row: BadgeAward | None,
    now: datetime,
    keep_for: timedelta | None,
    activity_id: int | None,
) -> BadgeAward | None:
    if await held_out(member.id, TargetKind.BADGE, badge.slug, now):
        return None  # an experiment holds the member out of this badge (README: Experiments)
    bonus = badge.bonus_points[level - 1]
    if row is None:
        row = await BadgeAward.create(
            member_id=member.id,
            badge_id=badge.id,
            level=level,
            bonus_points=bonus,
            awarded_at=now,
            activity_id=activity_id,
        )
    elif row.held or row.revoked_by != AUTOMATIC:
        return None  # held already, or taken away by a moderator: not given back by rules
    else:
        won = await BadgeAward.filter(
            id=row.id, generation=row.generation, revoked_at__isnull=False
        ).update(
            generation=row.generation + 1,
            bonus_points=bonus,
            awarded_at=now,
            activity_id=activity_id,
            revoked_at=None,
            revoked_by=None,
            revoked_reason=None,
        )
        if won != 1:
            return None
        await row.refresh_from_db()
    await record(
        EventType.BADGE_GRANTED,
        member.id,
        {"award_id": row.id, "badge": badge.slug, "level": level, "bonus_points": bonus},
    )
    if bonus > 0:
        await post(
            Posting(
                member_id=member.id,
                kind=EntryKind.EARN,
                amount=bonus,
                lifetime_delta=bonus,
                reason=f"Badge: {badge.name}, level {level}",
                actor="badges",
                idempotency_key=f"badge:{row.id}:{row.generation}",
                request_hash="",
                expires_at=now + keep_for if keep_for else None,
            ),
            community=member.community,
            now=now,
        )
    return row


async def _revoke(
    row: BadgeAward, badge: BadgeDefinition, actor: str, reason: str, now: datetime
) -> bool:
    """Take one held level away (kept in history) and its bonus back; False if not held."""
    won = await BadgeAward.filter(
        id=row.id, generation=row.generation, revoked_at__isnull=True
    ).update(revoked_at=now, revoked_by=actor, revoked_reason=reason)
    if won != 1:
        return False
    await row.refresh_from_db()
    await record(
        EventType.BADGE_REVOKED,
        row.member_id,
        {"award_id": row.id, "badge": badge.slug, "level": row.level, "reason": reason},
    )
    if row.bonus_points > 0:
        member = await lock_member(row.member_id)  # read again: earlier posts moved its balance
        await post(
            reversal(
                member=member,
                points=row.bonus_points,
                from_pending=0,
                lifetime=row.bonus_points,
                reason=f"Badge {badge.name}, level {row.level} revoked: {reason}",
                actor=actor,
                idempotency_key=f"badge-revoke:{row.id}:{row.generation}",
            ),
            community=member.community,
            now=now,
        )
    return True


async def grant(
    member_id: int, slug: str, *, now: datetime, keep_for: timedelta | None
) -> Grant | None:
    """Give the next level of a badge as a prize (a contest's); None when every level is
    held already, or the badge does not exist or is disabled."""
    badge = await BadgeDefinition.get_or_none(slug=slug, enabled=True)
    if badge is None:
        return None
    async with in_transaction():
        member = await lock_member(member_id)
        rows = {r.level: r for r in await BadgeAward.filter(member_id=member_id, badge_id=badge.id)}
        for level in range(1, len(badge.thresholds) + 1):
            row = rows.get(level)
            if row is not None and row.held:
                continue
            if row is not None and row.revoked_by != AUTOMATIC:
                return None  # a moderator took it away: a prize does not give it back
            award = await _grant(member, badge, level, row, now, keep_for, None)
            return None if award is None else Grant(award, badge)
    return None


async def revoke(
    member_id: int, slug: str, *, actor: str, reason: str, now: datetime
) -> tuple[BadgeDefinition, Outcome]:
    """A moderator takes a badge away, every level held; rules never give it back.

    Returns the badge and what was revoked; a second call finds nothing held and
    returns an empty outcome.
    """
    badge = None if len(slug) > 48 else await BadgeDefinition.get_or_none(slug=slug)
    if badge is None:
        raise NotFound(f"No badge {slug[:48]!r}.")
    outcome = Outcome()
    async with in_transaction():
        await lock_member(member_id)
        rows = await BadgeAward.filter(member_id=member_id, badge_id=badge.id).order_by("-level")
        if not rows:
            raise NotFound(f"This member has never held {badge.name}.")
        for row in rows:
            if row.held and await _revoke(row, badge, actor, reason, now):
                outcome.revoked.append(Grant(row, badge))
    return badge, outcome
