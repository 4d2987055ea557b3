"""The money path at speed: ``adjustPoints``, ``recordPurchase`` and ``redeemPrize`` per
second with ``laurel serve --workers 4`` on PostgreSQL + Redis, each against two floors
measured in the same run.

Product: 16 keep-alive clients for ``BENCH_MONEY_SECONDS`` (default 8) per mutation, each
request with its own idempotency key, over 200 members (credited 1,000,000 points first so
that redemptions never run short). Per mutation: requests/s, p50 and p99 latency, and CPU
milliseconds per request: the server's processes plus the PostgreSQL backends connected
to the bench database (read from /proc before and after), over the requests answered,
with the backends' part. Before each load the servers' event log has caught up with
every event there is, so that a load does not pay for an earlier one's.

Floor "the same SQL" (the target's: >= 0.5 each): the product's own statements, with
their values, replayed through asyncpg by 4 processes (as many as the workers) with 4
connections each (16 in flight, as the clients); see ``bench.money_replay``. Its ratio is
what HTTP, authentication, GraphQL, Tortoise and the rules' Python cost on top of the
same work in the database.

Floor "the least SQL" (no target): the writes the mutation needs at least, by hand: the
idempotency check, the ledger row, the conditional balance UPDATE and the event, plus
the activity row for a purchase, the conditional stock UPDATE and the redemption for a
redeem, and the board bump in Redis for a credit and a purchase (whose pending points
count on the boards). Its ratio adds what the product's extra statements cost (badge and
tier evaluation, reading the member back, the replay check before the transaction).

Then each mutation, WARM_UP + SAMPLES times for one member, in this process against the
same database with the statements counted (``server.db.counting_statements``), listed by statement.

Needs LAUREL_BENCH_DATABASE_URL and LAUREL_BENCH_REDIS_URL (see ``bench.event_log``).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import secrets
import statistics
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import jwt

from bench.money_replay import Captured, replay
from bench.pg_servers import (
    JWT_SECRET,
    WORKERS,
    Connection,
    Serving,
    api_key,
    bench_urls,
    loadavg,
    percentile,
    serving,
)
from bench.pg_servers import (
    database as run_sql,
)
from leaderboards import Board, Leaderboards, connect
from leaderboards.windows import board_key
from server.actions import services_for
from server.app import create_app
from server.db import counting_statements, orm, recording_statements
from server.rewards.events import EventType
from server.rewards.ledger import EntryKind
from server.settings import Settings

__all__ = ["run"]

REPO = Path(__file__).resolve().parents[1]
MEMBERS = 200
CLIENTS = 16
SECONDS = float(os.environ.get("BENCH_MONEY_SECONDS", "8"))
TARGET = 0.5
PRIZE_COST = 10
SAMPLES = 5  # requests of each mutation whose statements are counted
# Requests first, for one member: its early badge levels (a first purchase, the third)
# are behind it, so the samples show a typical request, not one that earns a badge.
WARM_UP = 10
_TICKS = os.sysconf("SC_CLK_TCK")
_BOARD = board_key("laurel", Board(), datetime.now(UTC))

UPSERT = (
    "mutation($e: String!) { upsertMember(input: {externalId: $e, displayName: $e}) "
    "{ __typename ... on MemberSaved { member { id } } } }"
)
ADJUST = (
    "mutation($k: String!, $m: ID!, $a: Int!) { adjustPoints(input: {idempotencyKey: $k, "
    'memberId: $m, amount: $a, reason: "bench"}) { __typename } }'
)
PURCHASE = (
    "mutation($k: String!, $e: String!) { recordPurchase(input: {idempotencyKey: $k, "
    "memberExternalId: $e, orderId: $k, amountCents: 2500}) { __typename } }"
)
REDEEM = (
    "mutation($k: String!, $p: ID!) { redeemPrize(input: {idempotencyKey: $k, prizeId: $p}) "
    "{ __typename } }"
)
CREATE_PRIZE = (
    'mutation($c: Int!) { createPrize(input: {name: "Bench mug", cost: $c, '
    "stock: 1000000, kind: PHYSICAL}) { __typename ... on PrizeSaved { prize { id } } } }"
)
_EXPECTED = {
    "adjustPoints": "PointsAdjusted",
    "recordPurchase": "ActivityRecorded",
    "redeemPrize": "PrizeRedeemed",
}


@dataclass
class _Members:
    ids: list[str]
    externals: list[str]
    tokens: list[str]
    prize: str
    service_key: str


@dataclass
class _Run:
    requests: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    cpu_ms: float = 0.0  # the server's (or floor's) processes and their database backends
    database_cpu_ms: float = 0.0  # the backends' part of it

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def line(self) -> str:
        return (
            f"{self.rate:,.0f}/s, p50 {percentile(self.latencies_ms, 50):.1f} ms, "
            f"p99 {percentile(self.latencies_ms, 99):.1f} ms, "
            f"CPU {self.cpu_ms / self.requests:.1f} ms/request "
            f"({self.database_cpu_ms / self.requests:.1f} of it in PostgreSQL)"
        )


# CPU from /proc


def _proc_cpu(pid: int) -> tuple[int, int, float]:
    """(process group, session, CPU seconds) of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[2]), int(fields[3]), (int(fields[11]) + int(fields[12])) / _TICKS


