"""The SQL dialect of program metrics: placeholders, casts, date arithmetic and the
CASE tree that gives a row the index of its interval."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Coroutine, Sequence
from datetime import datetime
from typing import Any, TypeVar

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

__all__ = ["Sql", "begun", "tuned"]

T = TypeVar("T")


def begun(job: Coroutine[Any, Any, T]) -> Awaitable[T]:
    """A report's statement started at once on PostgreSQL, where it runs on a pooled
    connection of its own beside the others; on SQLite (one connection) left to run when
    awaited, one after another."""
    return asyncio.ensure_future(job) if Sql().postgres else job


@contextlib.asynccontextmanager
async def tuned() -> AsyncIterator[Sql]:
    """A transaction for a report's statements. On PostgreSQL with the memory to hash and
    sort a report's rows without spilling to disk, and without JIT compilation (which
    costs more than it saves on statements of a second or so: 0.3 s on a 3 ms one whose
    estimate was high)."""
    async with in_transaction() as conn:
        sql = Sql(conn)
        if sql.postgres:
            await conn.execute_script("SET LOCAL work_mem = '64MB'; SET LOCAL jit = off")
        yield sql


class Sql:
    """Placeholders, casts and date arithmetic of the connection's dialect."""

    def __init__(self, client: BaseDBAsyncClient | None = None) -> None:
        self.client = client or connections.get("default")
        self.postgres = self.client.capabilities.dialect == "postgres"
        self.amount = (
            "CAST(a.payload->>'amountCents' AS BIGINT)"
            if self.postgres
            else "CAST(json_extract(a.payload, '$.amountCents') AS INTEGER)"
        )
        self.greatest = "GREATEST" if self.postgres else "MAX"

    def day(self, column: str) -> str:
        """The UTC midnight starting the day of a time column, as the column's type (on
        SQLite the text Tortoise writes and ``param`` compares with)."""
        if self.postgres:
            return f"(date_trunc('day', {column} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')"
        return f"strftime('%Y-%m-%d 00:00:00+00:00', {column})"

    def within_days(self, later: str, earlier: str, days: int) -> str:
        if self.postgres:
            return f"{later} <= {earlier} + INTERVAL '{days} days'"
        return f"julianday({later}) <= julianday({earlier}) + {days}"

    def index(self, column: str, bounds: Sequence[datetime]) -> tuple[str, list[Any]]:
        """How many of the (ascending) ``bounds`` are <= ``column``: 0 before the first,
        ``len(bounds)`` at or after the last. A balanced CASE tree, so a row costs
        log2(len(bounds)) comparisons however many intervals there are."""

        def tree(lo: int, hi: int) -> tuple[str, list[Any]]:
            if lo == hi:
                return str(lo), []
            mid = (lo + hi) // 2
            left, left_params = tree(lo, mid)
            right, right_params = tree(mid + 1, hi)
            return (
                f"CASE WHEN {column} < ? THEN {left} ELSE {right} END",
                [bounds[mid], *left_params, *right_params],
            )

        return tree(0, len(bounds))

    def param(self, value: Any) -> Any:
        return value.isoformat(" ") if isinstance(value, datetime) and not self.postgres else value

    async def rows(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.client.execute_query_dict(
            self._numbered(sql), [self.param(p) for p in params]
        )
        return found

    async def tuples(self, sql: str, params: Sequence[Any]) -> Sequence[Sequence[Any]]:
        """Rows as tuples (the driver's records): for the long reads of a backtest."""
        _, found = await self.client.execute_query(
            self._numbered(sql), [self.param(p) for p in params]
        )
        return found  # type: ignore[return-value]

    def epoch(self, column: str) -> str:
        """A time column as seconds since 1970 (a float; NULL stays NULL)."""
        if self.postgres:
            return f"CAST(EXTRACT(EPOCH FROM {column}) AS DOUBLE PRECISION)"
        return f"((julianday({column}) - 2440587.5) * 86400.0)"

    def _numbered(self, sql: str) -> str:
        if not self.postgres:
            return sql
        parts = sql.split("?")
        last = len(parts) - 1
        return "".join(p + (f"${i + 1}" if i < last else "") for i, p in enumerate(parts))

    async def one(self, sql: str, params: Sequence[Any]) -> dict[str, Any]:
        """The one row of an aggregate, NULL sums as 0."""
        (row,) = await self.rows(sql, params)
        return {k: (v or 0) for k, v in row.items()}
