"""The backtest's values: the rules a replay follows, what it reads, and the scratch
copy of the members' state it works on (``server.rewards.backtest``)."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from server.rewards.engine import book
from server.rewards.experiments import Arm, arm_of
from server.rewards.rules import RuleValues
from server.rewards.tiers import TierValues

__all__ = [
    "Activity",
    "BadgeRule",
    "Count",
    "Entry",
    "Holdout",
    "Member",
    "Outcome",
    "Rules",
    "Scratch",
]


@dataclass(frozen=True, slots=True)
class BadgeRule:
    slug: str
    metric: str
    thresholds: tuple[int, ...]
    bonus_points: tuple[int, ...]
    revocable: bool = False


@dataclass(frozen=True, slots=True)
class Holdout:
    """A holdout experiment as the replay applies it (times in epoch seconds)."""

    kind: str  # a TargetKind: EARNING_RULE, TIER_MULTIPLIER or BADGE
    ref: str
    salt: str
    percent: int
    start: float
    end: float | None

    def holds_out(self, member: int, at: float) -> bool:
        running = self.start <= at and (self.end is None or at < self.end)
        return running and arm_of(member, self.salt, self.percent) is Arm.HOLDOUT


@dataclass(frozen=True, slots=True)
class Rules:
    """One set of rules to replay under."""

    earning: Mapping[str, RuleValues]  # by activity kind
    default_rate: Decimal
    ladder: Sequence[TierValues]
    keep_days: int  # 0: points never expire
    badges: Mapping[str, BadgeRule] = field(default_factory=dict)  # replayed, by slug
    tier_bonuses: bool = False
    holdouts: Sequence[Holdout] = ()  # as they ran: the members held out go without


@dataclass(slots=True)
class Entry:
    """A ledger entry as the replay reads it (times in seconds since the epoch). ``role``:
    'own' (an activity's own), 'badge:<slug>', 'tier', 'expire' or '' (kept); 'credit'
    for one the replay makes."""

    id: int
    member: int
    kind: str
    amount: int
    pending: int
    lifetime: int
    qualifying: bool
    at: float
    expires_at: float | None
    activity: int | None
    source: int | None
    role: str = ""


@dataclass(frozen=True, slots=True)
class Activity:
    kind: str
    cents: int | None  # an order's amount
    points: int  # as recorded
    rejected: bool


@dataclass(frozen=True, slots=True)
class Count:
    """A badge metric of a member moved by ``delta`` at ``at``."""

    at: float
    member: int
    metric: str
    delta: int


@dataclass(slots=True)
class Lot:
    points: int
    expires_at: float | None
    entry: int


@dataclass(slots=True)
class Member:
    outstanding: int = 0
    lifetime: int = 0
    lots: list[Lot] = field(default_factory=list)
    qualifying: deque[tuple[float, int]] = field(default_factory=deque)
    window_points: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    levels: dict[str, int] = field(default_factory=dict)
    bonused: set[int] = field(default_factory=set)
    earned: int = 0  # lifetime points earned in the range (the board's score)
    by_id: dict[int, Lot] = field(default_factory=dict)  # the open lots by their entry


class Scratch:
    """Members' state before the range, built once from the recorded entries and
    copied for each replay."""

    def __init__(self) -> None:
        self.members: dict[int, Member] = defaultdict(Member)

    def take(self, entry: Entry) -> None:
        m = self.members[entry.member]
        m.outstanding += entry.amount
        m.lifetime += entry.lifetime
        if entry.qualifying and entry.lifetime:
            m.qualifying.append((entry.at, entry.lifetime))
        change = Lot(entry.amount - entry.pending, entry.expires_at, entry.id)
        book(m.lots, m.by_id, entry.id, change, kind=entry.kind, source=entry.source)
        if len(m.lots) > 8:  # spent lots go (an expiry only ever takes a lot with points)
            m.lots = [lot for lot in m.lots if lot.points > 0]
            m.by_id = {lot.entry: lot for lot in m.lots}

    def counted(self, member: int, counts: Mapping[str, int]) -> None:
        self.members[member].counts.update(counts)

    def copy(self) -> dict[int, Member]:
        return {
            k: Member(
                m.outstanding,
                m.lifetime,
                [Lot(lot.points, lot.expires_at, lot.entry) for lot in m.lots if lot.points > 0],
                deque(m.qualifying),
                0,
                dict(m.counts),
            )
            for k, m in self.members.items()
        }


@dataclass(slots=True)
class Outcome:
    """What one replay gives: the range's figures and each member's at its end."""

    issued_by_kind: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    reversed: int = 0
    expired: int = 0
    outstanding: int = 0
    levels_granted: dict[tuple[str, int], int] = field(default_factory=lambda: defaultdict(int))
    tier_of: dict[int, int] = field(default_factory=dict)  # member -> ladder index, -1: none
    earned: dict[int, int] = field(default_factory=dict)  # member -> lifetime points gained

    @property
    def issued(self) -> int:
        return sum(self.issued_by_kind.values())