def _cpu_by_process(group: int, database: str) -> dict[int, tuple[float, bool]]:
    """CPU seconds so far of each process of ``group`` and of each PostgreSQL backend
    connected to ``database``: pid -> (seconds, whether it is a backend)."""
    found: dict[int, tuple[float, bool]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            pgrp, _, seconds = _proc_cpu(pid)
            backend = False
            if pgrp != group:
                command = (entry / "cmdline").read_bytes().decode(errors="replace")
                backend = command.startswith("postgres:") and f" {database} " in command
        except OSError:
            continue  # it exited meanwhile
        if pgrp == group or backend:
            found[pid] = (seconds, backend)
    return found


def _cpu_since(
    before: dict[int, tuple[float, bool]], after: dict[int, tuple[float, bool]]
) -> tuple[float, float]:
    """(all, the backends') CPU seconds spent between two readings, by the processes
    alive at the second (one that exited meanwhile took its count with it: a backend
    the pool closed is left out rather than subtracted)."""
    total = backends = 0.0
    for pid, (seconds, backend) in after.items():
        spent = seconds - before.get(pid, (0.0, backend))[0]
        total += spent
        backends += spent if backend else 0.0
    return total, backends


# The product, over HTTP


def _token(external_id: str) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": external_id,
        "aud": "laurel:shopper",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=2)).timestamp()),
    }
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


async def _seed(server: Serving) -> _Members:
    service = api_key(server.tree, server.env, "service")
    externals = [f"bench-{n}" for n in range(MEMBERS)]
    async with Connection.open(server.port) as conn:
        ids = [(await conn.mutate(service, UPSERT, {"e": e}))["member"]["id"] for e in externals]
        for member in ids:
            done = await conn.mutate(
                server.key, ADJUST, {"k": f"seed-{member}", "m": member, "a": 1_000_000}
            )
            if done["__typename"] != "PointsAdjusted":
                raise SystemExit(f"money_path: seeding answered {done}")
        prize = (await conn.mutate(server.key, CREATE_PRIZE, {"c": PRIZE_COST}))["prize"]["id"]
    return _Members(ids, externals, [_token(e) for e in externals], prize, service)


def _request(
    name: str, server: Serving, members: _Members, n: int
) -> tuple[str, str, dict[str, Any]]:
    """(credential, document, variables) of request ``n``: a new key every time."""
    key = f"{name}-{secrets.token_hex(8)}"
    i = n % MEMBERS
    if name == "adjustPoints":
        return server.key, ADJUST, {"k": key, "m": members.ids[i], "a": 1}
    if name == "recordPurchase":
        return members.service_key, PURCHASE, {"k": key, "e": members.externals[i]}
    return members.tokens[i], REDEEM, {"k": key, "p": members.prize}


