"""programMetrics at scale: a year of 100,000 members and 2,000,000 ledger entries on
PostgreSQL (seeded with COPY: 400,000 orders, 50,000 shares, 20,000 refunds; the rest of
the ledger bonuses, spending, expiry and adjustments), one MONTH query over the year.

Product: ``actions.program_metrics`` in this process (the answer cache off). Its rollups
are built as production builds them: the first query after the seed builds them (timed
and printed as the cold figure); before each of the 3 timed runs a batch of new orders
and ledger entries is written (``NEW`` entries, at random times of the seeded span, so
many dated before entries already rolled up), and the timed query catches up with them
itself, as a query after new writes does. Target: the median of those 3, <= 2 s.

Floor: one hand-written SQL statement through asyncpg giving the same twenty figures of
each month and of the year (members new and active, orders, order and refund cents,
buyers, repeat buyers, retention, first and second orders, lifetime and last-12-months
revenue and buyers, points issued, reversed, redeemed, expired and outstanding), written
the plain PostgreSQL way (month keys by date_trunc, GROUPING SETS for the year, running
sums over daily totals), the median of 3. It leaves out the breakdowns the product adds
(points by kind, tiers, top prizes, referrals) and the product's rates, but reads the raw
tables, where the product reads its rollups and only the batch since: it does more work.
Target: ratio >= 0.5. The bench also compares every figure of the
product with the floor's and prints any difference: two independent ways to the same
answers at the full size.

Needs LAUREL_BENCH_DATABASE_URL (and LAUREL_BENCH_REDIS_URL, as the other PostgreSQL
benches, though this one does not use Redis).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import time
from dataclasses import fields
from datetime import UTC, datetime, timedelta

import asyncpg

from bench.pg_servers import bench_urls, loadavg, scratch_database
from server.actions.metrics import Interval, Metrics, program_metrics
from server.actions.services import Services
from server.auth import Principal, Role
from server.db import apply_migrations, orm
from server.events import EventLog
from server.rewards.metrics import Figures

MEMBERS = int(os.environ.get("BENCH_METRICS_MEMBERS", "100000"))
ENTRIES = int(os.environ.get("BENCH_METRICS_ENTRIES", "2000000"))
ORDERS = ENTRIES // 5
SHARES = ENTRIES // 40
REFUNDS = ENTRIES // 100
NEW = int(os.environ.get("BENCH_METRICS_NEW", "5000"))  # ledger entries before each run
START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2026, 1, 1, tzinfo=UTC)
TARGET_SECONDS = 2.0
TARGET_RATIO = 0.5
_ADMIN = Principal(role=Role.ADMIN, name="bench")


_ACTIVITY_COLUMNS = [
    "id",
    "kind",
    "status",
    "points_awarded",
    "points",
    "idempotency_key",
    "request_hash",
    "payload",
    "occurred_at",
    "created_at",
    "updated_at",
    "member_id",
    "dedupe_key",
]
_ENTRY_COLUMNS = [
    "kind",
    "amount",
    "pending_delta",
    "lifetime_delta",
    "reason",
    "actor",
    "idempotency_key",
    "request_hash",
    "created_at",
    "occurred_at",
    "member_id",
    "activity_id",
    "debt_delta",
    "qualifying",
]


def _when(rng: random.Random, *, before: datetime = END) -> datetime:
    span = (before - (START - timedelta(days=180))).total_seconds()
    return START - timedelta(days=180) + timedelta(seconds=rng.random() * span)


async def _seed(url: str) -> None:
    rng = random.Random(7)
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        now = END
        members = [
            (i, f"m{i}", f"Member {i}", f"R{i:09d}", 0, 0, 0, _when(rng), now, 0)
            for i in range(1, MEMBERS + 1)
        ]
        await conn.copy_records_to_table(
            "members",
            records=members,
            columns=[
                "id",
                "external_id",
                "display_name",
                "referral_code",
                "points_balance",
                "pending_points",
                "lifetime_points",
                "created_at",
                "updated_at",
                "debt_points",
            ],
        )
        activities: list[tuple[object, ...]] = []
        entries: list[tuple[object, ...]] = []
        for i in range(1, ORDERS + SHARES + 1):
            member = rng.randint(1, MEMBERS)
            at = _when(rng)
            if i <= ORDERS:
                cents = rng.choice((1999, 2500, 4999, 7500, 12000))
                activities.append(
                    (
                        i,
                        "PURCHASE",
                        "APPROVED",
                        cents // 100,
                        cents // 100,
                        f"o{i}",
                        "",
                        json.dumps({"amountCents": cents}),
                        at,
                        at,
                        at,
                        member,
                        f"purchase:o{i}",
                    )
                )
                entries.append(
                    ("EARN", cents // 100, 0, cents // 100, f"e{i}", at, member, i, True)
                )
            else:
                activities.append(
                    (
                        i,
                        "SOCIAL_SHARE",
                        "APPROVED",
                        10,
                        10,
                        f"s{i}",
                        "",
                        "{}",
                        at,
                        at,
                        at,
                        member,
                        None,
                    )
                )
                entries.append(("EARN", 10, 0, 10, f"e{i}", at, member, i, True))
        await conn.copy_records_to_table(
            "activities", records=activities, columns=_ACTIVITY_COLUMNS
        )
        kinds = (("EARN", 25), ("SPEND", -40), ("EXPIRE", -15), ("ADJUST", 20), ("REVERSAL", -5))
        for n in range(len(entries), ENTRIES):
            kind, amount = kinds[n % len(kinds)]
            entries.append(
                (
                    kind,
                    amount,
                    0,
                    max(amount, 0),
                    f"x{n}",
                    _when(rng),
                    rng.randint(1, MEMBERS),
                    None,
                    kind == "EARN",
                )
            )
        await conn.copy_records_to_table(
            "ledger_entries",
            records=[
                (k, a, p, lt, "bench", "bench", key, "", at, at, m, act, 0, q)
                for k, a, p, lt, key, at, m, act, q in entries
            ],
            columns=_ENTRY_COLUMNS,
        )
        refunds = [
            (f"r{n}", "", 1000, 10, _when(rng), rng.randint(1, ORDERS)) for n in range(REFUNDS)
        ]
        await conn.copy_records_to_table(
            "refunds",
            records=refunds,
            columns=[
                "idempotency_key",
                "request_hash",
                "amount_cents",
                "points_taken",
                "created_at",
                "purchase_id",
            ],
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def _write_more(url: str, run: int) -> None:
    """A batch of NEW ledger entries, a fifth of them orders (activities with their EARN
    entries), at random times of the seeded span, after the rollups were built."""
    rng = random.Random(100 + run)
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        first = int(await conn.fetchval("SELECT MAX(id) FROM activities")) + 1
        activities: list[tuple[object, ...]] = []
        entries: list[tuple[object, ...]] = []
        for i in range(first, first + NEW // 5):
            member, at = rng.randint(1, MEMBERS), _when(rng)
            cents = rng.choice((1999, 2500, 4999, 7500, 12000))
            key = f"o{i}"
            activities.append(
                (
                    i,
                    "PURCHASE",
                    "APPROVED",
                    cents // 100,
                    cents // 100,
                    key,
                    "",
                    json.dumps({"amountCents": cents}),
                    at,
                    at,
                    at,
                    member,
                    f"purchase:{key}",
                )
            )
            entries.append(("EARN", cents // 100, cents // 100, f"e{i}", at, member, i, True))
        kinds = (("EARN", 25), ("SPEND", -40), ("EXPIRE", -15), ("ADJUST", 20))
        for n in range(NEW - len(entries)):
            kind, amount = kinds[n % len(kinds)]
            at, member = _when(rng), rng.randint(1, MEMBERS)
            entries.append(
                (kind, amount, max(amount, 0), f"n{run}-{n}", at, member, None, kind == "EARN")
            )
        await conn.copy_records_to_table(
            "activities", records=activities, columns=_ACTIVITY_COLUMNS
        )
        await conn.copy_records_to_table(
            "ledger_entries",
            records=[
                (k, a, 0, lt, "bench", "bench", key, "", at, at, m, act, 0, q)
                for k, a, lt, key, at, m, act, q in entries
            ],
            columns=_ENTRY_COLUMNS,
        )
    finally:
        await conn.close()


FLOOR = """
WITH
periods AS (
  SELECT g AS k, g AS s, g + INTERVAL '1 month' AS e
  FROM generate_series($1::timestamptz, $2::timestamptz - INTERVAL '1 month', INTERVAL '1 month') g
  UNION ALL SELECT '-infinity'::timestamptz, $1::timestamptz, $2::timestamptz
),
p AS (
  SELECT id, member_id AS m, occurred_at AS t, CAST(payload->>'amountCents' AS BIGINT) AS cents
  FROM activities WHERE kind = 'PURCHASE'
),
nm AS (
  SELECT COALESCE(date_trunc('month', created_at), '-infinity') AS k, COUNT(*) AS n
  FROM members WHERE created_at >= $1 AND created_at < $2
  GROUP BY GROUPING SETS ((date_trunc('month', created_at)), ())
),
am AS (
  SELECT COALESCE(date_trunc('month', occurred_at), '-infinity') AS k,
    COUNT(DISTINCT member_id) AS n
  FROM activities WHERE occurred_at >= $1 AND occurred_at < $2
  GROUP BY GROUPING SETS ((date_trunc('month', occurred_at)), ())
),
om AS (
  SELECT m, COALESCE(date_trunc('month', t), '-infinity') AS k, COUNT(*) AS c,
    SUM(cents) AS cents
  FROM p WHERE t >= $1 AND t < $2 GROUP BY GROUPING SETS ((m, date_trunc('month', t)), (m))
),
ord AS (
  SELECT k, COUNT(*) AS buyers, SUM(c) AS orders, SUM(cents) AS cents,
    COUNT(*) FILTER (WHERE c >= 2) AS repeats
  FROM om GROUP BY k
),
rf AS (
  SELECT COALESCE(date_trunc('month', created_at), '-infinity') AS k, SUM(amount_cents) AS cents
  FROM refunds WHERE created_at >= $1 AND created_at < $2
  GROUP BY GROUPING SETS ((date_trunc('month', created_at)), ())
),
pb AS (
  SELECT DISTINCT pe.k, p.m FROM periods pe
  JOIN p ON p.t >= pe.s - (pe.e - pe.s) AND p.t < pe.s
),
ret AS (
  SELECT pb.k, COUNT(*) AS previous, COUNT(om.m) AS retained
  FROM pb LEFT JOIN om ON om.k = pb.k AND om.m = pb.m GROUP BY pb.k
),
r AS (SELECT m, t, ROW_NUMBER() OVER (PARTITION BY m ORDER BY t) AS rn FROM p),
f AS (
  SELECT m, MIN(t) FILTER (WHERE rn = 1) AS first, MIN(t) FILTER (WHERE rn = 2) AS second
  FROM r WHERE rn <= 2 GROUP BY m
),
fo AS (
  SELECT pe.k, COUNT(*) FILTER (WHERE f.first >= pe.s) AS firsts,
    COUNT(*) FILTER (WHERE f.first >= pe.s AND f.second <= f.first + INTERVAL '90 days')
      AS seconds,
    COUNT(*) AS buyers
  FROM periods pe JOIN f ON f.first < pe.e GROUP BY pe.k
),
daily AS (
  SELECT date_trunc('day', t) AS d, SUM(cents) AS cents FROM p WHERE t < $2 GROUP BY 1
),
daily_refunds AS (
  SELECT date_trunc('day', p.t) AS d, date_trunc('day', GREATEST(p.t, r.created_at)) AS g,
    SUM(r.amount_cents) AS cents
  FROM refunds r JOIN p ON p.id = r.purchase_id
  WHERE p.t < $2 AND r.created_at < $2 GROUP BY 1, 2
),
clv AS (
  SELECT pe.k, SUM(o.cents) AS cents,
    SUM(o.cents) FILTER (WHERE o.d >= pe.e - INTERVAL '365 days') AS year_cents
  FROM periods pe JOIN daily o ON o.d < pe.e GROUP BY pe.k
),
clv_refunds AS (
  SELECT pe.k, SUM(x.cents) AS cents,
    SUM(x.cents) FILTER (WHERE x.d >= pe.e - INTERVAL '365 days') AS year_cents
  FROM periods pe JOIN daily_refunds x ON x.g < pe.e GROUP BY pe.k
),
buyer_days AS (SELECT DISTINCT m, date_trunc('day', t) AS d FROM p WHERE t < $2),
yb AS (
  SELECT pe.k, COUNT(DISTINCT b.m) AS n FROM periods pe
  JOIN buyer_days b ON b.d >= pe.e - INTERVAL '365 days' AND b.d < pe.e GROUP BY pe.k
),
pts AS (
  SELECT CASE WHEN occurred_at < $1 THEN '-infinity' ELSE date_trunc('month', occurred_at)
      END AS k,
    SUM(CASE WHEN kind IN ('EARN','ADJUST') AND amount > 0 THEN amount ELSE 0 END) AS issued,
    SUM(CASE WHEN kind = 'REVERSAL' OR (kind = 'ADJUST' AND amount < 0) THEN -amount ELSE 0 END)
      AS reversed,
    SUM(CASE WHEN kind IN ('SPEND','RETURN') THEN -amount ELSE 0 END) AS redeemed,
    SUM(CASE WHEN kind = 'EXPIRE' THEN -amount ELSE 0 END) AS expired,
    SUM(amount) AS total
  FROM ledger_entries WHERE occurred_at < $2 GROUP BY 1
),
pt AS (
  SELECT pe.k, SUM(x.issued) FILTER (WHERE x.k >= pe.s) AS issued,
    SUM(x.reversed) FILTER (WHERE x.k >= pe.s) AS reversed,
    SUM(x.redeemed) FILTER (WHERE x.k >= pe.s) AS redeemed,
    SUM(x.expired) FILTER (WHERE x.k >= pe.s) AS expired, SUM(x.total) AS total
  FROM periods pe JOIN pts x ON x.k < pe.e GROUP BY pe.k
)
SELECT pe.k = '-infinity' AS whole, pe.s,
  COALESCE(am.n, 0) AS active_members, COALESCE(nm.n, 0) AS new_members,
  COALESCE(ord.orders, 0) AS orders, COALESCE(ord.cents, 0) AS order_cents,
  COALESCE(rf.cents, 0) AS refund_cents, COALESCE(ord.buyers, 0) AS buyers,
  COALESCE(ord.repeats, 0) AS repeat_buyers, COALESCE(ret.previous, 0) AS previous_buyers,
  COALESCE(ret.retained, 0) AS retained_buyers, COALESCE(fo.firsts, 0) AS first_buyers,
  COALESCE(fo.seconds, 0) AS second_within_90,
  COALESCE(clv.cents, 0) - COALESCE(clv_refunds.cents, 0) AS clv_revenue_cents,
  COALESCE(fo.buyers, 0) AS clv_buyers,
  COALESCE(clv.year_cents, 0) - COALESCE(clv_refunds.year_cents, 0) AS year_revenue_cents,
  COALESCE(yb.n, 0) AS year_buyers, COALESCE(pt.issued, 0) AS points_issued,
  COALESCE(pt.reversed, 0) AS points_reversed, COALESCE(pt.redeemed, 0) AS points_redeemed,
  COALESCE(pt.expired, 0) AS points_expired, GREATEST(COALESCE(pt.total, 0), 0)
    AS points_outstanding
