"""Jobs an operator runs on a live installation: releasing and expiring points,
rebuilding and checking the leaderboards, re-evaluating badges, checking balances.
Reads do the first two for each member they touch; these catch up in bulk."""

from __future__ import annotations

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from server import actions
from server.cli.running import run_job, settings_or_exit
from server.rewards.consistency import find_mismatches

__all__ = ["app"]

app = typer.Typer()


@app.command("release-pending")
def release_pending_command() -> None:
    """Make every due pending credit spendable (reads do this too; this catches up in bulk)."""
    settings = settings_or_exit()
    members, points = run_job(settings, actions.release_pending)
    typer.echo(f"released {points} points for {members} members")


@app.command("expire-points")
def expire_points_command() -> None:
    """Expire spendable points past LAUREL_POINTS_EXPIRE_DAYS, oldest first (safe to re-run)."""
    settings = settings_or_exit()
    members, points = run_job(settings, actions.expire_points)
    typer.echo(f"expired {points} points for {members} members")


@app.command("rebuild-leaderboards")
def rebuild_leaderboards_command() -> None:
    """Rebuild every leaderboard from the ledger (progress bar) and swap the boards in at
    once; readers never see a half-built board."""
    settings = settings_or_exit()

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

    done = run_job(settings, job, needs_redis=True)
    typer.echo(
        f"rebuilt {done.boards} boards from {done.entries} ledger entries in "
        f"{done.seconds:.1f} s; {done.removed} boards with nothing left removed"
    )


@app.command("check-leaderboards")
def check_leaderboards_command() -> None:
    """Compare every leaderboard with the ledger; print differences and exit 1 on any."""
    settings = settings_or_exit()
    differences = run_job(settings, actions.check_leaderboards, needs_redis=True)
    for d in differences:
        typer.echo(f"{d.key}: member {d.member_id} has {d.found}, the ledger says {d.expected}")
    if differences:
        raise typer.Exit(code=1)
    typer.echo("every leaderboard matches the ledger")


@app.command("reevaluate-badges")
def reevaluate_badges_command() -> None:
    """Check every member against every enabled badge: grant what is due, revoke what no
    longer holds (revocable badges only), and report the changes."""
    settings = settings_or_exit()

    async def job(svc: actions.Services) -> tuple[int, int]:
        with Progress(
            TextColumn("members"), BarColumn(), MofNCompleteColumn(), transient=True
        ) as bar:
            task = bar.add_task("members", total=None)
            return await actions.reevaluate_badges(
                svc, on_member=lambda done, total: bar.update(task, completed=done, total=total)
            )

    granted, revoked = run_job(settings, job)
    typer.echo(f"badge levels granted: {granted}, revoked: {revoked}")


@app.command("check-consistency")
def check_consistency_command() -> None:
    """Compare every member's cached balances with the ledger; exit 1 on any difference."""
    settings = settings_or_exit()
    mismatches = run_job(settings, lambda _svc: find_mismatches())
    for m in mismatches:
        typer.echo(
            f"member {m.member_id}: cached (balance, pending, lifetime) {m.cached} "
            f"!= ledger {m.ledger}"
        )
    if mismatches:
        raise typer.Exit(code=1)
    typer.echo("every balance matches its ledger")


@app.command("status")
def status_command() -> None:
    """Database, Redis and the boards, and each event-log consumer's cursor, lag and errors
    (what /healthz reports). Exits 1 unless everything is ok."""
    settings = settings_or_exit()
    state = run_job(settings, actions.status)
    typer.echo(f"database: {'ok' if state.database else 'down'}")
    typer.echo(f"redis: {state.redis}")
    typer.echo(f"event log: last event {state.last_event}, depth {state.depth}")
    for c in state.consumers:
        lease = c.lease_owner or "free"
        line = (
            f"  {c.name}: position {c.position}, lag {c.lag}, oldest "
            f"{c.oldest_seconds:.1f} s, failures {c.failures}, lease {lease}"
        )
        typer.echo(line + (f", last error: {c.last_error}" if c.last_error else ""))
    if not state.ok:
        raise typer.Exit(code=1)