async def _settled(server: Serving) -> None:
    """Wait until the servers' event log has handled every event there is (the floor
    before commits events of its own), so that a load pays for its own events only. A
    consumer with nothing to do (no webhook endpoints) never moves: one that has not
    moved for a second counts as done."""
    conn = await asyncpg.connect(server.database_url.replace("postgres://", "postgresql://", 1))
    try:
        last: dict[str, int] = {}
        for _ in range(120):
            last_id = await conn.fetchval("SELECT coalesce(max(id), 0) FROM events")
            now = {r["name"]: r["position"] for r in await conn.fetch(_POSITIONS)}
            if all(p >= last_id or last.get(n) == p for n, p in now.items()):
                return
            last = now
            await asyncio.sleep(1)
        print("money_path: the event log was still busy after 120 s")
    finally:
        await conn.close()


_POSITIONS = "SELECT name, position FROM event_consumers"


async def _ids_given_back(server: Serving) -> None:
    """After the replay floor: the event ids its rolled-back transactions took are
    handed out again, or the servers' event log would meet thousands of holes, each an
    event that might still commit, and look for them on every pass (the servers add no
    event meanwhile: no id above the largest one there is was ever committed)."""
    await run_sql(
        server.database_url,
        "SELECT setval(pg_get_serial_sequence('events', 'id'), "
        "(SELECT coalesce(max(id), 1) FROM events))",
    )


async def _load(name: str, server: Serving, members: _Members) -> _Run:
    await _settled(server)
    result = _Run()

    async def client(c: int, deadline: float) -> None:
        n = c
        async with Connection.open(server.port) as conn:
            while time.perf_counter() < deadline:
                credential, document, variables = _request(name, server, members, n)
                began = time.perf_counter()
                done = await conn.mutate(credential, document, variables)
                result.latencies_ms.append((time.perf_counter() - began) * 1000)
                if done["__typename"] != _EXPECTED[name]:
                    raise RuntimeError(f"{name} answered {done}")
                result.requests += 1
                n += CLIENTS

    database = server.database_url.rpartition("/")[2]
    before = _cpu_by_process(server.group, database)
    began = time.perf_counter()
    deadline = began + SECONDS
    await asyncio.gather(*(client(c, deadline) for c in range(CLIENTS)))
    result.seconds = time.perf_counter() - began
    cpu, database_cpu = _cpu_since(before, _cpu_by_process(server.group, database))
    result.cpu_ms = cpu * 1000
    result.database_cpu_ms = database_cpu * 1000
    return result


# The floor: the same transactions through asyncpg


_LEDGER = (
    "INSERT INTO ledger_entries (kind, amount, pending_delta, lifetime_delta, debt_delta, "
    "reason, actor, idempotency_key, request_hash, available_at, expires_at, qualifying, "
    "multiplier, occurred_at, created_at, activity_id, member_id, source_entry_id) "
    "VALUES ($1, $2, $3, $4, 0, 'bench', 'floor', $5, '', NULL, NULL, false, NULL, now(), "
    "now(), $6, $7, NULL) RETURNING id"
)
_EVENT = (
    "INSERT INTO events (type, member_id, payload, created_at) "
    "VALUES ($1, $2, $3::jsonb, now()) RETURNING id"
)


async def _floor_adjust(conn: asyncpg.Connection, redis: Any, member: int, key: str) -> None:
    async with conn.transaction():
        if await conn.fetchval("SELECT 1 FROM ledger_entries WHERE idempotency_key = $1", key):
            return
        entry = await conn.fetchval(_LEDGER, EntryKind.ADJUST.value, 1, 0, 1, key, None, member)
        balance = await conn.fetchval(
            "UPDATE members SET points_balance = points_balance + 1, "
            "lifetime_points = lifetime_points + 1 WHERE id = $1 AND points_balance + 1 >= 0 "
            "RETURNING points_balance",
            member,
        )
        if balance is None:
            raise RuntimeError("the floor's balance update matched nothing")
        await conn.fetchval(
            _EVENT, EventType.POINTS_CREDITED.value, member, f'{{"entry_id": {entry}}}'
        )
    await redis.zincrby(_BOARD, 1, str(member))


