"""``make bench``: each benchmark prints its ratio against a floor measured in the same run.

badge_images: first render of every default badge level at 256 px, against saving a
blank PNG. Target: under 50 ms each.

leaderboard_http: GraphQL ``leaderboard(first: 10)`` over HTTP vs a plain Starlette
JSON endpoint serving the same top 10 from the same Redis, same server process, rows,
total and names in one Redis call (names kept in a Redis hash).
Target: ratio >= 0.6.

rich_board: GraphQL ``leaderboard(first: 100)`` with each member's tier, badges and
community title vs the same page with display names only, same server process.
Target: ratio >= 0.5.

money_path: adjustPoints, recordPurchase and redeemPrize per second with 4 workers on
PostgreSQL vs the product's own statements replayed through asyncpg (target: ratio >=
0.5), and vs the least SQL each needs (no target), with p50/p99, CPU ms per request
(server and database) and the SQL statements of each.
Needs LAUREL_BENCH_DATABASE_URL / LAUREL_BENCH_REDIS_URL, like event_log.

hooks: Shopify orders/paid deliveries per second until their points are in the ledger,
4 workers on PostgreSQL, vs the same orders through GraphQL recordPurchase; outgoing
webhook deliveries per second to a local receiver. Target: ratio >= 0.8. Needs the
same URLs.

metrics: programMetrics over a year (MONTH) with 100,000 members and 2,000,000 ledger
entries on PostgreSQL (COPY-seeded) vs the same aggregates as one hand-written SQL
statement. Targets: <= 2 s, ratio >= 0.5. Needs the same URLs.

backtest: simulateProgram over a year with 100,000 members and 2,000,000 ledger entries
on PostgreSQL (the metrics bench's history), draft beside current rules; its cost per
replayed event against recording one order through the production path. Target: <= 60 s.
Needs the same URLs.

rate_limit: GraphQL ``leaderboard(first: 10)`` with rate limiting on vs off, two servers
alike but for LAUREL_RATE_LIMIT_ENABLED, the limit never reached. Target: ratio >= 0.9.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile

import orjson

from bench import (
    around,
    backtest,
    badge_images,
    event_log,
    hooks,
    metrics,
    money_path,
    rate_limit,
    rebuild,
    rich_board,
)
from bench.loadgen import alternating, http_request
from bench.servers import free_port, wait_until_answers

ROUNDS = 3
SECONDS = 3.0
CONNECTIONS = 16


async def _leaderboard_http(port: int) -> tuple[float, float]:
    query = orjson.dumps(
        {
            "query": "{ leaderboard(first: 10) { totalMembers entries "
            "{ rank score member { id displayName } } } }"
        }
    )
    graphql = http_request("POST", "/graphql", query, "application/json")
    plain = http_request("GET", "/plain/top10")
    return await alternating(
        (port, graphql), (port, plain), rounds=ROUNDS, seconds=SECONDS, connections=CONNECTIONS
    )


def _measure(cache_seconds: str) -> tuple[float, float]:
    """(GraphQL, plain) requests per second against one benchmark server."""
    with tempfile.TemporaryDirectory(prefix="laurel-bench-") as tmp:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("LAUREL_")}
        env["LAUREL_LEADERBOARD_CACHE_SECONDS"] = cache_seconds
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.leaderboard_server", tmp, str(port), "2000"],
            env=env,
            start_new_session=True,
        )
        try:
            wait_until_answers(port, proc, "/plain/top10")
            return asyncio.run(_leaderboard_http(port))
        finally:
            proc.terminate()
            proc.wait(timeout=15)


def main() -> None:
    badge_images.run()
    # The target is for the default settings; without the cache the ratio says what the
    # cache saves, and has none.
    for label, cache in (("default 1 s top-page cache", "1"), ("no cache", "0")):
        graphql, plain = _measure(cache)
        ratio = graphql / plain
        verdict = "ok" if ratio >= 0.6 else "BELOW TARGET"
        judged = f"(target >= 0.60) {verdict}" if cache != "0" else "(no target)"
        print(
            f"leaderboard_http ({label}): graphql {graphql:,.0f} req/s, floor (plain endpoint, "
            f"top 10 and names in one Redis call) {plain:,.0f} req/s, ratio {ratio:.2f} {judged}"
        )
    rich_board.run()
    rate_limit.run()
    around.run()
    rebuild.run()
    event_log.run()
    money_path.run()
    hooks.run()
    metrics.run()
    backtest.run()


if __name__ == "__main__":
    main()
