"""What every use case shares: the services of the process, role checks,
idempotency, cursors, and bringing a member's balances up to date on read."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from tortoise.models import Model

from badges import CAUSES, Grant, Metric, Outcome, evaluate, grants_of_activity
from badges.images import ImageCache
from leaderboards import Leaderboards, TTLCache
from server.auth import Principal, Role
from server.events import Events
from server.rewards import validation as v
from server.rewards.activities import Activity, ActivityKind
from server.rewards.errors import Conflict, Invalid, NotFound, PermissionDenied
from server.rewards.expiry import expire_due
from server.rewards.members import Member
from server.rewards.pending import release_due
from server.rewards.referrals import settle_referrals
from server.rewards.tiers import TierWindow
from server.settings import Settings

__all__ = [
    "Recorded",
    "Services",
    "activity_replay",
    "announce_badges",
    "award_badges",
    "decode_cursor",
    "encode_cursor",
    "find_by_id",
    "fresh",
    "page_size",
    "require",
    "same_request",
    "scoped_key",
    "services_for",
    "utcnow",
]


M = TypeVar("M", bound=Model)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Services:
    """What the use cases need from the running process; tests build their own."""

    events: Events
    boards: Leaderboards | None
    purchase_pending_days: int = 14
    points_per_currency_unit: Decimal = Decimal(1)
    points_expire_days: int = 365
    shop_domains: tuple[str, ...] = ()
    max_page_size: int = 100
    # Base of the absolute URLs in Open Badges documents; None: the request's own.
    public_url: str | None = None
    shop_name: str = "Laurel community"
    tier_window: TierWindow = TierWindow.ROLLING
    images: ImageCache = field(default_factory=ImageCache)
    # Hot board pages, kept LAUREL_LEADERBOARD_CACHE_SECONDS at most (here: not kept).
    board_cache: TTLCache[Any] = field(default_factory=lambda: TTLCache(0.0))
    clock: Callable[[], datetime] = field(default=utcnow)

    @property
    def keep_for(self) -> timedelta | None:
        """How long spendable points last; None: forever."""
        return timedelta(days=self.points_expire_days) if self.points_expire_days else None

    @property
    def return_window(self) -> timedelta:
        return timedelta(days=self.purchase_pending_days)


def services_for(settings: Settings, boards: Leaderboards | None) -> Services:
    """The services of a process configured by ``settings``."""
    return Services(
        events=Events(boards),
        boards=boards,
        purchase_pending_days=settings.purchase_pending_days,
        points_per_currency_unit=settings.points_per_currency_unit,
        points_expire_days=settings.points_expire_days,
        shop_domains=settings.shop_domain_list,
        max_page_size=settings.max_page_size,
        public_url=settings.public_url,
        shop_name=settings.shop_name,
        tier_window=TierWindow(settings.tier_window),
        board_cache=TTLCache(settings.leaderboard_cache_seconds),
    )


@dataclass(frozen=True, slots=True)
class Recorded:
    activity: Activity
    points_awarded: int
    duplicate: bool
    badges: tuple[Grant, ...] = ()


def require(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        allowed = " or ".join(r.value for r in roles)
        raise PermissionDenied(f"This needs the {allowed} role.")


def scoped_key(operation: str, principal: Principal, key: str) -> str:
    scope = f"m{principal.member_id}" if principal.role is Role.SHOPPER else "staff"
    return f"{operation}:{scope}:{v.idempotency_key(key)}"


def same_request(stored_hash: str, request_hash: str) -> None:
    if stored_hash != request_hash:
        raise Conflict("This idempotency key was already used with different input.")


async def activity_replay(key: str, request_hash: str) -> Recorded | None:
    activity = await Activity.get_or_none(idempotency_key=key)
    if activity is None:
        return None
    same_request(activity.request_hash, request_hash)
    return Recorded(
        activity=activity,
        points_awarded=activity.points_awarded,
        duplicate=True,
        badges=tuple(await grants_of_activity(activity.id)),
    )


async def find_by_id(model: type[M], field: str, raw_id: str, noun: str) -> M:
    """The row with the id a client gave in ``field``; ``NotFound`` when there is none."""
    pk = v.parse_id(field, raw_id)
    found = None if pk is None else await model.get_or_none(id=pk)
    if found is None:
        raise NotFound(f"No {noun} with id {raw_id!r}.")
    return found


def page_size(svc: Services, field: str, first: int) -> int:
    if not 1 <= first <= svc.max_page_size:
        raise Invalid(field, f"{field} must be between 1 and {svc.max_page_size}.")
    return first


def encode_cursor(kind: str, row_id: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{row_id}".encode()).decode()


def decode_cursor(kind: str, after: str) -> int:
    """The row id in a cursor made by ``encode_cursor(kind, ...)``; else ``Invalid('after')``."""
    try:
        found, _, raw = base64.urlsafe_b64decode(after.encode()).decode().partition(":")
        row_id = v.parse_id("after", raw) if found == kind else None
        if row_id is not None:
            return row_id
    except ValueError:
        pass
    raise Invalid("after", "after is not a cursor from this list.")


async def fresh(svc: Services, found: Member) -> Member:
    """The member with due points released, referrals settled and expired points
    expired, so reads are right without a job having run.

    The row is always read again at the end: a concurrent request may have done
    the work this one found done.
    """
    now = svc.clock()
    changed = 0
    paid: set[int] = set()
    if found.next_release_at is not None and found.next_release_at <= now:
        changed += await release_due(found.id, now, keep_for=svc.keep_for)
        changed += await settle_referrals(
            now=now,
            window=svc.return_window,
            keep_for=svc.keep_for,
            referee_id=found.id,
            paid_to=paid,
        )
    changed += await settle_referrals(
        now=now, window=svc.return_window, keep_for=svc.keep_for, referrer_id=found.id, paid_to=paid
    )
    if changed:  # a share that waited is counted from now on
        await award_badges(svc, found.id, [ActivityKind.SOCIAL_SHARE])
    else:  # points may have left the tier window since the last look
        from server.actions.tiers import track_tier

        await track_tier(svc, found.id)
    for referrer in sorted(paid):
        await award_badges(svc, referrer, [ActivityKind.REFERRAL])
    await found.refresh_from_db()
    if found.next_expiry_at is not None and found.next_expiry_at <= now:
        changed += await expire_due(found.id, now)
        await found.refresh_from_db()
    if changed:
        await svc.events.points_committed()
    return found


async def award_badges(
    svc: Services,
    member_id: int,
    kinds: Iterable[ActivityKind] = (),
    *,
    metrics: Iterable[Metric] = (),
    activity_id: int | None = None,
) -> list[Grant]:
    """After a committed change: grant and revoke the badges it can affect, tell the
    member's subscribers, and record a tier change it made. Returns the levels granted."""
    todo = set(metrics)
    for kind in kinds:
        todo |= CAUSES[kind]
    if not todo:
        return []
    outcome = await evaluate(
        member_id, todo, now=svc.clock(), keep_for=svc.keep_for, activity_id=activity_id
    )
    await announce_badges(svc, member_id, outcome)
    from server.actions.tiers import track_tier  # tiers use these services: import late

    await track_tier(svc, member_id)
    return outcome.granted


async def announce_badges(svc: Services, member_id: int, outcome: Outcome) -> None:
    if outcome:
        await svc.events.points_committed()  # bonuses and reversals move the boards
    if outcome.granted:
        await svc.events.badges_awarded(member_id, [g.award.id for g in outcome.granted])
