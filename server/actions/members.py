"""Members: sign-up (with a referral code), profiles and accounts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.actions.common import require
from server.actions.effects import fresh
from server.actions.services import Services
from server.auth import Principal, Role
from server.rewards import holdouts
from server.rewards import validation as v
from server.rewards.activities import Activity, ActivityKind, ActivityStatus
from server.rewards.engine import activity_points, multiplier_for
from server.rewards.errors import Conflict, Invalid
from server.rewards.events import EventType, record, record_activity
from server.rewards.members import Member, new_referral_code
from server.rewards.referrals import flag_for
from server.rewards.rules import rule_for
from server.rewards.text import msg, msg_n

__all__ = ["account", "member", "members_by_ids", "upsert_member", "viewer"]

_REFERRAL_CODE_MAX = 16  # the column's length
_CODE = re.compile(r"[A-Z0-9]+")


async def upsert_member(
    svc: Services,
    principal: Principal,
    *,
    external_id: str,
    display_name: str,
    email: str | None = None,
    community: str | None = None,
    referral_code: str | None = None,
    joined_at: datetime | None = None,
) -> Member:
    """Create a member, or update the profile of the one with this external id.

    A referral code is taken at sign-up only: it links the new member to the
    referrer as a pending referral (flagged for a moderator on self-referral
    signs or over the monthly limit). Repeating the same sign-up is harmless.
    """
    require(principal, Role.SERVICE, Role.ADMIN)
    external_id = v.clean_text("externalId", external_id, max_length=128)
    name = v.clean_text("displayName", display_name, max_length=80, display=True)
    address = v.optional_email(email)
    group = v.optional_slug("community", community)
    joined = None if joined_at is None else v.when("joinedAt", joined_at, now=svc.clock())
    referrer = await _referrer(referral_code)
    for _ in range(3):
        existing = await Member.get_or_none(external_id=external_id)
        if existing is not None:
            if referrer is not None:
                await _check_late_referral(existing, referrer)
            await _update_profile(existing.id, name, address, group)
            if joined is not None and joined != existing.created_at:
                await Member.filter(id=existing.id).update(created_at=joined)
            await existing.refresh_from_db()
            return existing
        try:
            async with in_transaction():
                created = await Member.create(
                    external_id=external_id,
                    referral_code=new_referral_code(),
                    display_name=name,
                    email=address,
                    community=group,
                )
                if joined is not None:  # history from before Laurel
                    await Member.filter(id=created.id).update(created_at=joined)
                    created.created_at = joined
                await record(EventType.MEMBER_CREATED, created.id, _about(created))
                if referrer is not None:
                    await _link_referral(svc, referrer, created)
            return created
        except IntegrityError:
            continue  # created concurrently (or a referral code collided): look again
    raise Conflict(msg("The member is being changed concurrently; try again."))


async def _update_profile(
    member_id: int, name: str, email: str | None, community: str | None
) -> None:
    """Change the profile, recording ``member.updated`` only when something changed;
    the row lock orders concurrent updates so each change is recorded once."""
    async with in_transaction():
        current = await Member.select_for_update().get(id=member_id)
        if (current.display_name, current.email, current.community) == (name, email, community):
            return
        await Member.filter(id=member_id).update(
            display_name=name, email=email, community=community
        )
        await record(
            EventType.MEMBER_UPDATED,
            member_id,
            {"external_id": current.external_id, "community": community},
        )


def _about(member: Member) -> dict[str, str | None]:
    return {"external_id": member.external_id, "community": member.community}


async def _referrer(code: str | None) -> Member | None:
    if code is None or not code.strip():
        return None
    if len(code.strip()) > _REFERRAL_CODE_MAX:
        raise Invalid(
            "referralCode",
            msg_n(
                "referralCode must be at most {most} characters.",
                "referralCode must be at most {most} characters.",
                _REFERRAL_CODE_MAX,
                most=_REFERRAL_CODE_MAX,
            ),
        )
    known = v.code("referralCode", code.upper(), max_length=_REFERRAL_CODE_MAX, pattern=_CODE)
    found = None if known is None else await Member.get_or_none(referral_code=known)
    if found is None:
        raise Invalid("referralCode", msg("No member has this referral code."))
    return found


async def _check_late_referral(existing: Member, referrer: Member) -> None:
    linked = await Activity.filter(
        kind=ActivityKind.REFERRAL, target=str(existing.id), member_id=referrer.id
    ).exists()
    if not linked:
        raise Invalid("referralCode", msg("A referral code is taken at sign-up only."))


async def _link_referral(svc: Services, referrer: Member, referee: Member) -> None:
    rule = await rule_for(ActivityKind.REFERRAL)
    now = svc.clock()
    month_start = datetime(now.year, now.month, 1, tzinfo=UTC)
    this_month = await Activity.filter(
        member_id=referrer.id, kind=ActivityKind.REFERRAL, occurred_at__gte=month_start
    ).count()
    flag = flag_for(referrer, referee, this_month, rule.monthly_cap)
    points = await holdouts.rule_points(
        referrer.id, ActivityKind.REFERRAL, activity_points(rule, multiplier_for("REFERRAL")), now
    )
    referral = await Activity.create(
        member_id=referrer.id,
        kind=ActivityKind.REFERRAL,
        status=ActivityStatus.PENDING,
        points_awarded=points,
        idempotency_key=f"referral:{referee.id}",
        request_hash="",
        dedupe_key=f"referral:{referee.id}",
        payload={"refereeId": referee.id, "refereeName": referee.display_name},
        target=str(referee.id),
        flag_reason=flag,
        occurred_at=now,
        # Unflagged referrals need no moderator: the rules decided.
        decided_at=None if flag else now,
        decided_by=None if flag else "rules",
    )
    await record_activity(EventType.ACTIVITY_RECORDED, referral)


async def member(member_id: str) -> Member | None:
    """A public profile by id; None when there is none."""
    pk = v.parse_id("id", member_id)
    return None if pk is None else await Member.get_or_none(id=pk)


async def members_by_ids(ids: Iterable[int]) -> dict[int, Member]:
    """Members by primary key in one query (for DataLoaders)."""
    wanted = list(set(ids))
    return {m.id: m for m in await Member.filter(id__in=wanted)} if wanted else {}


async def viewer(svc: Services, principal: Principal) -> Member | None:
    """The calling shopper's account; None for anyone else."""
    if principal.role is not Role.SHOPPER or principal.member_id is None:
        return None
    found = await Member.get_or_none(id=principal.member_id)
    return None if found is None else await fresh(svc, found)


async def account(svc: Services, principal: Principal, member_id: str) -> Member | None:
    """Any member's account for staff, a shopper's own; None otherwise."""
    pk = v.parse_id("memberId", member_id)
    if pk is None:
        return None
    if not principal.is_staff and not (
        principal.role is Role.SHOPPER and principal.member_id == pk
    ):
        return None
    found = await Member.get_or_none(id=pk)
    return None if found is None else await fresh(svc, found)
