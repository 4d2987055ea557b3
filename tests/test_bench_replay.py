"""The money path's replay floor makes each replay's unique values anew and keeps the rest."""

from __future__ import annotations

from bench.money_replay import Captured, fresh_statements
from server.db import Statement

KEY = "redeemPrize-0123456789abcdef"


def test_a_replay_gets_a_new_key_and_new_unique_values_and_keeps_everything_else() -> None:
    captured = Captured(
        key=KEY,
        statements=(
            Statement(
                'SELECT 1 FROM "redemptions" WHERE "idempotency_key"=$1', [f"r:s:{KEY}"], False
            ),
            Statement(
                'INSERT INTO "redemptions" ("member_id","code","idempotency_key") '
                "VALUES ($1,$2,$3)",
                [7, "K7Q2ZD", f"r:s:{KEY}"],
                False,
            ),
            Statement(
                'INSERT INTO "ledger_entries" ("amount","idempotency_key") VALUES ($1,$2)',
                [-10, "spend:redemption:41"],
                False,
            ),
            Statement('INSERT INTO "effects_done" ("event_id") VALUES ($1)', [[95], [96]], True),
        ),
    )
    first, second = fresh_statements(captured), fresh_statements(captured)
    lookup, redemption, entry, done = first
    new_key = lookup.values[0]
    assert new_key.startswith("r:s:redeemPrize-")
    assert len(new_key) == len(f"r:s:{KEY}")
    assert new_key not in (f"r:s:{KEY}", second[0].values[0])
    member, code, key = redemption.values
    assert member == 7
    assert key == new_key  # the same key wherever the old one was
    assert len(code) == 6
    assert code not in ("K7Q2ZD", second[1].values[1])
    amount, ledger_key = entry.values
    # A key made from an id of the request is not the request's key: made anew too.
    assert amount == -10
    assert ledger_key != "spend:redemption:41"
    assert len(ledger_key) == len("spend:redemption:41")
    assert done == Statement(
        'INSERT INTO "effects_done" ("event_id") VALUES ($1)', [[95], [96]], True
    )
    assert [s.sql for s in first] == [s.sql for s in captured.statements]
