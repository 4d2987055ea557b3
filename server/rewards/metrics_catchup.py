# The SQL below is put together from constant fragments only (table names, the
# dialect's expressions); every value is a bound parameter.
# ruff: noqa: S608
"""Keeping the metrics rollups current: ``catch_up`` rolls the ledger entries and
activities committed since the last call into them (each rollup has its own cursor),
``rebuild`` starts them again from nothing (docs/decisions/0034).

Ids are handed out before commit, so on PostgreSQL an id may commit after a larger one
is visible. A cursor only moves to an id once every id up to it is settled: the largest
id visible, after every transaction that was writing to the table when it was read has
ended (``pg_locks``: an INSERT holds the table's RowExclusiveLock from before it takes
its id until its transaction ends). On SQLite writers take turns, so every id up to the
largest visible one is settled already. A cursor that cannot move (a writer still busy
after ``_WAIT_SECONDS``) stays: readers take the rest from the raw tables anyway.

Two catch-ups at once: each moves the cursor with a conditional UPDATE from the value
it read, first thing in its transaction; the second waits for the first's row lock,
then finds the cursor moved, changes nothing and rolls nothing up.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from tortoise.transactions import in_transaction

from server.rewards.metrics_rollup import ActivityRow, LedgerDay, MemberDay, MetricsCursor
from server.rewards.metrics_sources import chained
from server.rewards.metrics_sql import Sql, begun, tuned

__all__ = ["catch_up", "rebuild"]

_WAIT_SECONDS = 1.0
# A catch-up over more ids than this refreshes PostgreSQL's statistics of its rollup.
_ANALYZE_AFTER = 20_000


async def catch_up() -> None:
    """Roll every settled id above each cursor into its rollup (the first call builds
    them: about as long as a few scans of the raw tables)."""
    jobs = (
        begun(_advance("ledger_days", "ledger_entries", _roll_ledger_days)),
        begun(_advance("member_days", "ledger_entries", _roll_member_days)),
        begun(_advance("activities", "activities", _roll_activities)),
    )
    for job in jobs:
        await job


async def rebuild() -> None:
    """Empty the rollups and their cursors, then build them again."""
    async with in_transaction():
        await MetricsCursor.all().delete()  # first: waits for a catch-up under way
        for model in (LedgerDay, MemberDay, ActivityRow):
            await model.all().delete()
    await catch_up()


async def _writers(sql: Sql, table: str) -> set[str]:
    """The other transactions holding ``table``'s RowExclusiveLock (writing to it)."""
    rows = await sql.rows(
        "SELECT virtualtransaction AS v FROM pg_locks WHERE locktype = 'relation' "
        f"AND relation = '{table}'::regclass AND mode = 'RowExclusiveLock' "
        "AND pid <> pg_backend_pid()",
        [],
    )
    return {str(r["v"]) for r in rows}


async def _settled(sql: Sql, table: str) -> int | None:
    """An id every id up to which is committed or never will be; None if the writers of
    the moment did not finish within ``_WAIT_SECONDS``."""
    top = int((await sql.one(f"SELECT MAX(id) AS top FROM {table}", []))["top"])
    if not sql.postgres:
        return top
    busy = await _writers(sql, table)  # read after ``top``: whoever took an id below it
    deadline = time.monotonic() + _WAIT_SECONDS
    while busy:
        if time.monotonic() > deadline:
            return None
        await asyncio.sleep(0.005)
        busy &= await _writers(sql, table)
    return top


async def _advance(name: str, table: str, roll: Callable[[Sql, int, int], Awaitable[None]]) -> None:
    """Move cursor ``name`` over ``table`` to its settled id, rolling (at, top] up."""
    rollup = f"metrics_{name}"
    sql = Sql()
    found = await sql.rows("SELECT last_id FROM metrics_cursors WHERE name = ?", [name])
    if not found:
        await sql.rows(
            "INSERT INTO metrics_cursors (name, last_id) VALUES (?, 0) "
            "ON CONFLICT (name) DO NOTHING",
            [name],
        )
    at = int(found[0]["last_id"]) if found else 0
    top = await _settled(sql, table)
    if top is None or top <= at:
        return
    async with tuned() as tx:
        moved = (
            await MetricsCursor.filter(name=name, last_id=at)
            .using_db(tx.client)
            .update(last_id=top)
        )
        if not moved:
            return  # another catch-up moved it meanwhile
        if not at:  # a cursor at 0 holds nothing: rows left by a lost cursor go
            await tx.rows(f"DELETE FROM {rollup}", [])
        await roll(tx, at, top)
    if sql.postgres and top - at > _ANALYZE_AFTER:
        await sql.client.execute_script(f"ANALYZE {rollup}")


def _adding(at: int, key: str, sums: str, table: str) -> str:
    """The upsert clause adding to the rows there; none for the first roll-up (an empty
    table: plain inserts are a third faster)."""
    if not at:
        return ""
    added = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in sums.split(", "))
    return f" ON CONFLICT ({key}) DO UPDATE SET {added}"


async def _roll_ledger_days(sql: Sql, at: int, top: int) -> None:
    day = sql.day("e.occurred_at")
    await sql.rows(
        "INSERT INTO metrics_ledger_days (day, kind, source, positive, amount) "
        f"SELECT {day}, e.kind, COALESCE(a.kind, ''), e.amount > 0, SUM(e.amount) "
        "FROM ledger_entries e LEFT JOIN activities a ON a.id = e.activity_id "
        "WHERE e.id > ? AND e.id <= ? AND e.occurred_at IS NOT NULL GROUP BY 1, 2, 3, 4"
        + _adding(at, "day, kind, source, positive", "amount", "metrics_ledger_days"),
        [at, top],
    )


async def _roll_member_days(sql: Sql, at: int, top: int) -> None:
    """In (member, day) order: the unique index is written in order, twice as fast."""
    day = sql.day("e.occurred_at")
    await sql.rows(
        "INSERT INTO metrics_member_days (member_id, day, points, midnight_points) "
        f"SELECT e.member_id, {day}, SUM(e.lifetime_delta), "
        f"SUM(CASE WHEN e.occurred_at = {day} THEN e.lifetime_delta ELSE 0 END) "
        "FROM ledger_entries e WHERE e.id > ? AND e.id <= ? AND e.qualifying = ? "
        "AND e.occurred_at IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2"
        + _adding(at, "member_id, day", "points, midnight_points", "metrics_member_days"),
        [at, top, True],
    )


async def _roll_activities(sql: Sql, at: int, top: int) -> None:
    """The members with new activities get all their rows again (an order dated before
    their last one changes the previous-order times of those after it)."""
    touched = "SELECT member_id FROM activities WHERE id > ? AND id <= ?"
    if at:
        await sql.rows(f"DELETE FROM metrics_activities WHERE member_id IN ({touched})", [at, top])
        rows, params = chained(sql, f"a.id <= ? AND a.member_id IN ({touched})"), [top, at, top]
    else:  # nothing rolled up yet (no row has an id up to 0): every activity
        rows, params = chained(sql, "a.id <= ?"), [top]
    await sql.rows(
        "INSERT INTO metrics_activities (activity_id, member_id, occurred_at, purchase, cents, "
        f"prev_any, prev, prev2) {rows}",
        params,
    )
