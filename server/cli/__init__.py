"""The ``laurel`` command: serve, migrate, seed the demo, keys and tokens, ledger jobs.

Each command parses its arguments, calls one use case and prints the result;
bad settings or input end with one line on stderr and exit code 2. The
commands live by purpose in ``serving``, ``admin`` and ``jobs``.
"""

from __future__ import annotations

import sys

import typer

from server.cli import admin, jobs, serving

__all__ = ["main"]

app = typer.Typer(
    help="Laurel: gamified community rewards for online shops.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(serving.app)
app.add_typer(admin.app)
app.add_typer(jobs.app)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
