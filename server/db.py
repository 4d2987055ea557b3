"""Database configuration and migrations (Tortoise ORM, SQLite or PostgreSQL)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any, NamedTuple

import asyncpg
from tortoise import Tortoise
from tortoise.backends.base.client import TransactionalDBClient, TransactionContextPooled
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.connection import get_connections
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate
from tortoise.migrations.autodetector import MigrationAutodetector

from badges.catalog import ensure_badges
from server.rewards import snapshots
from server.rewards.rules import ensure_rules
from server.rewards.tiers import ensure_tiers

__all__ = [
    "MIGRATIONS_CONFIG",
    "MODEL_MODULES",
    "Statement",
    "apply_migrations",
    "counting_statements",
    "orm",
    "recording_statements",
    "tortoise_config",
    "unmigrated_changes",
]

MODEL_MODULES = [
    "server.rewards.members",
    "server.rewards.activities",
    "server.rewards.ledger",
    "server.rewards.staff",
    "server.rewards.rules",
    "server.rewards.tiers",
    "server.rewards.prizes",
    "server.rewards.contests",
    "server.rewards.events",
    "server.rewards.integrations",
    "server.rewards.webhooks",
    "server.rewards.discounts",
    "server.rewards.metrics_rollup",
    "server.rewards.photos",
    "server.rewards.shop",
    "server.rewards.experiments",
    "badges.models",
]


_enter_pooled = TransactionContextPooled.__aenter__


async def _enter_or_clean_up(self: TransactionContextPooled) -> TransactionalDBClient:
    """Tortoise 1.1.9 sets the task's connection to the transaction before ``BEGIN``; when
    ``BEGIN`` fails (a pooled connection the server terminated), the task kept that dead
    transaction, and every later query of the request failed ("released back to the
    pool"), retries included. Undo both, then raise: the caller sees a lost connection."""
    try:
        return await _enter_pooled(self)
    except BaseException:
        token = getattr(self, "token", None)
        if token is not None:
            get_connections().reset(token)
            pool = self.client._parent._pool
            if pool is not None and self.client._connection is not None:
                with contextlib.suppress(Exception):
                    await pool.release(self.client._connection)
        raise


_exit_pooled = TransactionContextPooled.__aexit__


async def _exit_and_clean_up(
    self: TransactionContextPooled, exc_type: Any, exc_val: Any, exc_tb: Any
) -> None:
    """Likewise on the way out: when releasing a broken connection raises, Tortoise never
    resets the task's connection; reset it (once) whatever happened."""
    current = get_connections()
    try:
        await _exit_pooled(self, exc_type, exc_val, exc_tb)
    except BaseException:
        with contextlib.suppress(ValueError, RuntimeError):  # reset already done
            current.reset(self.token)
        raise


TransactionContextPooled.__aenter__ = _enter_or_clean_up  # type: ignore[method-assign]
TransactionContextPooled.__aexit__ = _exit_and_clean_up  # type: ignore[method-assign]


async def _keep_session(connection: asyncpg.Connection) -> None:
    """A pooled connection goes back to the pool without asyncpg's reset query (RESET ALL,
    UNLISTEN *, CLOSE ALL, pg_advisory_unlock_all): Laurel sets no session state, listens
    on nothing and takes no advisory lock, and that round trip cost about half of every
    pooled statement (docs/decisions/0028). asyncpg still rolls back a transaction left open."""


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The Tortoise config for one database: one app, ``laurel``, with shipped migrations."""
    if database_url.startswith("postgresql://"):
        database_url = "postgres://" + database_url.removeprefix("postgresql://")
    connection: str | dict[str, Any] = database_url
    if database_url.startswith("postgres://"):
        connection = expand_db_url(database_url)
        connection["credentials"]["reset"] = _keep_session
    return {
        "connections": {"default": connection},
        "apps": {
            "laurel": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "server.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


# Used by `tortoise makemigrations` (pyproject [tool.tortoise]); needs no database.
MIGRATIONS_CONFIG = tortoise_config("sqlite://:memory:")


async def apply_migrations(database_url: str) -> None:
    """Apply every shipped migration not yet applied and seed missing default rules and badges.

    Re-running is a no-op; rules and badges already present (perhaps edited) are kept.
    """
    try:
        await migrate(config=tortoise_config(database_url))
    finally:
        await Tortoise.close_connections()
    async with orm(database_url):
        await ensure_rules()
        await ensure_badges()
        await ensure_tiers()


@contextlib.asynccontextmanager
async def orm(database_url: str) -> AsyncIterator[None]:
    """Tortoise for this process: visible to every task (requests, background jobs)."""
    # Tortoise keeps each model's INSERT and UPDATE text per connection name and table,
    # not per dialect: after SQLite, PostgreSQL would get "?" placeholders (a process
    # that opens both, like `make bench`, failed with a syntax error). Forget them.
    EXECUTOR_CACHE.clear()
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    snapshots.changed()  # another database, or this one migrated and seeded since
    try:
        yield
    finally:
        await Tortoise.close_connections()


async def unmigrated_changes() -> list[str]:
    """Migrations `tortoise makemigrations` would write; computed without writing them
    (and without a database)."""
    async with TortoiseContext() as ctx:
        await ctx.init(config=MIGRATIONS_CONFIG)
        assert ctx.apps is not None
        writers = await MigrationAutodetector(ctx.apps, MIGRATIONS_CONFIG["apps"]).changes()
    return [f"{w.app_label}.{w.name}" for w in writers]


class Statement(NamedTuple):
    """One statement as Tortoise ran it: ``many`` when ``values`` is a list of rows
    (``executemany``), else the statement's values."""

    sql: str
    values: list[Any]
    many: bool


class _Statements(logging.Handler):
    """Collects the SQL of each statement logged, and its values; connection set-up
    lines are not SQL."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.sql: list[str] = []
        self.recorded: list[Statement] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "%s: %s" and isinstance(record.args, tuple):  # query: values
            query, values = str(record.args[0]), record.args[1]
            self.sql.append(query)
            rows = list(values) if isinstance(values, list) else []
            self.recorded.append(Statement(query, rows, many=record.funcName == "execute_many"))
        elif not str(record.msg).startswith(("Created connection", "Closed connection")):
            self.sql.append(record.getMessage())  # execute_script logs the bare script
            self.recorded.append(Statement(record.getMessage(), [], many=False))


@contextlib.contextmanager
def _listening() -> Iterator[_Statements]:
    """Tortoise's clients (SQLite and asyncpg alike) log each statement on
    ``tortoise.db_client`` at DEBUG just before running it; transaction control (BEGIN,
    COMMIT) is not logged."""
    logger = logging.getLogger("tortoise.db_client")
    handler = _Statements()
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # hundreds of DEBUG lines are not for anyone's log
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


@contextlib.contextmanager
def counting_statements() -> Iterator[list[str]]:
    """The SQL of every statement this process runs meanwhile, in order."""
    with _listening() as handler:
        yield handler.sql


@contextlib.contextmanager
def recording_statements() -> Iterator[list[Statement]]:
    """Every statement this process runs meanwhile with its values, in order (for a
    benchmark that replays them)."""
    with _listening() as handler:
        yield handler.recorded
