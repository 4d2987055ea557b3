"""The money path's second floor: the product's own statements, replayed through asyncpg.

One request per floor connection is sent to the product in the bench's own process
(after the load, so that each member's early badge levels are behind it) with every
statement Tortoise runs logged with its values (``server.db.recording_statements``).
Each floor connection then runs its request's statements again and again, in order, in
one transaction each: the same SQL with the same values, but a fresh idempotency key
wherever the old one appears, and fresh values in the unique columns each INSERT fills
(idempotency and dedupe keys, a redemption's code), which the original already holds.

The transaction is rolled back, so that nothing it writes is left for the servers'
event log to work on (``bench.money_path`` gives the event ids it took back afterwards).
A rollback costs the database less than a commit: the floor is, if anything, faster
than the work it stands for, and its ratio no better than the truth.

What the floor leaves out is what the product adds in Python: HTTP, authentication,
GraphQL, Tortoise building each statement and its models, and the badge, tier and event
log logic between the statements; that is what its ratio measures.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

import asyncpg

from server.db import Statement

__all__ = ["Captured", "fresh_statements", "replay"]

_INSERT = re.compile(r'^INSERT INTO "(\w+)" \(([^)]*)\)')
# Unique columns an INSERT's replay fills anew unless they hold the request's key: some
# hold ids made in the request (a purchase's ledger key names its activity).
_FRESH = frozenset({"idempotency_key", "dedupe_key", "code"})
_KEY_TAIL = 16  # the bench's keys end in 16 hex digits (bench.money_path._request)


@dataclass(frozen=True, slots=True)
class Captured:
    """One request's statements, in order, with the idempotency key it was sent with."""

    key: str
    statements: tuple[Statement, ...]


def fresh_statements(captured: Captured) -> list[Statement]:
    """The request's statements with a new idempotency key (and redemption code)."""
    new_key = captured.key[:-_KEY_TAIL] + secrets.token_hex(_KEY_TAIL // 2)
    made: list[Statement] = []
    for query, old, many in captured.statements:
        if many:  # executemany's rows, each its own list of values
            rows = [_renewed(query, row, captured.key, new_key) for row in old]
            made.append(Statement(query, rows, many=True))
        else:
            made.append(Statement(query, _renewed(query, old, captured.key, new_key), many=False))
    return made


def _renewed(query: str, old: list[Any], key: str, new_key: str) -> list[Any]:
    values = [v.replace(key, new_key) if isinstance(v, str) else v for v in old]
    insert = _INSERT.match(query)
    if insert is not None:
        columns = [c.strip().strip('"') for c in insert.group(2).split(",")]
        for i, column in enumerate(columns):
            value = values[i]
            if column in _FRESH and isinstance(value, str) and key not in old[i]:
                values[i] = secrets.token_hex(len(value))[: len(value)].upper()
    return values


async def replay(conn: asyncpg.Connection, captured: Captured) -> None:
    """Run the request's statements again in one transaction, then roll it back."""
    transaction = conn.transaction()
    await transaction.start()
    try:
        for query, values, many in fresh_statements(captured):
            try:
                if many:
                    await conn.executemany(query, values)
                else:
                    await conn.fetch(query, *values)
            except asyncpg.PostgresError as exc:
                raise RuntimeError(f"replaying {query!r} with {values!r}: {exc}") from exc
    finally:
        await transaction.rollback()
