"""Every index a model declares exists once the shipped migrations ran, on both back ends.

On SQLite an earlier migration's table rebuild once lost both indexes of ledger_entries
(migration 0009 restores them): per-member reads of the ledger scanned it whole.
"""

from __future__ import annotations

import re

from tortoise import Tortoise, connections

from tests.conftest import Backend


async def _indexed_columns(table: str) -> set[tuple[str, ...]]:
    """The column lists of the table's indexes, as the database reports them."""
    conn = connections.get("default")
    if conn.capabilities.dialect == "sqlite":
        _, indexes = await conn.execute_query(f'PRAGMA index_list("{table}")')
        found = set()
        for index in indexes:
            _, columns = await conn.execute_query(f'PRAGMA index_info("{index["name"]}")')
            found.add(tuple(c["name"] for c in sorted(columns, key=lambda c: c["seqno"])))
        return found
    _, rows = await conn.execute_query(
        "SELECT indexdef FROM pg_indexes WHERE tablename = $1", [table]
    )
    return {
        tuple(c.strip().strip('"') for c in re.search(r"\((.*)\)", r["indexdef"])[1].split(","))  # type: ignore[index]
        for r in rows
    }


async def test_every_declared_index_exists(database: Backend) -> None:
    missing = []
    declared = 0
    for model in Tortoise.apps["laurel"].values():
        have = await _indexed_columns(model._meta.db_table)
        for index in model._meta.indexes:
            declared += 1
            if tuple(index) not in have:
                missing.append((model._meta.db_table, tuple(index)))
    assert declared >= 10  # the models were found and declare their indexes
    assert missing == [], missing
