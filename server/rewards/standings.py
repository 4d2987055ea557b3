"""A member's standing on the tier ladder, computed from the ledger on read: the tier
held, the next one, and what it takes to reach it or keep it (see ``server.rewards.tiers``
for the windows). Every read is batched: many members cost as many queries as one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.expressions import Case, F, Q, Value, When
from tortoise.functions import Min, Sum

from server.rewards.engine import tier_for
from server.rewards.ledger import LedgerEntry
from server.rewards.tiers import ROLLING_DAYS, Tier, TierWindow

__all__ = ["Qualifying", "Standing", "held_tiers", "qualifying_of", "standings_of"]


@dataclass(frozen=True, slots=True)
class Standing:
    tier: Tier | None
    next: Tier | None
    qualifying_points: int
    points_to_next: int
    points_to_keep: int
    window_ends_at: datetime


def _better(ladder: Sequence[Tier], this_year: int, last_year: int) -> Tier | None:
    """Calendar window: the better of the tiers this year's and last year's points reach."""
    return max(
        (t for t in (tier_for(ladder, this_year), tier_for(ladder, last_year)) if t),
        key=lambda t: t.threshold,
        default=None,
    )


@dataclass(frozen=True, slots=True)
class Qualifying:
    """A member's qualifying points as the tier window counts them at ``now``: the
    rolling window's in ``points``, or this calendar year's in ``points`` and last
    year's in ``last_year``. Read under the member's lock, ``plus`` the entries the
    transaction then posts gives the tier at its commit without reading again."""

    window: TierWindow
    now: datetime
    points: int = 0
    last_year: int = 0

    def held(self, ladder: Sequence[Tier]) -> Tier | None:
        if self.window is TierWindow.CALENDAR:
            return _better(ladder, self.points, self.last_year)
        return tier_for(ladder, self.points)

    def plus(self, entry: LedgerEntry) -> Qualifying:
        """With ``entry`` counted, where the window counts it."""
        at, until = entry.occurred_at, self.now + timedelta(seconds=1)
        if not entry.qualifying or at is None or at >= until:  # as the query counts it
            return self
        if self.window is TierWindow.CALENDAR:
            this_start = _year_start(self.now.year)
            if at >= this_start:
                return replace(self, points=self.points + entry.lifetime_delta)
            if at >= _year_start(self.now.year - 1):
                return replace(self, last_year=self.last_year + entry.lifetime_delta)
            return self
        if at >= self.now - timedelta(days=ROLLING_DAYS):
            return replace(self, points=self.points + entry.lifetime_delta)
        return self


async def qualifying_of(
    member_ids: Sequence[int], now: datetime, window: TierWindow
) -> dict[int, Qualifying]:
    """Each member's qualifying points at ``now``, in one grouped query."""
    wanted = list(dict.fromkeys(member_ids))
    if not wanted:
        return {}
    if window is TierWindow.CALENDAR:
        sums = await _calendar_sums(wanted, now)
        return {m: Qualifying(window, now, *sums.get(m, (0, 0))) for m in wanted}
    rolling = await _grouped(
        wanted,
        now - timedelta(days=ROLLING_DAYS),
        points=Sum("lifetime_delta", _filter=Q(occurred_at__lt=now + timedelta(seconds=1))),
    )
    return {m: Qualifying(window, now, _int(rolling.get(m, (0,))[0])) for m in wanted}


def _year_start(year: int) -> datetime:
    return datetime(year, 1, 1, tzinfo=UTC)


async def standings_of(
    ladder: Sequence[Tier], member_ids: Sequence[int], now: datetime, window: TierWindow
) -> dict[int, Standing]:
    """Each member's tier now on ``ladder`` (lowest first), in at most two queries however
    many members: their qualifying points grouped by member, then (rolling window) the
    points that leave the window first. No ladder: every ``tier`` is None."""
    wanted = list(dict.fromkeys(member_ids))
    if not ladder:
        empty = Standing(None, None, 0, 0, 0, now + timedelta(days=ROLLING_DAYS))
        return dict.fromkeys(wanted, empty)
    if not wanted:
        return {}
    until = now + timedelta(seconds=1)
    out: dict[int, Standing] = {}
    if window is TierWindow.CALENDAR:
        for member_id, (held, this_year) in (await _calendar(ladder, wanted, now)).items():
            keep = 0 if held is None else max(0, held.threshold - this_year)
            out[member_id] = _standing(ladder, held, this_year, keep, _year_start(now.year + 1))
        return out
    since = now - timedelta(days=ROLLING_DAYS)
    sums = await _grouped(
        wanted,
        since,
        points=Sum("lifetime_delta", _filter=Q(occurred_at__lt=until)),
        oldest=Min("occurred_at"),
    )
    oldest = {m: o for m, (_, o) in sums.items() if isinstance(o, datetime)}
    leaving = await _leaving_first(oldest, since)
    for member_id in wanted:
        points = _int(sums.get(member_id, (0, None))[0])
        held = tier_for(ladder, points)
        ends = oldest.get(member_id, now) + timedelta(days=ROLLING_DAYS)
        gone = leaving.get(member_id, 0)
        keep = 0 if held is None else max(0, held.threshold - (points - gone))
        out[member_id] = _standing(ladder, held, points, keep, ends)
    return out


