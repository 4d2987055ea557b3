"""programMetrics read from its rollups (docs/decisions/0034): the same figures when
entries come after the rollups were built (orders dated before others, at midnight), when
an entry commits after a larger id, after a rebuild from nothing, and with no rollup.

The history is ``test_metrics``'s (its docstring works out every figure); the figures
after the additions are worked out here.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from server.actions import Services
from server.rewards import metrics_catchup
from server.rewards.members import Member
from server.rewards.metrics import figures
from server.rewards.metrics_rollup import ActivityRow, LedgerDay, MemberDay, MetricsCursor
from tests.conftest import Backend, Clock, GraphQL, on_postgres
from tests.helpers import PURCHASE, UPSERT, purchase_input
from tests.server.test_metrics import FROM, TO, _history, _metrics

# Two writers at once: PostgreSQL only (SQLite's writers take turns).
needs_postgres = pytest.mark.skipif(
    not on_postgres(), reason="needs PostgreSQL: SQLite serializes writes"
)

# The test_metrics history with D's order of 30.00 at 03-01 00:00 (the range's first
# instant, before D's 04-20 order) and E's of 10.00 at 04-30 23:00.
AFTER = {
    "activeMembers": 5,  # A, B, C, D and now E
    "newMembers": 2,
    "orders": 8,
    "revenueCents": 25_500,  # 22500 + 3000 + 1000, minus 1000 refunded
    "averageOrderValueCents": 3_312,  # 26500 / 8, rounded down
    "purchaseFrequency": 1.6,  # 8 orders / 5 buyers
    "repeatPurchaseRate": 0.6,  # A, C and now D of the 5
    "retentionRate": 1.0,  # A, B, E bought before; all three again (E on 04-30)
    "secondPurchaseRate": 1.0,  # C and D (first 03-01, again 04-20) of C and D
    "historicalClvCents": 10_100,  # (47500 + 4000 - 1000) / 5
    "predictedClv12mCents": 10_100,  # the same orders, all after 2025-05-01
    "pointsIssued": 265,  # 225 + 30 + 10
    "pointsReversed": 10,
    "pointsRedeemed": 50,
    "pointsExpired": 100,
    "pointsOutstanding": 555,  # 515 + 40
    "liabilityCents": 555,
    "redemptionRate": pytest.approx(50 / 265),
    "breakageRate": pytest.approx(100 / 265),
}
SERIES_AFTER = [  # March: 4 orders + D's at 03-01; April: 2 + E's
    {"start": FROM, "end": "2026-04-01T00:00:00+00:00", "orders": 5, "revenueCents": 19_000},
    {"start": "2026-04-01T00:00:00+00:00", "end": TO, "orders": 3, "revenueCents": 6_500},
]


async def _order(gql: GraphQL, keys: dict[str, str], member: str, at: str, cents: int) -> None:
    given = {**purchase_input(member, f"{member}-{at}", cents), "occurredAt": at}
    done = await gql(PURCHASE, {"input": given}, auth=keys["SERVICE"])
    assert done["recordPurchase"]["__typename"] == "ActivityRecorded", done


async def _rolled_up() -> tuple[int, int, int, int]:
    return (
        await MetricsCursor.all().count(),
        await LedgerDay.all().count(),
        await MemberDay.all().count(),
        await ActivityRow.all().count(),
    )


async def test_entries_after_the_rollups_were_built(
    svc: Services, gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    await _history(svc, gql, keys, clock)
    assert (await _metrics(gql, keys))["orders"] == 6  # builds the rollups
    assert all(await _rolled_up())
    await _order(gql, keys, "D", "2026-03-01T00:00:00Z", 3_000)
    await _order(gql, keys, "E", "2026-04-30T23:00:00Z", 1_000)
    m = await _metrics(gql, keys)  # catches up with the two orders
    assert m.pop("series") == SERIES_AFTER
    assert m == AFTER
    await metrics_catchup.rebuild()  # from nothing: the same
    again = await _metrics(gql, keys)
    assert again.pop("series") == SERIES_AFTER
    assert again == AFTER


async def test_the_figures_without_any_rollup(
    svc: Services, gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    """Rollups and cursors gone (as before the first query): every figure from the raw
    tables above a cursor of 0, the same."""
    await _history(svc, gql, keys, clock)
    await _metrics(gql, keys)
    await _order(gql, keys, "D", "2026-03-01T00:00:00Z", 3_000)
    await _order(gql, keys, "E", "2026-04-30T23:00:00Z", 1_000)
    for model in (MetricsCursor, LedgerDay, MemberDay, ActivityRow):
        await model.all().delete()
    found = await figures(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))
    assert await _rolled_up() == (0, 0, 0, 0)  # the domain's sums do not catch up
    assert (found.orders, found.order_cents - found.refund_cents) == (8, 25_500)
    assert (found.buyers, found.repeat_buyers, found.retained_buyers) == (5, 3, 3)
    assert (found.first_buyers, found.second_within_90, found.clv_buyers) == (2, 2, 5)
    assert (found.points_issued, found.points_outstanding) == (265, 555)


TIERS = """query($from: DateTime!, $to: DateTime!) {
  programMetrics(from: $from, to: $to) { tierDistribution { tier members } } }"""


async def test_tiers_take_the_window_s_midnights_right(
    svc: Services, gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    """The tiers' window before `to` (2026-05-01) is (2025-05-01, 2026-05-01]: an order at
    its first midnight does not count, one at its last does, one later that day does not.
    Silver from 500 qualifying points."""
    await _history(svc, gql, keys, clock)
    for name in ("F", "G", "H"):
        joined = {"externalId": name, "displayName": name, "joinedAt": "2024-01-01T00:00:00Z"}
        await gql(UPSERT, {"input": joined}, auth=keys["SERVICE"])
    await gql(TIERS, {"from": FROM, "to": TO}, auth=keys["ADMIN"])  # builds the rollups
    for name in ("F", "G", "H"):
        await _order(gql, keys, name, "2026-01-15T12:00:00Z", 26_000)  # 260 points each
    await _order(gql, keys, "F", "2025-05-01T00:00:00Z", 30_000)  # 300, out: F 260
    await _order(gql, keys, "G", "2026-05-01T00:00:00Z", 25_000)  # 250, in: G 510
    await _order(gql, keys, "H", "2026-05-01T10:00:00Z", 25_000)  # 250, out: H 260
    found = await gql(TIERS, {"from": FROM, "to": TO}, auth=keys["ADMIN"])
    assert found["programMetrics"]["tierDistribution"] == [
        {"tier": "Bronze", "members": 7},  # A, B, C, D, E, F and H
        {"tier": "Silver", "members": 1},  # G
        {"tier": "Gold", "members": 0},
        {"tier": "Platinum", "members": 0},
    ]
    # `to` at 12:00: the window is (2025-05-01 12:00, 2026-05-01 12:00], its two days
    # read from the raw ledger. F's 2025-05-01 order stays out; H's 10:00 one is in.
    noon = await gql(TIERS, {"from": FROM, "to": "2026-05-01T12:00:00Z"}, auth=keys["ADMIN"])
    assert noon["programMetrics"]["tierDistribution"] == [
        {"tier": "Bronze", "members": 6},
        {"tier": "Silver", "members": 2},  # G and H
        {"tier": "Gold", "members": 0},
        {"tier": "Platinum", "members": 0},
    ]


@pytest.mark.postgres_only
@needs_postgres
async def test_an_entry_committed_after_a_larger_one_is_counted(
    svc: Services, database: Backend, gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    """An order (activity and ledger entry) takes its ids in a transaction that commits
    only after another order with larger ids committed and a query caught up: that query
    may not count it (it was not committed), but no later one may miss it."""
    await _history(svc, gql, keys, clock)
    assert (await _metrics(gql, keys))["orders"] == 6  # builds the rollups
    d = await Member.get(external_id="D")
    late = await asyncpg.connect(database.database_url.replace("postgres://", "postgresql://"))
    try:
        writing = late.transaction()
        await writing.start()
        when = datetime(2026, 3, 15, tzinfo=UTC)
        activity = await late.fetchval(
            "INSERT INTO activities (kind, status, points_awarded, points, idempotency_key, "
            "request_hash, payload, occurred_at, created_at, updated_at, member_id) VALUES "
            "('PURCHASE', 'APPROVED', 10, 10, 'late', '', $1, $2, $2, $2, $3) RETURNING id",
            json.dumps({"amountCents": 1_000}),
            when,
            d.id,
        )
        await late.execute(
            "INSERT INTO ledger_entries (kind, amount, pending_delta, lifetime_delta, "
            "debt_delta, reason, actor, idempotency_key, request_hash, created_at, "
            "occurred_at, member_id, activity_id, qualifying) VALUES ('EARN', 10, 0, 10, 0, "
            "'late', 'test', 'late', '', $1, $1, $2, $3, true)",
            when,
            d.id,
            activity,
        )
        await _order(gql, keys, "E", "2026-04-30T23:00:00Z", 1_000)  # larger ids, committed
        during: dict[str, Any] = await _metrics(gql, keys)  # waits for the writer, then not
        assert (during["orders"], during["revenueCents"], during["pointsIssued"]) == (
            7,
            22_500,
            235,
        )
        await writing.commit()
    finally:
        await late.close()
    after = await _metrics(gql, keys)
    assert (after["orders"], after["revenueCents"], after["pointsIssued"]) == (8, 23_500, 245)
    assert after["activeMembers"] == 5  # D bought on 03-15 too; E is back


@pytest.mark.postgres_only
@needs_postgres
async def test_catch_ups_at_once_count_each_entry_once(
    svc: Services, gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    await _history(svc, gql, keys, clock)
    await _metrics(gql, keys)
    await _order(gql, keys, "D", "2026-03-01T00:00:00Z", 3_000)
    await _order(gql, keys, "E", "2026-04-30T23:00:00Z", 1_000)
    await asyncio.gather(*(metrics_catchup.catch_up() for _ in range(4)))
    m = await _metrics(gql, keys)
    assert m.pop("series") == SERIES_AFTER
    assert m == AFTER
