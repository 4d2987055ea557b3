"""Which boards exist, what a board's Redis key is, and when a period board expires.

Every point earned goes to the global board and, when the member has one, to
their community's board, each for all time and for the current year, month,
ISO week and day (UTC). A contest has one board of its own. Keys carry the
whole board name as a hash tag (``laurel:lb:{c:makers:w2026-W48}``), so a Redis
Cluster could put boards on different nodes while each script stays on one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache

__all__ = [
    "GRACE",
    "Board",
    "Target",
    "Window",
    "board_key",
    "boards_of",
    "channel_of",
    "period",
]

# A period board stays readable this long after its period ends ("last week's winners").
GRACE = timedelta(days=7)


class Window(StrEnum):
    ALL_TIME = "ALL_TIME"
    YEAR = "YEAR"
    MONTH = "MONTH"
    WEEK = "WEEK"
    DAY = "DAY"


@dataclass(frozen=True, slots=True)
class Board:
    """A board as a client names it: a window, and a community or a contest (or neither)."""

    window: Window = Window.ALL_TIME
    community: str | None = None
    contest_id: int | None = None

    @property
    def scope(self) -> str:
        if self.contest_id is not None:
            return f"contest:{self.contest_id}"
        return "global" if self.community is None else f"c:{self.community}"


def period(window: Window, at: datetime) -> tuple[str, datetime | None]:
    """The label of the period of ``window`` holding ``at`` (UTC), and when it ends."""
    at = at.astimezone(UTC)
    day = at.date()
    if window is Window.ALL_TIME:
        return "all", None
    if window is Window.YEAR:
        return f"y{day.year}", _midnight(date(day.year + 1, 1, 1))
    if window is Window.MONTH:
        following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        return f"m{day.year}-{day.month:02d}", _midnight(following)
    if window is Window.WEEK:
        iso = day.isocalendar()
        monday = day - timedelta(days=iso.weekday - 1)
        return f"w{iso.year}-W{iso.week:02d}", _midnight(monday + timedelta(days=7))
    return f"d{day.isoformat()}", _midnight(day + timedelta(days=1))


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def board_key(prefix: str, board: Board, at: datetime) -> str:
    """The key of ``board`` for the period holding ``at`` (contests have no period)."""
    label = "all" if board.contest_id is not None else period(board.window, at)[0]
    return f"{prefix}:lb:{{{board.scope}:{label}}}"


def channel_of(prefix: str, board: Board) -> str:
    """The pub/sub channel that announces changes of ``board``, whatever its period."""
    return f"{prefix}:events:board:{board.scope}:{board.window.value}"


@dataclass(frozen=True, slots=True)
class Target:
    """One board an earning goes to: its key now, when that key expires, its channel."""

    key: str
    expires_at: datetime | None
    channel: str


def boards_of(prefix: str, community: str | None, at: datetime) -> tuple[Target, ...]:
    """Every board that points earned at ``at`` by a member of ``community`` go to."""
    return _boards_of_day(prefix, community, at.astimezone(UTC).date())


@lru_cache(maxsize=8192)
def _boards_of_day(prefix: str, community: str | None, day: date) -> tuple[Target, ...]:
    """The same for every moment of a UTC day: computed once per day and community."""
    at = _midnight(day)
    scopes = [None] if community is None else [None, community]
    out: list[Target] = []
    for scope in scopes:
        for window in Window:
            board = Board(window=window, community=scope)
            end = period(window, at)[1]
            out.append(
                Target(
                    key=board_key(prefix, board, at),
                    expires_at=None if end is None else end + GRACE,
                    channel=channel_of(prefix, board),
                )
            )
    return tuple(out)