async def _floor_purchase(conn: asyncpg.Connection, redis: Any, member: int, key: str) -> None:
    async with conn.transaction():
        if await conn.fetchval("SELECT 1 FROM activities WHERE idempotency_key = $1", key):
            return
        activity = await conn.fetchval(
            "INSERT INTO activities (kind, status, points_awarded, points, idempotency_key, "
            "request_hash, dedupe_key, payload, occurred_at, created_at, updated_at, member_id) "
            "VALUES ('PURCHASE', 'PENDING', 25, 25, $1, '', $1, "
            "'{\"amount_cents\": 2500}'::jsonb, now(), now(), now(), $2) RETURNING id",
            key,
            member,
        )
        entry = await conn.fetchval(_LEDGER, EntryKind.EARN.value, 0, 25, 25, key, activity, member)
        pending = await conn.fetchval(
            "UPDATE members SET pending_points = pending_points + 25, "
            "lifetime_points = lifetime_points + 25 WHERE id = $1 RETURNING pending_points",
            member,
        )
        if pending is None:
            raise RuntimeError("the floor's pending update matched nothing")
        await conn.fetchval(
            _EVENT, EventType.ACTIVITY_RECORDED.value, member, f'{{"activity_id": {activity}}}'
        )
        await conn.fetchval(
            _EVENT, EventType.POINTS_CREDITED.value, member, f'{{"entry_id": {entry}}}'
        )
    await redis.zincrby(_BOARD, 25, str(member))  # pending points count on the boards too


async def _floor_redeem(
    conn: asyncpg.Connection, redis: Any, member: int, key: str, prize: int
) -> None:
    async with conn.transaction():
        if await conn.fetchval("SELECT 1 FROM redemptions WHERE idempotency_key = $1", key):
            return
        if not await conn.fetchval(
            "UPDATE prizes SET stock_left = stock_left - 1 WHERE id = $1 AND stock_left > 0 "
            "RETURNING 1",
            prize,
        ):
            raise RuntimeError("the floor's prize is out of stock")
        if (
            await conn.fetchval(
                "UPDATE members SET points_balance = points_balance - $2 "
                "WHERE id = $1 AND points_balance >= $2 RETURNING points_balance",
                member,
                PRIZE_COST,
            )
            is None
        ):
            raise RuntimeError("the floor's member cannot afford the prize")
        entry = await conn.fetchval(
            _LEDGER, EntryKind.SPEND.value, -PRIZE_COST, 0, 0, key, None, member
        )
        redemption = await conn.fetchval(
            "INSERT INTO redemptions (member_id, cost, code, status, idempotency_key, "
            "request_hash, created_at, prize_id) VALUES ($1, $2, $3, 'RESERVED', $4, '', now(), "
            "$5) RETURNING id",
            member,
            PRIZE_COST,
            secrets.token_hex(6),
            key,
            prize,
        )
        await conn.fetchval(
            _EVENT,
            EventType.REDEMPTION_CREATED.value,
            member,
            f'{{"redemption_id": {redemption}, "entry_id": {entry}}}',
        )


