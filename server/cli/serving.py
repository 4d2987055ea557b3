"""``laurel serve``: migrate, start the embedded Valkey when no Redis is configured, and
run the app with uvicorn (one process, or several workers on PostgreSQL).

With workers, uvicorn's parent replaces a worker that dies, and kills one that does not
answer its health check within ``LAUREL_WORKER_HEALTHCHECK_SECONDS``. uvicorn's own 5 s
also applies to a replacement that is still starting up (a spawned interpreter importing
the ``laurel`` script); on a loaded machine that took longer, and each replacement was
killed in turn. A frozen worker is rare (the check is answered by a thread), a slow start
is not, so the default is generous; ``server.cli.supervision`` keeps a worker that dies
during a check from holding the parent for all of it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from typing import Annotated

import typer
import uvicorn

from leaderboards import EmbeddedValkey
from server import actions
from server.cli import supervision
from server.cli.running import fail, run_job, settings_or_exit
from server.db import apply_migrations
from server.demo import seed_demo

__all__ = ["app"]

app = typer.Typer()


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
    settings = settings_or_exit()
    if workers > 1 and settings.resolved_database_url.startswith("sqlite"):
        fail("--workers above 1 needs PostgreSQL (LAUREL_DATABASE_URL): SQLite has one writer")
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
        settings = settings_or_exit()
        typer.echo(f"embedded Valkey at {settings.redis_url}, data in {embedded.data_dir}")
    try:
        # Boards that Redis lost (or never had) are rebuilt before anyone reads them.
        healed = run_job(settings, actions.heal_boards)
        if healed is not None:
            typer.echo(f"leaderboards rebuilt from {healed.entries} ledger entries")
        if seed:
            summary = run_job(settings, seed_demo)
            typer.echo(f"demo community ready: {summary.members} members")
        typer.echo(f"Laurel on http://{settings.host}:{settings.port}/ (GraphiQL at /graphql)")
        supervision.install()  # a worker that dies mid health check is replaced at once
        uvicorn.run(
            "server.app:app_from_environment",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            log_level=settings.log_level,
            lifespan="on",
            timeout_worker_healthcheck=settings.worker_healthcheck_seconds,
            # Slow or huge headers (server/limits_http.py); bodies are bounded by the app.
            http="server.limits_http:H11WithHeaderTimeout",
            h11_max_incomplete_event_size=16 * 1024,
            timeout_keep_alive=5,
        )
    finally:
        if embedded is not None:
            embedded.stop()


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)