async def held_tiers(
    ladder: Sequence[Tier], member_ids: Sequence[int], now: datetime, window: TierWindow
) -> dict[int, Tier | None]:
    """Each member's tier now on ``ladder``, in one grouped query: the part of
    ``standings_of`` a list of members needs (not what it takes to keep the tier)."""
    if not ladder:
        return dict.fromkeys(member_ids)
    return {m: q.held(ladder) for m, q in (await qualifying_of(member_ids, now, window)).items()}


async def _calendar(
    ladder: Sequence[Tier], member_ids: list[int], now: datetime
) -> dict[int, tuple[Tier | None, int]]:
    """Calendar window: per member, the tier held (the better of this year's and last
    year's) and this year's qualifying points."""
    sums = await _calendar_sums(member_ids, now)
    out: dict[int, tuple[Tier | None, int]] = {}
    for member_id in member_ids:
        this_year, last_year = sums.get(member_id, (0, 0))
        out[member_id] = (_better(ladder, this_year, last_year), this_year)
    return out


async def _calendar_sums(member_ids: list[int], now: datetime) -> dict[int, tuple[int, int]]:
    """Per member, this calendar year's and last year's qualifying points."""
    this_start = _year_start(now.year)
    sums = await _grouped(
        member_ids,
        _year_start(now.year - 1),
        this_year=Sum("lifetime_delta", _filter=Q(occurred_at__gte=this_start)),
        last_year=Sum("lifetime_delta", _filter=Q(occurred_at__lt=this_start)),
        until=now + timedelta(seconds=1),
    )
    return {m: (_int(this), _int(last)) for m, (this, last) in sums.items()}


def _standing(
    ladder: Sequence[Tier], held: Tier | None, points: int, keep: int, ends: datetime
) -> Standing:
    above = [t for t in ladder if held is None or t.threshold > held.threshold]
    following = above[0] if above else None
    to_next = 0 if following is None else max(0, following.threshold - points)
    return Standing(held, following, points, to_next, keep, ends)


def _int(value: object) -> int:
    return 0 if value is None else int(str(value))


async def _grouped(
    member_ids: list[int], since: datetime, *, until: datetime | None = None, **columns: Any
) -> dict[int, tuple[Any, ...]]:
    """One grouped query over the members' qualifying entries from ``since``: per member,
    the ``columns`` (aggregates) in the order given."""
    query = LedgerEntry.filter(member_id__in=member_ids, qualifying=True, occurred_at__gte=since)
    if until is not None:
        query = query.filter(occurred_at__lt=until)
    rows = await query.group_by("member_id").annotate(**columns).values_list("member_id", *columns)
    return {int(row[0]): tuple(row[1:]) for row in rows}


async def _leaving_first(oldest: dict[int, datetime], since: datetime) -> dict[int, int]:
    """Per member, the qualifying points that leave the rolling window first: those earned
    within a second of their oldest one in it. One query: each member's bound comes from a
    CASE on the member (its ELSE column types the bounds on PostgreSQL)."""
    if not oldest:
        return {}
    # When() runs any Expression as ``then``; its annotation leaves out Value.
    bound = Case(
        *(
            When(member_id=m, then=Value(o + timedelta(seconds=1)))  # type: ignore[arg-type]
            for m, o in oldest.items()
        ),
        default=F("occurred_at"),
    )
    rows = await (
        LedgerEntry.filter(
            member_id__in=list(oldest),
            qualifying=True,
            occurred_at__gte=since,
            occurred_at__lt=bound,
        )
        .group_by("member_id")
        .annotate(points=Sum("lifetime_delta"))
        .values_list("member_id", "points")
    )
    return {int(m): _int(p) for m, p in rows}
