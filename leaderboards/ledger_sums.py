"""The ledger summed per board and member, as the rebuild and the check need it.

The database sums each member's entries per UTC day (one grouped query per range of
member ids), so each chunk holds every member of its range complete: a board's pairs
can be written once, with no merging of partial sums, and memory stays bounded
whatever the ledger's size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from leaderboards.boards import Leaderboards
from leaderboards.windows import boards_of
from server.rewards.ledger import LedgerEntry

__all__ = ["MEMBERS_PER_CHUNK", "board_sums", "last_entry_id"]

# Members summed per query (a range of consecutive ids), and the sums held in memory
# before they are written out (many boards' pairs per write, memory bounded).
MEMBERS_PER_CHUNK = 5_000
_CHUNK_PAIRS = 200_000


async def last_entry_id() -> int:
    last = await LedgerEntry.all().order_by("-id").first()
    return 0 if last is None else last.id


async def _day_sums(lowest: int, highest: int, up_to: int) -> list[tuple[int, date, int, int]]:
    """(member, UTC day, lifetime delta, entries) of members ``lowest``..``highest``."""
    conn = connections.get("default")
    sql = _PG_DAY_SUMS if _numbered(conn) else _SQLITE_DAY_SUMS
    _, rows = await conn.execute_query(sql, [lowest, highest, up_to])
    days: dict[object, date] = {}
    out = []
    for row in rows:
        day = days.get(row[1])
        if day is None:
            day = days[row[1]] = _as_date(row[1])
        out.append((int(row[0]), day, int(row[2]), int(row[3])))
    return out


# The UTC day of each entry's moment: SQLite's date() reads the stored ISO text with its
# offset and answers in UTC; PostgreSQL converts the timestamptz.
_DAY_SUMS = (
    "SELECT member_id, {day} AS day, SUM(lifetime_delta), COUNT(*) FROM ledger_entries "
    "WHERE member_id >= {a} AND member_id <= {b} AND id <= {c} AND lifetime_delta <> 0 "
    "GROUP BY member_id, day"
)
_SQLITE_DAY_SUMS = _DAY_SUMS.format(
    day="date(COALESCE(occurred_at, created_at))", a="?", b="?", c="?"
)
_PG_DAY_SUMS = _DAY_SUMS.format(
    day="(COALESCE(occurred_at, created_at) AT TIME ZONE 'UTC')::date", a="$1", b="$2", c="$3"
)


def _numbered(conn: BaseDBAsyncClient) -> bool:
    """PostgreSQL's driver takes $1, $2... where SQLite takes ?."""
    return conn.capabilities.dialect != "sqlite"


def _as_date(value: object) -> date:
    """A day as the driver returns it: a date (PostgreSQL) or ISO text (SQLite)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


async def board_sums(
    boards: Leaderboards,
    up_to: int,
    *,
    now: datetime,
    members: int,
    on_rows: Callable[[int], None] | None,
) -> AsyncIterator[tuple[dict[str, dict[int, int]], dict[str, datetime | None]]]:
    """Chunks of per-board, per-member sums of entries up to ``up_to`` (boards already
    expired are skipped), ``members`` members per query; a member's sums are all in
    one chunk."""
    _, rows = await connections.get("default").execute_query(
        "SELECT id, community FROM members ORDER BY id"
    )
    communities: dict[int, str | None] = {int(r[0]): r[1] for r in rows}
    ids = list(communities)
    expiry: dict[str, datetime | None] = {}
    live: dict[tuple[str | None, date], list[str]] = {}
    sums: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    pairs = entries = 0
    for start in range(0, len(ids), members):
        chunk = ids[start : start + members]
        for member_id, day, delta, count in await _day_sums(chunk[0], chunk[-1], up_to):
            community = communities.get(member_id)
            keys = live.get((community, day))
            if keys is None:
                keys = live[(community, day)] = []
                for target in boards_of(boards.prefix, community, _midnight(day)):
                    if target.expires_at is None or target.expires_at > now:
                        keys.append(target.key)
                        expiry[target.key] = target.expires_at
            for key in keys:
                board = sums[key]
                pairs += member_id not in board
                board[member_id] += delta
            entries += count
        if on_rows is not None:
            on_rows(entries)
            entries = 0
        # Only between ranges, so that every member's sums stay in one chunk.
        if pairs >= _CHUNK_PAIRS:
            yield sums, expiry
            sums, pairs = defaultdict(lambda: defaultdict(int)), 0
    yield sums, expiry


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
