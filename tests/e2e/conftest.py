"""A real `laurel serve --demo --seed-demo` on a free port (the embedded defaults, or on
the PostgreSQL pass a database of its own with the embedded Valkey), and Debian's
Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.conftest import _create_pg_database, _drop_pg_database, on_postgres
from tests.servers import REPO, free_port, stop, wait_healthy

pytestmark = pytest.mark.embedded_only

CHROMIUM = os.environ.get("LAUREL_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-background-networking"]


def chromium_missing() -> bool:
    return not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM))


@contextlib.contextmanager
def demo_site(data: Path, settings: dict[str, str] | None = None) -> Iterator[str]:
    """`laurel serve --seed-demo --demo` on ``data`` (with more ``LAUREL_*`` settings);
    yields its URL. On the PostgreSQL pass the SQL is a fresh database of its own
    (dropped afterwards)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUREL_")}
    env.update(LAUREL_DATA_DIR=str(data), LAUREL_PORT=str(port), LAUREL_LOG_LEVEL="warning")
    env.update(settings or {})
    base_url = os.environ.get("LAUREL_TEST_DATABASE_URL", "")
    database = None
    if on_postgres():
        database, env["LAUREL_DATABASE_URL"] = asyncio.run(_create_pg_database(base_url))
    try:
        yield from _serving(data, port, env)
    finally:
        if database is not None:
            asyncio.run(_drop_pg_database(base_url, database))


def _serving(data: Path, port: int, env: dict[str, str]) -> Iterator[str]:
    with (data / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--seed-demo", "--demo"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        problem = wait_healthy(process, base, data / "serve.log", seconds=120)
        if problem:
            raise RuntimeError(problem)
        yield base
    finally:
        stop(process)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with demo_site(tmp_path_factory.mktemp("site")) as base:
        yield base


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[object]:
    if chromium_missing():
        message = f"Chromium is not installed at {CHROMIUM}: apt-get install chromium"
        if os.environ.get("LAUREL_TEST_REQUIRE_BROWSER"):
            pytest.fail(message)  # CI installs it: a missing browser is a failure there
        pytest.skip(message)
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield launched
        finally:
            await launched.close()