async def _floor_process(
    name: str,
    dsn: str,
    redis_url: str,
    members: list[int],
    prize: int,
    seconds: float,
    replays: list[Captured] | None,
) -> tuple[int, list[float], float, float]:
    """(transactions, latencies, CPU seconds of this process and its backends, the
    backends' part). With ``replays``, connection ``w`` replays ``replays[w]``."""
    pool = await asyncpg.create_pool(dsn, min_size=4, max_size=4)
    redis = connect(redis_url)
    backends = []
    async with contextlib.AsyncExitStack() as held:  # each of the 4 connections once
        for _ in range(4):
            conn = await held.enter_async_context(pool.acquire())
            backends.append(conn.get_server_pid())
    latencies: list[float] = []
    steps: dict[str, Callable[[asyncpg.Connection, int, str], Awaitable[None]]] = {
        "adjustPoints": lambda c, m, k: _floor_adjust(c, redis, m, k),
        "recordPurchase": lambda c, m, k: _floor_purchase(c, redis, m, k),
        "redeemPrize": lambda c, m, k: _floor_redeem(c, redis, m, k, prize),
    }
    step = steps[name]
    bump = {"adjustPoints": 1, "recordPurchase": 25}.get(name)  # what the board moves by

    async def worker(w: int, deadline: float) -> None:
        n = w
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            async with pool.acquire() as conn:
                if replays is None:
                    await step(conn, members[n % len(members)], f"floor-{secrets.token_hex(8)}")
                else:
                    await replay(conn, replays[w])
            if replays is not None and bump is not None:
                await redis.zincrby(_BOARD, bump, str(members[w % len(members)]))
            latencies.append((time.perf_counter() - began) * 1000)
            n += 4

    try:
        own, database = _proc_cpu(os.getpid())[2], sum(_proc_cpu(p)[2] for p in backends)
        deadline = time.perf_counter() + seconds
        await asyncio.gather(*(worker(w, deadline) for w in range(4)))
        own = _proc_cpu(os.getpid())[2] - own
        database = sum(_proc_cpu(p)[2] for p in backends) - database
    finally:
        await pool.close()
        await redis.aclose()
    return len(latencies), latencies, own + database, database


def _floor_child(
    args: tuple[str, str, str, list[int], int, float, list[Captured] | None],
) -> tuple[int, list[float], float, float]:
    return asyncio.run(_floor_process(*args))


def _floor(
    name: str,
    server: Serving,
    redis_url: str,
    members: _Members,
    replays: list[Captured] | None = None,
) -> _Run:
    """The least SQL the mutation needs, or (with ``replays``, one per connection) the
    product's own statements, in 4 processes with 4 connections each."""
    dsn = server.database_url.replace("postgres://", "postgresql://", 1)
    ids = [int(m) for m in members.ids]
    shares = [ids[w::WORKERS] for w in range(WORKERS)]
    context = multiprocessing.get_context("spawn")
    with context.Pool(WORKERS) as pool:
        pool.map(int, range(WORKERS))  # the processes are up before the clock runs
        done = pool.map(
            _floor_child,
            [
                (
                    name,
                    dsn,
                    redis_url,
                    share,
                    int(members.prize),
                    SECONDS,
                    None if replays is None else replays[w * 4 : w * 4 + 4],
                )
                for w, share in enumerate(shares)
            ],
        )
    result = _Run(seconds=SECONDS)
    for count, latencies, cpu, database in done:
        result.requests += count
        result.latencies_ms += latencies
        result.cpu_ms += cpu * 1000
        result.database_cpu_ms += database * 1000
    return result


# Statements per mutation, in this process


Post = Callable[[str, str, dict[str, Any]], Awaitable[httpx.Response]]


@contextlib.asynccontextmanager
async def _in_process(server: Serving, redis_url: str) -> AsyncIterator[Post]:
    """The product in this process, on the servers' database and Redis, as a function
    that posts one GraphQL request to it."""
    settings = Settings(
        data_dir=Path(server.env["LAUREL_DATA_DIR"]),
        jwt_secret=JWT_SECRET,
        database_url=server.database_url,
        redis_url=redis_url,
        rate_limit_enabled=False,
    )
    redis = connect(redis_url)
    try:
        async with orm(server.database_url):
            svc = services_for(settings, Leaderboards(redis))
            app = create_app(settings, services=svc, jwt_secret=JWT_SECRET)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:

                async def post(
                    credential: str, document: str, variables: dict[str, Any]
                ) -> httpx.Response:
                    return await http.post(
                        "/graphql",
                        json={"query": document, "variables": variables},
                        headers={"Authorization": f"Bearer {credential}"},
                    )

                yield post
    finally:
        await redis.aclose()


def _answered(name: str, answer: httpx.Response) -> None:
    typename = answer.json()["data"][name]["__typename"]
    if typename != _EXPECTED[name]:
        raise SystemExit(f"money_path: {name} answered {answer.text}")


