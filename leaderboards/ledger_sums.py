"""The ledger summed per board and member, as the rebuild and the check need it.

Entries are streamed in id order a batch at a time by plain SQL, and the sums come
out in chunks of bounded size, so memory stays bounded whatever the ledger's size.
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
from server.rewards.members import Member

__all__ = ["board_sums", "last_entry_id"]

# Sums held in memory before they are written out: bounds memory whatever the ledger's size.
_CHUNK_PAIRS = 200_000


async def last_entry_id() -> int:
    last = await LedgerEntry.all().order_by("-id").first()
    return 0 if last is None else last.id


async def _entries(up_to: int, batch: int) -> AsyncIterator[list[tuple[int, int, date]]]:
    """(member, lifetime delta, UTC day) of every entry that moved earned points, by id.

    Plain SQL: the ORM would build a datetime per row where a day is all a board needs.
    """
    conn = connections.get("default")
    sql = _ENTRIES_SQL.replace("?", "${}").format(1, 2, 3) if _numbered(conn) else _ENTRIES_SQL
    days: dict[object, date] = {}
    after = 0
    while True:
        _, rows = await conn.execute_query(sql, [after, up_to, batch])
        if not rows:
            return
        out = []
        for row in rows:
            when = row[3]
            day = days.get(when)
            if day is None:
                day = days[when] = _utc_day(when)
            out.append((int(row[1]), int(row[2]), day))
        yield out
        after = int(rows[-1][0])
        if len(days) > 100_000:
            days.clear()


_ENTRIES_SQL = (
    "SELECT id, member_id, lifetime_delta, COALESCE(occurred_at, created_at) "
    "FROM ledger_entries WHERE id > ? AND id <= ? AND lifetime_delta <> 0 ORDER BY id LIMIT ?"
)


def _numbered(conn: BaseDBAsyncClient) -> bool:
    """PostgreSQL's driver takes $1, $2... where SQLite takes ?."""
    return conn.capabilities.dialect != "sqlite"


def _utc_day(when: object) -> date:
    """The UTC day of a stored moment: a datetime (PostgreSQL) or its ISO text (SQLite)."""
    if isinstance(when, datetime):
        return when.astimezone(UTC).date()
    return datetime.fromisoformat(str(when)).astimezone(UTC).date()


async def board_sums(
    boards: Leaderboards,
    up_to: int,
    *,
    now: datetime,
    batch: int,
    on_rows: Callable[[int], None] | None,
) -> AsyncIterator[tuple[dict[str, dict[int, int]], dict[str, datetime | None]]]:
    """Chunks of per-board, per-member sums (boards already expired are skipped)."""
    communities = dict(await Member.all().values_list("id", "community"))
    sums: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    expiry: dict[str, datetime | None] = {}
    live: dict[tuple[str | None, date], list[str]] = {}
    pairs = 0
    async for rows in _entries(up_to, batch):
        for member_id, delta, day in rows:
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
        if on_rows is not None:
            on_rows(len(rows))
        if pairs >= _CHUNK_PAIRS:
            yield sums, expiry
            sums, pairs = defaultdict(lambda: defaultdict(int)), 0
    yield sums, expiry


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
