"""``laurel report``: the program's metrics of a range in the terminal, as CSV or JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from server import actions
from server.actions.metrics_export import as_csv, rows
from server.auth import Principal, Role
from server.cli.running import fail, run_job, settings_or_exit

__all__ = ["app"]

app = typer.Typer()
_OWNER = Principal(role=Role.ADMIN, name="laurel report")


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _when(value: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        fail(f"{name} must be a date or time like 2026-01-31 (ISO 8601)")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command()
def report(
    start: Annotated[str, typer.Option("--from", help="Start (ISO 8601, UTC if no offset)")],
    end: Annotated[str, typer.Option("--to", help="End, not included")],
    interval: Annotated[
        actions.Interval, typer.Option(case_sensitive=False, help="Rows per DAY, WEEK or MONTH")
    ] = actions.Interval.MONTH,
    form: Annotated[Format, typer.Option("--format", help="table, csv or json")] = Format.table,
) -> None:
    """Does the program pay? Orders, revenue, retention, CLV and points, per interval
    (README, Program metrics)."""
    settings = settings_or_exit()
    begin, finish = _when(start, "--from"), _when(end, "--to")

    async def job(svc: actions.Services) -> actions.Metrics:
        return await actions.program_metrics(
            svc, _OWNER, start=begin, end=finish, interval=interval
        )

    found = run_job(settings, job)
    if form is Format.csv:
        typer.echo(as_csv(found), nl=False)
        return
    if form is Format.json:
        typer.echo(json.dumps(rows(found), indent=2))
        return
    table = Table(title=f"Program metrics {begin:%Y-%m-%d} to {finish:%Y-%m-%d}")
    every = rows(found)
    shown = [c for c in every[0] if c != "end"]
    for column in shown:
        table.add_column(column, justify="left" if column == "start" else "right")
    for n, row in enumerate(every):
        label = "whole range" if n == len(every) - 1 else row["start"][:10]
        table.add_row(label, *(str(row[c]) for c in shown[1:]))
    Console(width=300).print(table)
