"""simulateProgram at scale: a backtest of a year with 100,000 members and 2,000,000 ledger
entries on PostgreSQL (the metrics bench's COPY-seeded history, its credits expiring a
year after they were earned), under a draft that
doubles the share points, pays 2 points per currency unit on orders and lets points
expire after 90 days, beside the current rules. Target: <= 60 s (the median of 3).

Per-event cost against the production rules path: the backtest's seconds per replayed
event (each event replayed twice, once per side) against recording one order through
``actions.record_purchase`` on the same database in the same process (the rules, the
tier, the ledger entry and the balances in SQL), the median over ``ORDERS_TIMED`` orders.

Needs LAUREL_BENCH_DATABASE_URL (and LAUREL_BENCH_REDIS_URL, as the other PostgreSQL
benches; this one does not use Redis).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from datetime import timedelta
from decimal import Decimal

from bench.metrics import END, ENTRIES, MEMBERS, START, _seed
from bench.pg_servers import bench_urls, database, loadavg, scratch_database
from server.actions.purchases import record_purchase
from server.actions.services import Services
from server.actions.simulate import RuleDraft, SimulationDraft, simulate_program
from server.actions.simulate_figures import Simulation
from server.auth import Principal, Role
from server.db import apply_migrations, orm
from server.events import EventLog
from server.rewards.activities import ActivityKind

TARGET_SECONDS = 60.0
ORDERS_TIMED = int(os.environ.get("BENCH_BACKTEST_ORDERS", "300"))
_ADMIN = Principal(role=Role.ADMIN, name="bench")
_SHOP = Principal(role=Role.SERVICE, name="bench")
DRAFT = SimulationDraft(
    START,
    END,
    rules=(
        RuleDraft(ActivityKind.SOCIAL_SHARE, points=20),
        RuleDraft(ActivityKind.PURCHASE, points_per_currency_unit=Decimal(2)),
    ),
    points_expire_days=90,
)


async def _backtest(url: str) -> tuple[float, float, Simulation]:
    async with orm(url):
        svc = Services(events=EventLog(None), boards=None)
        wall, cpu = time.perf_counter(), time.process_time()
        found = await simulate_program(svc, _ADMIN, DRAFT)
        return time.perf_counter() - wall, time.process_time() - cpu, found


_SEQUENCES = ("members", "activities", "ledger_entries", "refunds")


async def _production(url: str) -> tuple[float, float]:
    """Seconds (wall, this process's CPU) per order recorded through the production path."""
    for table in _SEQUENCES:  # the seed gave ids itself
        await database(
            url,
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 (names above)
            f"(SELECT COALESCE(MAX(id), 1) FROM {table}))",
        )
    async with orm(url):
        svc = Services(events=EventLog(None), boards=None, clock=lambda: END - timedelta(days=1))
        walls, cpus = [], []
        for n in range(ORDERS_TIMED):
            wall, cpu = time.perf_counter(), time.process_time()
            await record_purchase(
                svc,
                _SHOP,
                idempotency_key=f"bench-{n}",
                member_external_id=f"m{1 + n * 7 % MEMBERS}",
                order_id=f"bench-{n}",
                amount_cents=4999,
            )
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        return statistics.median(walls), statistics.median(cpus)


def run() -> None:
    urls = bench_urls("backtest")
    if urls is None:
        return
    base_url, _ = urls
    before = loadavg()
    with scratch_database(base_url, "laurel_backtest") as url:
        asyncio.run(apply_migrations(url))
        asyncio.run(_seed(url))
        # The seeded credits expire a year after they were earned, as recorded credits do
        # (LAUREL_POINTS_EXPIRE_DAYS=365): the replay's expiry has work to do.
        asyncio.run(
            database(
                url,
                "UPDATE ledger_entries SET expires_at = occurred_at + INTERVAL '365 days' "
                "WHERE kind = 'EARN'",
            )
        )
        runs = [asyncio.run(_backtest(url)) for _ in range(3)]
        per_order_wall, per_order_cpu = asyncio.run(_production(url))
    seconds = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    found = runs[0][2]
    per_event = seconds / (2 * found.events)
    print(
        f"backtest: simulateProgram over a year, {MEMBERS:,} members and {ENTRIES:,} ledger "
        f"entries on PostgreSQL, {found.events:,} events replayed on each side: "
        f"{seconds:.1f} s (this process's CPU {cpu:.1f} s; target <= {TARGET_SECONDS:.0f} s) "
        f"{'ok' if seconds <= TARGET_SECONDS else 'OVER TARGET'} (median of 3); "
        f"{per_event * 1e6:.1f} us per event and side, against "
        f"{per_order_wall * 1e3:.2f} ms ({per_order_cpu * 1e3:.2f} ms CPU here) per order "
        f"recorded through the production path (record_purchase, median of {ORDERS_TIMED}): "
        f"{per_order_wall / per_event:,.0f}x cheaper per event"
    )
    print(
        f"backtest: draft (shares 20, orders 2 per 1.00, 90-day expiry) against current: "
        f"issued {found.draft.points_issued:,} vs {found.current.points_issued:,}, "
        f"outstanding {found.draft.points_outstanding:,} vs {found.current.points_outstanding:,}, "
        f"expired {found.draft.points_expired:,} vs {found.current.points_expired:,}; "
        f"load average {before} -> {loadavg()}"
    )
