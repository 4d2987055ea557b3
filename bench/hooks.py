"""Shop webhooks at speed, with ``laurel serve --workers 4`` on PostgreSQL + Redis.

incoming: ``ORDERS`` Shopify ``orders/paid`` deliveries (the documented payload, a new
order id each, 200 customers), posted by 16 keep-alive clients, timed until the last
order's points are in the ledger; against the floor of the same orders through GraphQL
``recordPurchase`` (the call a shop's own backend would make), same server, same
clients, timed the same way (points in the ledger: the answer). Target: ratio >= 0.8.

outgoing: ``MESSAGES`` ``points.earned`` messages to a receiver on this machine (a
stdlib HTTP server in its own process answering 204), timed from the moment the
endpoint is enabled with all of them waiting until the last is delivered. No floor:
deliveries per second, one endpoint (messages to one endpoint go one at a time, in
order).

Needs LAUREL_BENCH_DATABASE_URL and LAUREL_BENCH_REDIS_URL (see ``bench.event_log``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson

from bench.pg_servers import Connection, Serving, api_key, bench_urls, loadavg, serving
from bench.servers import free_port

REPO = Path(__file__).resolve().parents[1]
ORDERS = int(os.environ.get("BENCH_HOOK_ORDERS", "600"))
MESSAGES = int(os.environ.get("BENCH_HOOK_MESSAGES", "300"))
CLIENTS = 16
CUSTOMERS = 200
TARGET = 0.8
SECRET = "bench-shopify-secret-" + "q" * 20
_ORDER = orjson.loads(
    (REPO / "tests" / "hooks" / "fixtures" / "shopify_orders_paid.json").read_bytes()
)
PURCHASE = (
    "mutation($k: String!, $e: String!, $o: String!) { recordPurchase(input: "
    "{idempotencyKey: $k, memberExternalId: $e, orderId: $o, amountCents: 40495}) "
    "{ __typename } }"
)
UPSERT = (
    "mutation($e: String!) { upsertMember(input: {externalId: $e, displayName: $e}) "
    "{ __typename } }"
)


ROUNDS = 2  # webhooks and GraphQL alternate, so a growing database weighs on both alike


def _order(n: int) -> bytes:
    customer = {**_ORDER["customer"], "id": 10_000 + n % CUSTOMERS}
    return orjson.dumps({**_ORDER, "id": 5_000_000 + n, "customer": customer})


async def _orders_in_ledger(database_url: str, like: str) -> int:
    conn = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        found: int = await conn.fetchval(
            "SELECT count(*) FROM activities WHERE dedupe_key LIKE $1", like
        )
        return found
    finally:
        await conn.close()


async def _wait_for(database_url: str, like: str, n: int) -> None:
    deadline = time.monotonic() + 300
    while await _orders_in_ledger(database_url, like) < n:
        if time.monotonic() > deadline:
            raise SystemExit(f"hooks: {like} orders not all in the ledger after 300 s")
        await asyncio.sleep(0.02)


async def _integration(server: Serving) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", timeout=60) as http:
        made = await http.post(
            "/graphql",
            json={
                "query": "mutation($s: String!) { createIntegration(input: {kind: SHOPIFY, "
                'name: "Bench", secret: $s}) { __typename } }',
                "variables": {"s": SECRET},
            },
            headers={"Authorization": f"Bearer {server.key}"},
        )
        assert made.json()["data"]["createIntegration"]["__typename"] == "IntegrationSecret"
    await asyncio.sleep(1.1)  # every worker sees the new integration (its 1 s snapshot)


async def _incoming(server: Serving, round_: int) -> float:
    first = round_ * ORDERS
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", timeout=60) as http:
        bodies = {n: _order(n) for n in range(first, first + ORDERS)}
        queue = list(bodies)

        async def client() -> None:
            while queue:
                n = queue.pop()
                body = bodies[n]
                signature = base64.b64encode(
                    hmac.new(SECRET.encode(), body, hashlib.sha256).digest()
                ).decode()
                answer = await http.post(
                    "/hooks/shopify",
                    content=body,
                    headers={
                        "Content-Type": "application/json",
                        "X-Shopify-Topic": "orders/paid",
                        "X-Shopify-Hmac-Sha256": signature,
                        "X-Shopify-Webhook-Id": f"bench-{n}",
                    },
                )
                if answer.status_code != 200:
                    raise SystemExit(f"hooks: delivery answered {answer.status_code}")

        began = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(CLIENTS)))
        await _wait_for(server.database_url, "purchase:50%", first + ORDERS)
        return ORDERS / (time.perf_counter() - began)


async def _graphql(server: Serving, service: str, round_: int) -> float:
    first = round_ * ORDERS
    externals = [str(10_000 + n) for n in range(CUSTOMERS)]
    async with Connection.open(server.port) as conn:
        for external in externals:  # the webhook run made them already; harmless
            await conn.mutate(service, UPSERT, {"e": external})
    queue = list(range(first, first + ORDERS))

    async def client() -> None:
        async with Connection.open(server.port) as conn:
            while queue:
                n = queue.pop()
                variables: dict[str, Any] = {
                    "k": f"gql-{n}",
                    "e": externals[n % CUSTOMERS],
                    "o": str(9_000_000 + n),
                }
                done = await conn.mutate(service, PURCHASE, variables)
                if done["__typename"] != "ActivityRecorded":
                    raise SystemExit(f"hooks: recordPurchase answered {done}")

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    await _wait_for(server.database_url, "purchase:90%", first + ORDERS)
    return ORDERS / (time.perf_counter() - began)


_RECEIVER = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(204); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


async def _outgoing(server: Serving, port: int) -> float:
    conn = await asyncpg.connect(server.database_url.replace("postgres://", "postgresql://", 1))
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{server.port}", timeout=60
        ) as http:

            async def admin(query: str, variables: dict[str, Any]) -> Any:
                answer = await http.post(
                    "/graphql",
                    json={"query": query, "variables": variables},
                    headers={"Authorization": f"Bearer {server.key}"},
                )
                return next(iter(answer.json()["data"].values()))

            made = await admin(
                "mutation($u: String!) { createWebhookEndpoint(input: {url: $u, "
                'events: ["points.earned"]}) '
                "{ ... on WebhookEndpointSecret { endpoint { id } } } }",
                {"u": f"http://127.0.0.1:{port}/in"},
            )
            endpoint = made["endpoint"]["id"]
            await admin(
                "mutation($i: ID!) { updateWebhookEndpoint(input: {endpointId: $i, "
                "enabled: false}) { __typename } }",
                {"i": endpoint},
            )
            member = (
                await admin(
                    'mutation { upsertMember(input: {externalId: "out", displayName: "Out"}) '
                    "{ ... on MemberSaved { member { id } } } }",
                    {},
                )
            )["member"]["id"]
            for n in range(MESSAGES):
                await admin(
                    "mutation($k: String!, $m: ID!) { adjustPoints(input: {idempotencyKey: $k, "
                    'memberId: $m, amount: 1, reason: "bench"}) { __typename } }',
                    {"k": f"out-{n}", "m": member},
                )
            deadline = time.monotonic() + 60
            while await conn.fetchval("SELECT count(*) FROM webhook_messages") < MESSAGES:
                if time.monotonic() > deadline:
                    raise SystemExit("hooks: the messages were not made within 60 s")
                await asyncio.sleep(0.05)
            began = time.perf_counter()
            await admin(
                "mutation($i: ID!) { updateWebhookEndpoint(input: {endpointId: $i, "
                "enabled: true}) { __typename } }",
                {"i": endpoint},
            )
            deadline = time.monotonic() + 300
            while (
                await conn.fetchval(
                    "SELECT count(*) FROM webhook_messages WHERE status = 'DELIVERED'"
                )
                < MESSAGES
            ):
                if time.monotonic() > deadline:
                    raise SystemExit("hooks: the messages were not delivered within 300 s")
                await asyncio.sleep(0.02)
            return MESSAGES / (time.perf_counter() - began)
    finally:
        await conn.close()


def run() -> None:
    urls = bench_urls("hooks")
    if urls is None:
        return
    base_url, redis_url = urls
    before = loadavg()
    extra = {"LAUREL_WEBHOOKS_ALLOW_PRIVATE": "true"}
    with serving(REPO, base_url, redis_url, extra_env=extra) as server:
        asyncio.run(_integration(server))
        service = api_key(server.tree, server.env, "service")
        hook_rates, floor_rates = [], []
        for round_ in range(ROUNDS):
            hook_rates.append(asyncio.run(_incoming(server, round_)))
            floor_rates.append(asyncio.run(_graphql(server, service, round_)))
        hooks, floor = sum(hook_rates) / ROUNDS, sum(floor_rates) / ROUNDS
        port = free_port()
        receiver = subprocess.Popen([sys.executable, "-c", _RECEIVER, str(port)])
        try:
            out = asyncio.run(_outgoing(server, port))
        finally:
            receiver.terminate()
            receiver.wait(timeout=10)
    ratio = hooks / floor
    verdict = "ok" if ratio >= TARGET else "BELOW TARGET"
    print(
        f"hooks incoming (4 workers, PostgreSQL, mean of {ROUNDS} alternating rounds): "
        f"{ORDERS:,} Shopify orders/paid deliveries "
        f"until their points are in the ledger, {hooks:,.0f}/s; floor (the same orders "
        f"through GraphQL recordPurchase): {floor:,.0f}/s; ratio {ratio:.2f} "
        f"(target >= {TARGET:.2f}) {verdict}"
    )
    print(
        f"hooks outgoing: {MESSAGES:,} points.earned messages to a local receiver, "
        f"{out:,.0f} deliveries/s (one endpoint, in order)"
    )
    print(f"hooks: load average {before} at start, {loadavg()} at end")


if __name__ == "__main__":
    run()