async def _statements(
    server: Serving, redis_url: str, members: _Members
) -> dict[str, list[list[str]]]:
    """The statements of SAMPLES requests of each mutation (after WARM_UP of them)."""
    counted: dict[str, list[list[str]]] = {}
    async with _in_process(server, redis_url) as post:
        for name in _EXPECTED:
            samples: list[list[str]] = []
            for n in range(WARM_UP + SAMPLES):  # all for member 0
                credential, document, variables = _request(name, server, members, n * MEMBERS)
                with counting_statements() as sql:
                    _answered(name, await post(credential, document, variables))
                samples.append(sql)
            counted[name] = samples[WARM_UP:]
    return counted


async def _captures(
    name: str, server: Serving, redis_url: str, members: _Members
) -> list[Captured]:
    """One typical request of ``name`` for each of CLIENTS members, its statements
    recorded with their values (the replay floor's work: ``bench.money_replay``). One
    that awards a badge (whose award could not be made again) or runs more statements
    than the median request (a tier reached, a first purchase) is not typical: the
    member's next request is taken instead, so that the floor is not slowed by them."""
    async with _in_process(server, redis_url) as post:

        async def one(n: int) -> Captured:
            credential, document, variables = _request(name, server, members, n)
            with recording_statements() as statements:
                _answered(name, await post(credential, document, variables))
            return Captured(key=variables["k"], statements=tuple(statements))

        for n in range(WARM_UP):  # a process's first requests read what it then keeps
            await one(CLIENTS + n)
        captured = [await one(n) for n in range(CLIENTS)]
        typical = statistics.median_low(len(c.statements) for c in captured)
        for n in range(CLIENTS):
            for _attempt in range(WARM_UP * 3):
                if len(captured[n].statements) <= typical and not any(
                    s.sql.startswith('INSERT INTO "badge_awards"') for s in captured[n].statements
                ):
                    break
                captured[n] = await one(n)
            else:
                raise SystemExit(f"money_path: no typical {name} for member {n}")
    return captured


def _short(statement: str) -> str:
    return statement if len(statement) <= 110 else statement[:109] + "…"


def run() -> None:
    urls = bench_urls("money_path")
    if urls is None:
        return
    base_url, redis_url = urls
    load_before = loadavg()
    with serving(REPO, base_url, redis_url) as server:
        members = asyncio.run(_seed(server))
        for name in _EXPECTED:
            product = asyncio.run(_load(name, server, members))
            captured = asyncio.run(_captures(name, server, redis_url, members))
            same = _floor(name, server, redis_url, members, replays=captured)
            asyncio.run(_ids_given_back(server))
            least = _floor(name, server, redis_url, members)
            ratio = product.rate / same.rate
            verdict = "ok" if ratio >= TARGET else "BELOW TARGET"
            print(
                f"money_path {name} (4 workers, PostgreSQL): {product.line()}\n"
                f"  floor, the same SQL (the product's own "
                f"{statistics.median_low(len(c.statements) for c in captured)} statements "
                f"with their values, replayed with asyncpg, 4 processes): "
                f"{same.line()}; ratio {ratio:.2f} (target >= {TARGET:.2f}) {verdict}\n"
                f"  floor, the least SQL (the writes the mutation needs, with asyncpg): "
                f"{least.line()}; ratio {product.rate / least.rate:.2f} (no target: what "
                f"the product's extra statements and Python cost together)"
            )
        counted = asyncio.run(_statements(server, redis_url, members))
    for name, samples in counted.items():
        sizes = [len(sql) for sql in samples]
        typical = sorted(samples, key=len)[len(samples) // 2]
        print(
            f"money_path {name}: SQL statements per request {sizes} (one that earns a badge "
            f"or a tier runs more); the median one, {len(typical)} statements:"
        )
        for statement, count in Counter(typical).most_common():
            print(f"  {count} x {_short(statement)}")
    print(f"money_path: load average {load_before} at start, {loadavg()} at end")


if __name__ == "__main__":
    run()
