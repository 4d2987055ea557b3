"""The ``laurel`` command: serve, migrate, seed the demo, keys and tokens, ledger jobs.

Each command parses its arguments, calls one use case and prints the result;
bad settings or input end with one line on stderr and exit code 2.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
import uvicorn
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from badges import default_contact_sheet
from leaderboards import EmbeddedValkey, Leaderboards, connect
from server import actions
from server.actions.common import services_for
from server.auth import create_api_key, issue_member_token
from server.db import apply_migrations, orm
from server.demo import seed_demo
from server.rewards.errors import RewardsError
from server.rewards.ledger import find_mismatches
from server.rewards.staff import StaffRole
from server.settings import Settings, SettingsError, load_settings

__all__ = ["main"]

app = typer.Typer(
    help="Laurel: gamified community rewards for online shops.",
    no_args_is_help=True,
    add_completion=False,
)
T = TypeVar("T")


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        _fail(str(exc))


def _fail(message: str) -> NoReturn:
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
        redis = connect(url) if with_redis and url else None
        boards = Leaderboards(redis) if redis is not None else None
        try:
            async with orm(settings.resolved_database_url):
                yield services_for(settings, boards)
        finally:
            if redis is not None:
                await redis.aclose()


def _run(
    settings: Settings,
    job: Callable[[actions.Services], Awaitable[T]],
    *,
    needs_redis: bool = False,
) -> T:
    async def go() -> T:
        await apply_migrations(settings.resolved_database_url)
        async with _services(settings, start_redis=needs_redis) as svc:
            return await job(svc)

    try:
        return asyncio.run(go())
    except RewardsError as exc:
        _fail(exc.message)
    except OSError as exc:
        _fail(f"cannot reach a configured service: {exc}")


@app.command()
def migrate() -> None:
    """Apply the shipped database migrations (a no-op when up to date)."""
    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(apply_migrations(settings.resolved_database_url))
    typer.echo("database is up to date")


@app.command("seed-demo")
def seed_demo_command() -> None:
    """Create the demo community (~50 members with purchases); running it again changes nothing."""
    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    summary = _run(settings, seed_demo)
    typer.echo(
        f"demo community: {summary.members} members, {summary.purchases_new} purchases added, "
        f"{summary.purchases_seen} already there"
    )


@app.command("create-api-key")
def create_api_key_command(
    role: Annotated[str, typer.Option(help="service, moderator or admin")],
    name: Annotated[str, typer.Option(help="Who uses the key, e.g. 'shop backend'")],
) -> None:
    """Print a new API key (stored hashed: it cannot be shown again)."""
    try:
        staff_role = StaffRole(role.upper())
    except ValueError:
        _fail("--role must be one of service, moderator, admin")
    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = _run(settings, lambda _svc: create_api_key(staff_role, name))
    typer.echo(key)


@app.command("member-token")
def member_token_command(
    external_id: Annotated[str, typer.Argument(help="The member's external id")],
    ttl_minutes: Annotated[int, typer.Option(min=1, max=60 * 24 * 90)] = 60 * 24,
) -> None:
    """Print a shopper token (JWT) for a member."""
    settings = _settings()
    secret = settings.resolved_jwt_secret()
    token = _run(
        settings,
        lambda _svc: issue_member_token(external_id, secret, ttl=timedelta(minutes=ttl_minutes)),
    )
    typer.echo(token)


@app.command("release-pending")
def release_pending_command() -> None:
    """Make every due pending credit spendable (reads do this too; this catches up in bulk)."""
    settings = _settings()
    members, points = _run(settings, actions.release_pending)
    typer.echo(f"released {points} points for {members} members")


@app.command("expire-points")
def expire_points_command() -> None:
    """Expire spendable points past LAUREL_POINTS_EXPIRE_DAYS, oldest first (safe to re-run)."""
    settings = _settings()
    members, points = _run(settings, actions.expire_points)
    typer.echo(f"expired {points} points for {members} members")


@app.command("rebuild-leaderboards")
def rebuild_leaderboards_command() -> None:
    """Rebuild every leaderboard from the ledger (progress bar) and swap the boards in at
    once; readers never see a half-built board."""
    settings = _settings()

    async def job(svc: actions.Services) -> actions.Rebuilt:
        with Progress(
            TextColumn("ledger entries"), BarColumn(), MofNCompleteColumn(), transient=True
        ) as bar:
            task = bar.add_task("entries", total=None)
            return await actions.rebuild_leaderboards(
                svc,
                on_start=lambda total: bar.update(task, total=total),
                on_rows=lambda n: bar.advance(task, n),
            )

    done = _run(settings, job, needs_redis=True)
    typer.echo(
        f"rebuilt {done.boards} boards from {done.entries} ledger entries in "
        f"{done.seconds:.1f} s; {done.removed} boards with nothing left removed"
    )


@app.command("check-leaderboards")
def check_leaderboards_command() -> None:
    """Compare every leaderboard with the ledger; print differences and exit 1 on any."""
    settings = _settings()
    differences = _run(settings, actions.check_leaderboards, needs_redis=True)
    for d in differences:
        typer.echo(f"{d.key}: member {d.member_id} has {d.found}, the ledger says {d.expected}")
    if differences:
        raise typer.Exit(code=1)
    typer.echo("every leaderboard matches the ledger")


@app.command("load-codes")
def load_codes_command(
    prize_id: Annotated[str, typer.Argument(help="The prize's id")],
    path: Annotated[Path, typer.Argument(help="A text file with one code per line")],
) -> None:
    """Add pre-loaded codes (gift cards, shop discount codes) to a prize's pool; codes
    already there are skipped. The prize then hands out only pool codes."""
    settings = _settings()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {path}: {exc}")

    async def job(svc: actions.Services) -> tuple[int, int]:
        with Progress(
            TextColumn("codes"), BarColumn(), MofNCompleteColumn(), transient=True
        ) as bar:
            task = bar.add_task("codes", total=sum(1 for line in lines if line.strip()))
            return await actions.load_codes(
                prize_id, lines, on_batch=lambda n: bar.advance(task, n)
            )

    added, known = _run(settings, job)
    typer.echo(f"added {added} codes; {known} were already there")


@app.command("reevaluate-badges")
def reevaluate_badges_command() -> None:
    """Check every member against every enabled badge: grant what is due, revoke what no
    longer holds (revocable badges only), and report the changes."""
    settings = _settings()

    async def job(svc: actions.Services) -> tuple[int, int]:
        with Progress(
            TextColumn("members"), BarColumn(), MofNCompleteColumn(), transient=True
        ) as bar:
            task = bar.add_task("members", total=None)
            return await actions.reevaluate_badges(
                svc, on_member=lambda done, total: bar.update(task, completed=done, total=total)
            )

    granted, revoked = _run(settings, job)
    typer.echo(f"badge levels granted: {granted}, revoked: {revoked}")


@app.command("badge-sheet")
def badge_sheet_command(
    path: Annotated[Path, typer.Argument(help="Where to write the PNG")] = Path("docs/badges.png"),
    size: Annotated[int, typer.Option(min=64, max=512, help="Pixels per badge")] = 128,
) -> None:
    """Draw every default badge at every level on one contact sheet (a PNG)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        default_contact_sheet(size).save(path)
    except OSError as exc:
        _fail(f"cannot write {path}: {exc}")
    typer.echo(f"wrote {path}")


