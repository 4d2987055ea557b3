"""The ``laurel`` Typer app: the commands of ``serving``, ``admin`` and ``jobs``."""

from __future__ import annotations

import typer

from server.cli import admin, jobs, reports, serving

__all__ = ["app"]

app = typer.Typer(
    help="Laurel: gamified community rewards for online shops.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(serving.app)
app.add_typer(admin.app)
app.add_typer(jobs.app)
app.add_typer(reports.app)
