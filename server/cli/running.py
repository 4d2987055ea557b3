"""What every command shares: settings, one-line failures, and running one use case
with the ORM and (when configured or running) Redis for the length of the command."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import NoReturn, TypeVar

import typer

from leaderboards import EmbeddedValkey, Leaderboards, connect
from server import actions
from server.db import apply_migrations, orm
from server.rewards.errors import RewardsError
from server.settings import Settings, SettingsError, load_settings

__all__ = ["fail", "run_job", "settings_or_exit"]

T = TypeVar("T")


def settings_or_exit() -> Settings:
    """The settings from the environment; bad ones end the command with exit code 2."""
    try:
        return load_settings()
    except SettingsError as exc:
        fail(str(exc))


def fail(message: str) -> NoReturn:
    """End the command with ``error: message`` on stderr and exit code 2."""
    # Plain echo: one line whatever the width, and user text is never read as markup.
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


@contextlib.asynccontextmanager
async def _redis_url(settings: Settings, *, start: bool) -> AsyncIterator[str | None]:
    """The configured Redis; else the embedded Valkey of a running server on this data dir;
    else, with ``start``, a private one for the command (its data persists in DATA_DIR)."""
    if settings.redis_url:
        yield settings.redis_url
        return
    running = EmbeddedValkey.running_url(settings.data_dir)
    if running is not None or not start:
        yield running
        return
    embedded = EmbeddedValkey(settings.data_dir)
    url = await asyncio.to_thread(embedded.start)
    try:
        yield url
    finally:
        await asyncio.to_thread(embedded.stop)


@contextlib.asynccontextmanager
async def _services(
    settings: Settings, *, with_redis: bool = True, start_redis: bool = False
) -> AsyncIterator[actions.Services]:
    """ORM and Redis (when configured or running) for a one-shot command."""
    async with _redis_url(settings, start=start_redis) as url:
        redis = connect(url, cluster=settings.redis_cluster) if with_redis and url else None
        boards = Leaderboards(redis) if redis is not None else None
        try:
            async with orm(settings.resolved_database_url):
                svc = actions.services_for(settings, boards)
                try:
                    yield svc
                finally:
                    await svc.events.release()  # a lease the command took goes back
        finally:
            if redis is not None:
                await redis.aclose()


def run_job(
    settings: Settings,
    job: Callable[[actions.Services], Awaitable[T]],
    *,
    needs_redis: bool = False,
) -> T:
    """Migrate, then run ``job`` with the services; a use case's error ends the command."""

    async def go() -> T:
        await apply_migrations(settings.resolved_database_url)
        async with _services(settings, start_redis=needs_redis) as svc:
            return await job(svc)

    try:
        return asyncio.run(go())
    except RewardsError as exc:
        fail(exc.message)
    except OSError as exc:
        fail(f"cannot reach a configured service: {exc}")