@app.command("check-consistency")
def check_consistency_command() -> None:
    """Compare every member's cached balances with the ledger; exit 1 on any difference."""
    settings = _settings()
    mismatches = _run(settings, lambda _svc: find_mismatches())
    for m in mismatches:
        typer.echo(
            f"member {m.member_id}: cached (balance, pending, lifetime) {m.cached} "
            f"!= ledger {m.ledger}"
        )
    if mismatches:
        raise typer.Exit(code=1)
    typer.echo("every balance matches its ledger")


@app.command()
def serve(
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes")] = 1,
    seed: Annotated[
        bool, typer.Option("--seed-demo", help="Seed the demo community first")
    ] = False,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo", help="Dev only: demo sign-in for the pages (hands out tokens and keys)"
        ),
    ] = False,
) -> None:
    """Migrate, then serve the API (and start an embedded Valkey when LAUREL_REDIS_URL is unset)."""
    if demo:
        os.environ["LAUREL_DEMO"] = "1"  # the workers read their settings from the environment
    settings = _settings()
    if workers > 1 and settings.resolved_database_url.startswith("sqlite"):
        _fail("--workers above 1 needs PostgreSQL (LAUREL_DATABASE_URL): SQLite has one writer")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    asyncio.run(apply_migrations(settings.resolved_database_url))
    settings.resolved_jwt_secret()  # generate it once, before any worker needs it
    # uvicorn re-raises the SIGTERM it handled once it has shut down; turn that
    # into an exception so that the embedded Valkey below is stopped too.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    embedded: EmbeddedValkey | None = None
    if settings.redis_url is None:
        embedded = EmbeddedValkey(settings.data_dir)
        os.environ["LAUREL_REDIS_URL"] = embedded.start()
        settings = _settings()
        typer.echo(f"embedded Valkey at {settings.redis_url}, data in {embedded.data_dir}")
    try:
        if seed:
            summary = _run(settings, seed_demo)
            typer.echo(f"demo community ready: {summary.members} members")
        typer.echo(f"Laurel on http://{settings.host}:{settings.port}/ (GraphiQL at /graphql)")
        uvicorn.run(
            "server.app:app_from_environment",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            log_level=settings.log_level,
            lifespan="on",
        )
    finally:
        if embedded is not None:
            embedded.stop()


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
