"""Setting up an installation: the database, the demo, API keys (create, list, revoke),
shopper tokens, prize code pools and the badge contact sheet."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from badges import default_contact_sheet
from server import actions
from server.actions import staff_keys
from server.actions.order_import import ImportReport, import_orders
from server.auth import Principal, Role, create_api_key, issue_member_token, public_prefix
from server.cli.running import fail, run_job, settings_or_exit
from server.db import apply_migrations
from server.demo import seed_demo
from server.rewards.staff import ApiKey, StaffRole

__all__ = ["app"]

app = typer.Typer()
# Whoever may run the CLI on the server may do what an ADMIN may.
_OWNER = Principal(role=Role.ADMIN, name="laurel cli")


@app.command()
def migrate() -> None:
    """Apply the shipped database migrations (a no-op when up to date)."""
    settings = settings_or_exit()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(apply_migrations(settings.resolved_database_url))
    typer.echo("database is up to date")


@app.command("seed-demo")
def seed_demo_command() -> None:
    """Create the demo community (~50 members with purchases); running it again changes nothing."""
    settings = settings_or_exit()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    summary = run_job(settings, seed_demo)
    typer.echo(
        f"demo community: {summary.members} members, {summary.purchases_new} purchases added, "
        f"{summary.purchases_seen} already there"
    )


@app.command("create-api-key")
def create_api_key_command(
    role: Annotated[str, typer.Option(help="service, moderator or admin")],
    name: Annotated[str, typer.Option(help="Who uses the key, e.g. 'shop backend'")],
    idempotency_scope: Annotated[
        str | None,
        typer.Option(help="Share idempotency keys with the other keys given this scope"),
    ] = None,
) -> None:
    """Print a new API key (stored hashed: it cannot be shown again)."""
    try:
        staff_role = StaffRole(role.upper())
    except ValueError:
        fail("--role must be one of service, moderator, admin")
    settings = settings_or_exit()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = run_job(
        settings,
        lambda _svc: create_api_key(staff_role, name, idempotency_scope=idempotency_scope),
    )
    typer.echo(key)


@app.command("list-api-keys")
def list_api_keys_command() -> None:
    """Print every API key, newest first: its prefix, name, role and when it was made
    and revoked (the secrets are not kept)."""
    settings = settings_or_exit()
    rows = run_job(settings, lambda _svc: staff_keys.api_keys(_OWNER))
    if not rows:
        typer.echo("no API keys yet: make one with `laurel create-api-key`")
        return
    table = Table("prefix", "name", "role", "created (UTC)", "revoked (UTC)", box=None)
    for row in rows:
        revoked = f"{row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "-"
        # Names are free text: never read as console markup.
        table.add_row(
            public_prefix(row.prefix),
            Text(row.name),
            row.role.value,
            f"{row.created_at:%Y-%m-%d %H:%M}",
            revoked,
        )
    Console(width=200).print(table)


@app.command("revoke-api-key")
def revoke_api_key_command(
    prefix: Annotated[
        str, typer.Argument(help="The key's prefix as list-api-keys shows it, or the whole key")
    ],
) -> None:
    """Revoke an API key: from its next request on, on every worker, it gets 401.
    Revoking a revoked key changes nothing."""
    settings = settings_or_exit()
    row, revoked_now = run_job(
        settings, lambda svc: staff_keys.revoke_api_key_by_prefix(svc, _OWNER, prefix)
    )
    typer.echo(
        f"revoked {_described(row)}"
        if revoked_now
        else f"{_described(row)} was already revoked on {row.revoked_at:%Y-%m-%d %H:%M} UTC"
    )


def _described(row: ApiKey) -> str:
    return f"API key {public_prefix(row.prefix)} ({row.role.value}, {row.name!r})"


@app.command("member-token")
def member_token_command(
    external_id: Annotated[str, typer.Argument(help="The member's external id")],
    ttl_minutes: Annotated[int, typer.Option(min=1, max=60 * 24 * 90)] = 60 * 24,
) -> None:
    """Print a shopper token (JWT) for a member."""
    settings = settings_or_exit()
    secret = settings.resolved_jwt_secret()
    token = run_job(
        settings,
        lambda _svc: issue_member_token(external_id, secret, ttl=timedelta(minutes=ttl_minutes)),
    )
    typer.echo(token)


@app.command("load-codes")
def load_codes_command(
    prize_id: Annotated[str, typer.Argument(help="The prize's id")],
    path: Annotated[Path, typer.Argument(help="A text file with one code per line")],
) -> None:
    """Add pre-loaded codes (gift cards, shop discount codes) to a prize's pool; codes
    already there are skipped. The prize then hands out only pool codes."""
    settings = settings_or_exit()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {path}: {exc}")

    async def job(svc: actions.Services) -> tuple[int, int]:
        with Progress(
            TextColumn("codes"), BarColumn(), MofNCompleteColumn(), transient=True
        ) as bar:
            task = bar.add_task("codes", total=sum(1 for line in lines if line.strip()))
            return await actions.load_codes(
                prize_id, lines, on_batch=lambda n: bar.advance(task, n)
            )

    added, known = run_job(settings, job)
    typer.echo(f"added {added} codes; {known} were already there")


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
        fail(f"cannot write {path}: {exc}")
    typer.echo(f"wrote {path}")


@app.command("import-orders")
def import_orders_command(
    path: Annotated[Path, typer.Argument(help="CSV: member,order,amount,time,products")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the file; record nothing")
    ] = False,
) -> None:
    """Record the shop's past orders (points, tiers and metrics from its whole history).
    Idempotent by order id; bad rows are reported with their line and skipped."""
    settings = settings_or_exit()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {path}: {exc}")

    async def job(svc: actions.Services) -> ImportReport:
        with Progress(
            TextColumn("orders"), BarColumn(), MofNCompleteColumn(), transient=True
        ) as bar:
            task = bar.add_task("orders", total=max(0, text.count("\n") - 1))
            return await import_orders(svc, text, dry_run=dry_run, on_row=lambda: bar.advance(task))

    try:
        report = run_job(settings, job)
    except ValueError as exc:
        fail(f"{path}: {exc}")
    for line, why in report.bad:
        typer.echo(f"line {line}: {why}", err=True)
    verb = "would import" if dry_run else "imported"
    typer.echo(
        f"{verb} {report.imported} orders; {report.already} were there already; "
        f"{len(report.bad)} bad rows skipped"
    )
