"""One process that opens SQLite and then PostgreSQL (``make bench`` does) writes to both."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import _create_pg_database, _drop_pg_database
from tests.servers import REPO

_SCRIPT = """
import asyncio, secrets, sys
from server.db import apply_migrations, orm
from server.rewards.members import Member

async def one(url):
    await apply_migrations(url)
    async with orm(url):
        code = secrets.token_hex(4)
        await Member.create(external_id="m" + code, display_name="M", referral_code=code)

for url in sys.argv[1:]:
    asyncio.run(one(url))
print("wrote to both")
"""


@pytest.mark.postgres_only
def test_postgresql_after_sqlite_in_one_process(tmp_path: Path) -> None:
    """Tortoise keeps each model's INSERT text per connection name and table, not per
    dialect: PostgreSQL once got SQLite's "?" placeholders (a syntax error)."""
    base = os.environ["LAUREL_TEST_DATABASE_URL"]
    name, url = asyncio.run(_create_pg_database(base))
    try:
        done = subprocess.run(
            [sys.executable, "-c", _SCRIPT, f"sqlite://{tmp_path}/first.sqlite3", url],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        asyncio.run(_drop_pg_database(base, name))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "wrote to both"
