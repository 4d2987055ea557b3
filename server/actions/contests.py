"""Contests as everyone sees them: status, lists and lookups under one visibility rule.

Drafts and cancelled contests are for staff only; the rule is one query filter
(``_visible``), so a list or a lookup never loads contests the caller may not see.
"""

from __future__ import annotations

from collections.abc import Iterable

from tortoise.queryset import QuerySet

from server.actions.common import find_by_id
from server.actions.services import Services
from server.auth import Principal, Role
from server.rewards import validation as v
from server.rewards.contests import Contest, ContestStatus, status_filter, status_of

__all__ = [
    "CONTEST_STAFF",
    "contest_by_id",
    "contest_status",
    "contests_by_ids",
    "contests_list",
    "visible_contest",
]

# Who runs contests, and sees drafts and cancelled ones.
CONTEST_STAFF = (Role.MODERATOR, Role.ADMIN)


def contest_status(svc: Services, contest: Contest) -> ContestStatus:
    """The contest's status now, from the clock and its marks (no job needs to have run)."""
    return status_of(contest, svc.clock())


async def contest_by_id(contest_id: str) -> Contest:
    """Any contest by the id a client gave, for staff use cases; ``NotFound`` if none."""
    return await find_by_id(Contest, "id", contest_id, "contest")


def _visible(svc: Services, principal: Principal) -> QuerySet[Contest]:
    query = Contest.all()
    if principal.role in CONTEST_STAFF:
        return query
    now = svc.clock()
    hidden = status_filter(ContestStatus.DRAFT, now) | status_filter(ContestStatus.CANCELLED, now)
    return query.filter(~hidden)


async def contests_list(
    svc: Services, principal: Principal, status: ContestStatus | None
) -> list[Contest]:
    """Contests the caller may see, newest first, optionally of one status."""
    query = _visible(svc, principal)
    if status is not None:
        query = query.filter(status_filter(status, svc.clock()))
    return await query.order_by("-starts_at", "-id")


async def visible_contest(svc: Services, principal: Principal, contest_id: str) -> Contest | None:
    """The contest if the caller may see it; None for a malformed, unknown or hidden id."""
    pk = v.parse_id("id", contest_id)
    return None if pk is None else await _visible(svc, principal).get_or_none(id=pk)


async def contests_by_ids(ids: Iterable[int]) -> dict[int, Contest]:
    """Contests by primary key in one query (for DataLoaders, e.g. a placement's contest)."""
    wanted = list(set(ids))
    return {c.id: c for c in await Contest.filter(id__in=wanted)} if wanted else {}