FROM periods pe
LEFT JOIN nm ON nm.k = pe.k LEFT JOIN am ON am.k = pe.k LEFT JOIN ord ON ord.k = pe.k
LEFT JOIN rf ON rf.k = pe.k LEFT JOIN ret ON ret.k = pe.k LEFT JOIN fo ON fo.k = pe.k
LEFT JOIN clv ON clv.k = pe.k LEFT JOIN clv_refunds ON clv_refunds.k = pe.k
LEFT JOIN yb ON yb.k = pe.k LEFT JOIN pt ON pt.k = pe.k
ORDER BY whole, pe.s
"""


async def _floor(url: str) -> tuple[float, list[dict[str, object]]]:
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute("SET TIME ZONE 'UTC'")
        began = time.perf_counter()
        rows = await conn.fetch(FLOOR, START, END)
        return time.perf_counter() - began, [dict(r) for r in rows]
    finally:
        await conn.close()


async def _product(url: str) -> tuple[float, Metrics]:
    async with orm(url):
        svc = Services(events=EventLog(None), boards=None)
        began = time.perf_counter()
        found = await program_metrics(svc, _ADMIN, start=START, end=END, interval=Interval.MONTH)
        return time.perf_counter() - began, found


def _disagreements(found: Metrics, floor: list[dict[str, object]]) -> list[str]:
    """Where the product's figures differ from the floor's (months in order, then the year)."""
    names = [f.name for f in fields(Figures)]
    ours = [*(m.raw for m in found.series), found.raw]
    if len(ours) != len(floor):
        return [f"{len(ours)} periods against the floor's {len(floor)}"]
    return [
        f"{row['s']:%Y-%m}{' (year)' if row['whole'] else ''} {name}: "
        f"{getattr(figures, name)} against {row[name]}"
        for figures, row in zip(ours, floor, strict=True)
        for name in names
        if getattr(figures, name) != row[name]
    ]


def run() -> None:
    urls = bench_urls("metrics")
    if urls is None:
        return
    base_url, _ = urls
    before = loadavg()
    with scratch_database(base_url, "laurel_metrics") as url:
        asyncio.run(apply_migrations(url))
        began = time.perf_counter()
        asyncio.run(_seed(url))
        seeded = time.perf_counter() - began
        cold, _ = asyncio.run(_product(url))  # builds the rollups
        products, floors = [], []
        for n in range(3):
            asyncio.run(_write_more(url, n))
            floor_seconds, floor_rows = asyncio.run(_floor(url))
            floors.append(floor_seconds)
            product_seconds, found = asyncio.run(_product(url))  # catches up with the batch
            products.append(product_seconds)
    product, floor = statistics.median(products), statistics.median(floors)
    ratio = floor / product
    wrong = _disagreements(found, floor_rows)
    print(
        f"metrics: programMetrics over a year, MONTH, {MEMBERS:,} members and {ENTRIES:,} "
        f"ledger entries on PostgreSQL (seeded in {seeded:.0f} s): {product:.2f} s "
        f"(target <= {TARGET_SECONDS:.1f} s) "
        f"{'ok' if product <= TARGET_SECONDS else 'OVER TARGET'}, with {NEW:,} new ledger "
        f"entries ({NEW // 5:,} orders) since the query before caught up in it; floor (the "
        "same figures of every month and the year as one hand-written SQL statement over "
        f"the raw tables, through asyncpg) {floor:.2f} s; ratio {ratio:.2f} (target >= "
        f"{TARGET_RATIO:.2f}) {'ok' if ratio >= TARGET_RATIO else 'BELOW TARGET'} (medians "
        f"of 3); the first query, which built the rollups: {cold:.2f} s"
    )
    figures_compared = (len(found.series) + 1) * len(fields(Figures))
    if wrong:
        print(f"metrics: DISAGREES with the floor on {len(wrong)} of {figures_compared} figures:")
        for line in wrong[:20]:
            print(f"metrics:   {line}")
    else:
        print(f"metrics: the product and the floor agree on all {figures_compared} figures")
    print(f"metrics: load average {before} at start, {loadavg()} at end")


if __name__ == "__main__":
    run()
