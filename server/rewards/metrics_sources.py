# The SQL below is put together from constant fragments only (table and cursor names,
# the dialect's expressions, placeholders); every value is a bound parameter.
# ruff: noqa: S608
"""Where program metrics read the ledger and the activities: the rollups
(``server.rewards.metrics_rollup``) for the ids up to their cursor, the raw tables for
the ids above it, in one statement, so the figures are the same however far behind the
rollup is (docs/decisions/0034).

The ledger's rollups are per UTC day. A day that holds a boundary not at midnight (a
``from`` or ``to`` at 10:30) is read from the raw ledger instead, so every row a
statement indexes by the boundaries falls wholly on one side of each of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from server.rewards.metrics_sql import Sql

__all__ = ["chained", "cursor", "grouped", "ledger", "member_points", "split_days"]

_DAY = timedelta(days=1)


def cursor(name: str) -> str:
    """The last id rolled up of a source (0 when nothing is)."""
    return f"COALESCE((SELECT MAX(last_id) FROM metrics_cursors WHERE name = '{name}'), 0)"


def split_days(instants: Iterable[datetime]) -> list[datetime]:
    """The UTC days (their midnights) that hold one of ``instants`` not at midnight."""
    days = set()
    for t in instants:
        day = t.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        if day != t:
            days.add(day)
    return sorted(days)


def _within(column: str, days: Sequence[datetime]) -> tuple[str, list[Any]]:
    """``column`` falls in one of the days."""
    parts = [f"({column} >= ? AND {column} < ?)" for _ in days]
    return " OR ".join(parts), [t for day in days for t in (day, day + _DAY)]


def _apart(column: str, days: Sequence[datetime], *, raw: bool) -> tuple[str, list[Any]]:
    """The condition keeping ``column`` off the split days: a day column not one of them
    (``raw=False``), or a time column outside them."""
    if not days:
        return "", []
    if raw:
        inside, params = _within(column, days)
        return f" AND NOT ({inside})", params
    return f" AND {column} NOT IN ({', '.join('?' for _ in days)})", list(days)


def ledger(
    sql: Sql,
    before: datetime,
    instants: Sequence[datetime],
    segment: tuple[str, list[Any]] = ("", []),
    *,
    source: bool = False,
) -> tuple[str, list[Any]]:
    """Rows ``(at, kind, source, positive, amount)`` that add up to the ledger's entries
    before ``before``: days of the rollup (``at`` their midnight) and raw entries. Each
    row lies wholly on one side of every one of ``instants``. ``source`` (the kind of the
    activity that earned an entry, '' without one) only when asked for: the raw entries
    join the activities then. A segment (a condition on ``e.member_id``) reads the raw
    ledger alone: the rollup is the whole program's."""
    joined = " LEFT JOIN activities a ON a.id = e.activity_id" if source else ""
    earned = "COALESCE(a.kind, '')" if source else "''"
    raw = (
        f"SELECT e.occurred_at AS at, e.kind AS kind, {earned} AS source, "
        f"e.amount > 0 AS positive, e.amount AS amount FROM ledger_entries e{joined} "
        "WHERE e.occurred_at < ?"
    )
    condition, condition_params = segment
    if condition:
        return raw + condition, [before, *condition_params]
    days = split_days([*instants, before])
    off_days, off_params = _apart("d.day", days, raw=False)
    off_raw, off_raw_params = _apart("e.occurred_at", days, raw=True)
    parts = [
        "SELECT d.day AS at, d.kind AS kind, d.source AS source, d.positive AS positive, "
        f"d.amount AS amount FROM metrics_ledger_days d WHERE d.day < ?{off_days}",
        f"{raw} AND e.id > {cursor('ledger_days')}{off_raw}",
    ]
    params = [before, *off_params, before, *off_raw_params]
    if days:
        inside, inside_params = _within("e.occurred_at", days)
        parts.append(f"{raw} AND ({inside})")
        params += [before, *inside_params]
    return " UNION ALL ".join(parts), params


def member_points(after: datetime, until: datetime) -> tuple[str, list[Any]]:
    """Rows ``(member_id, points)`` that add up, per member, to the qualifying points of
    the entries in (after, until]. On a day of the rollup, the points at its midnight
    belong to (after, until] when the midnight is ``until`` and not when it is
    ``after``."""
    days = split_days([after, until])
    off_days, off_params = _apart("d.day", days, raw=False)
    off_raw, off_raw_params = _apart("e.occurred_at", days, raw=True)
    raw = (
        "SELECT e.member_id AS member_id, e.lifetime_delta AS points FROM ledger_entries e "
        "WHERE e.qualifying = ? AND e.occurred_at > ? AND e.occurred_at <= ?"
    )
    parts = [
        "SELECT d.member_id AS member_id, CASE WHEN d.day = ? THEN d.midnight_points "
        "WHEN d.day = ? THEN d.points - d.midnight_points ELSE d.points END AS points "
        f"FROM metrics_member_days d WHERE d.day >= ? AND d.day <= ?{off_days}",
        f"{raw} AND e.id > {cursor('member_days')}{off_raw}",
    ]
    params: list[Any] = [until, after, after, until, *off_params]
    params += [True, after, until, *off_raw_params]
    if days:
        inside, inside_params = _within("e.occurred_at", days)
        parts.append(f"{raw} AND ({inside})")
        params += [True, after, until, *inside_params]
    return " UNION ALL ".join(parts), params


def chained(sql: Sql, where: str) -> str:
    """Activities (alias ``a``, filtered by ``where``) as the rows of ``ActivityRow``:
    member, time, whether an order and its amount, the member's previous activity time
    and, for an order, the times of the member's two orders before it (by time, then
    id). ``where`` must keep a member's activities together: all of them or none."""
    purchase = "a.kind = 'PURCHASE'"
    orders = f"PARTITION BY a.member_id, {purchase} ORDER BY a.occurred_at, a.id"
    return (
        "SELECT a.id AS activity_id, a.member_id AS member_id, a.occurred_at AS occurred_at, "
        f"{purchase} AS purchase, "
        f"CASE WHEN {purchase} THEN COALESCE({sql.amount}, 0) ELSE 0 END AS cents, "
        "LAG(a.occurred_at) OVER (PARTITION BY a.member_id ORDER BY a.occurred_at, a.id) "
        f"AS prev_any, CASE WHEN {purchase} THEN LAG(a.occurred_at) OVER ({orders}) END "
        f"AS prev, CASE WHEN {purchase} THEN LAG(a.occurred_at, 2) OVER ({orders}) END AS prev2 "
        f"FROM activities a WHERE {where}"
    )


def grouped(
    sql: Sql, select: str, where: str, params: Sequence[Any], *, groups: int
) -> tuple[str, list[Any]]:
    """``SELECT {select} FROM (every activity as ``c``, the columns of ``ActivityRow``)
    WHERE {where} GROUP BY`` the first ``groups`` columns, as two such statements whose
    rows add up per group (a group may come from each): the rollup's rows for the members
    with no activity above its cursor, and the raw activities of the others. ``params``:
    those of ``select`` and ``where``, in order."""
    touched = f"SELECT member_id FROM activities WHERE id > {cursor('activities')}"
    by = ", ".join(str(i) for i in range(1, groups + 1))
    return (
        f"SELECT {select} FROM metrics_activities c WHERE c.member_id NOT IN ({touched}) "
        f"AND {where} GROUP BY {by} UNION ALL SELECT {select} "
        f"FROM ({chained(sql, f'a.member_id IN ({touched})')}) c WHERE {where} GROUP BY {by}"
    ), [*params, *params]
