"""The ``laurel`` command: serve, migrate, seed the demo, keys and tokens, ledger jobs.

Each command parses its arguments, calls one use case and prints the result;
bad settings or input end with one line on stderr and exit code 2. The
commands live by purpose in ``serving``, ``admin`` and ``jobs``, assembled in
``commands``.

Importing this package imports nothing else: every ``laurel serve --workers N``
worker is a spawned interpreter that re-imports the ``laurel`` script (and so this
package) before it can answer uvicorn's health check, and on a busy machine the
whole CLI (ORM, Redis, Pillow, the demo) took seconds to import.
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    from server.cli.commands import app  # the commands and all they need, on demand

    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
