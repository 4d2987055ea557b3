"""Faults with real processes on PostgreSQL + Redis: a server SIGKILLed between its commit
and the commit's effects, database connections terminated during a burst of mutations,
and Redis SIGKILLed under load and started again empty.

Each test runs its own ``redis-server`` (no persistence) so that it can kill it and so
that nobody else's ``FLUSHDB`` on the shared test Redis reaches it. Expected values are
worked out by hand in the comments, never read back from the code under test. Run with
``-s`` to see the counts and recovery times.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import asyncpg
import httpx
import pytest
import redis
from tortoise.contrib.test import truncate_all_models
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect

from badges import BadgeAward
from leaderboards import connect as redis_connect
from server.auth import create_api_key, issue_member_token
from server.rewards import snapshots
from server.rewards.consistency import find_mismatches
from server.rewards.ledger import LedgerEntry
from server.rewards.members import Member
from server.rewards.staff import StaffRole
from tests.conftest import Backend, on_postgres
from tests.helpers import ADJUST, BOARD, PURCHASE, UPSERT, purchase_input
from tests.servers import REPO, SECRET, free_port, server_process, serving

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not on_postgres(), reason="needs PostgreSQL: several processes write"),
]

RECOVERY = 30.0  # seconds within which every fault here must be repaired by itself
SUBSCRIBE = "subscription { badgeAwarded { level badge { slug } } }"
BADGES = "query($id: ID!) { member(id: $id) { lifetimePoints badges { level badge { slug } } } }"
UNAVAILABLE = "SERVICE_UNAVAILABLE"


# Infrastructure: our own Redis, clean tables, GraphQL over HTTP.


class OwnRedis:
    """A ``redis-server`` of this test on a free port, without persistence: started again
    after a SIGKILL it is empty, as a cache node that lost its memory."""

    def __init__(self, data: Path) -> None:
        self.port = free_port()
        self.data = data
        self.process: subprocess.Popen[bytes] | None = None
        data.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        with (self.data / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(
                [
                    *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                    *("--save", "", "--appendonly", "no", "--dir", str(self.data)),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        client = redis.Redis(port=self.port, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                if client.ping():
                    break
            except redis.RedisError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.05)
        client.close()

    def kill(self) -> None:
        """SIGKILL: no shutdown, no save."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
async def deployment(database: Backend, own_redis: OwnRedis) -> Backend:
    """The test database with empty tables, and this test's own Redis."""
    await truncate_all_models()
    snapshots.changed()  # the configuration rows went with the tables
    return Backend(database.name, database.database_url, own_redis.url)


class Api:
    """GraphQL over real HTTP with API keys: purchases as the shop (SERVICE), the rest
    as an ADMIN."""

    def __init__(self, http: httpx.AsyncClient, keys: dict[StaffRole, str]) -> None:
        self.http = http
        self.keys = keys

    @classmethod
    async def of(cls, http: httpx.AsyncClient) -> Api:
        roles = (StaffRole.ADMIN, StaffRole.SERVICE)
        return cls(http, {role: await create_api_key(role, "fault test") for role in roles})

    async def post(self, base: str, query: str, variables: dict[str, Any]) -> httpx.Response:
        role = StaffRole.SERVICE if query == PURCHASE else StaffRole.ADMIN
        return await self.http.post(
            f"{base}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self.keys[role]}"},
        )

    async def data(self, base: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = await self.post(base, query, variables)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    async def member(self, base: str, external_id: str) -> str:
        variables = {"input": {"externalId": external_id, "displayName": external_id.title()}}
        saved = await self.data(base, UPSERT, variables)
        member_id: str = saved["upsertMember"]["member"]["id"]
        return member_id

    async def board(self, base: str) -> dict[str, int]:
        """The global board's top 50 as {member id: score}."""
        page = (await self.data(base, BOARD, {"first": 50}))["leaderboard"]
        return {e["member"]["id"]: e["score"] for e in page["entries"]}


def _adjust(member_id: str, key: str, amount: int) -> dict[str, Any]:
    return {
        "input": {
            "idempotencyKey": key,
            "memberId": member_id,
            "amount": amount,
            "reason": f"fault test {amount:+d}",
        }
    }


async def _health(http: httpx.AsyncClient, base: str) -> dict[str, Any]:
    body: dict[str, Any] = (await http.get(f"{base}/healthz")).json()
    return body


async def _settled(http: httpx.AsyncClient, base: str, *, seconds: float = RECOVERY) -> None:
    """Until /healthz shows Redis ok and every consumer caught up (on a fresh log: gaps
    left by rolled-back transactions count as lag for ``GAP_SECONDS``)."""
    deadline = time.monotonic() + seconds
    health: dict[str, Any] = {}
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError, ValueError):
            health = await _health(http, base)
            consumers = health["events"]["consumers"]
            if health["redis"] == "ok" and all(c["lag"] == 0 for c in consumers.values()):
                return
        await asyncio.sleep(0.25)
    pytest.fail(f"the consumers did not catch up within {seconds} s: {health}")


async def _eventually(
    what: str, check: Callable[[], Awaitable[object]], *, deadline: float
) -> float:
    """Poll ``check()`` (async, truthy when done) until ``deadline`` (monotonic); the time
    it first held."""
    last: object = None
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            last = await check()
            if last:
                return time.monotonic()
        await asyncio.sleep(0.2)
    pytest.fail(f"{what} did not happen in time (last: {last!r})")


# 1. SIGKILL after the commit, before the effects.


async def _subscribe(base: str, token: str, query: str = SUBSCRIBE) -> ClientConnection:
    url = base.replace("http://", "ws://", 1) + "/graphql"
    ws = await ws_connect(
        url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        additional_headers={"Authorization": f"Bearer {token}"},
    )
    await ws.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
    return ws


async def _listening(redis_url: str, member_id: str) -> None:
    """Until a server has subscribed to the member's badge channel in Redis."""
    listener = redis_connect(redis_url)
    try:
        channel = f"laurel:events:badges:{member_id}"
        async with asyncio.timeout(10):
            while (await listener.pubsub_numsub(channel))[0][1] < 1:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    finally:
        await listener.aclose()


async def test_a_server_killed_between_commit_and_effects_loses_none_of_them(
    deployment: Backend, own_redis: OwnRedis, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Server A (no consumers) commits a first purchase and is SIGKILLed before the badge,
    the board and the notification; server B does all three from the log."""
    pause = tmp_path / "a-paused"
    a_env = {"LAUREL_RUN_CONSUMERS": "false", "LAUREL_TEST_PAUSE_AFTER_COMMIT": str(pause)}
    with (
        serving(deployment, tmp_path / "b") as b,
        server_process(deployment, tmp_path / "a", env=a_env) as (a_process, a),
    ):
        async with httpx.AsyncClient(timeout=30) as http, contextlib.AsyncExitStack() as stack:
            api = await Api.of(http)
            fay = await api.member(b, "fay")
            token = await issue_member_token("fay", SECRET, ttl=timedelta(hours=1))
            ws = await _subscribe(b, token)
            stack.push_async_callback(ws.close)
            await _listening(own_redis.url, fay)

            # 2,500 cents at 1 point per 1.00: 25 points; the first order earns
            # first-purchase (5 bonus points) and nothing else (big-spender needs 100.00).
            order = purchase_input("fay", "F-1", 2_500, key="fay-order-1")
            sent = asyncio.create_task(api.post(a, PURCHASE, {"input": order}))
            async with asyncio.timeout(20):
                while not pause.exists():
                    if sent.done():
                        pytest.fail(f"A answered instead of pausing: {(await sent).text}")
                    await asyncio.sleep(0.02)
            os.killpg(a_process.pid, signal.SIGKILL)
            killed = time.monotonic()
            with pytest.raises(httpx.TransportError):
                await sent  # A died without answering
            deadline = killed + RECOVERY

            async def notified() -> dict[str, Any]:
                async with asyncio.timeout(RECOVERY):
                    message: dict[str, Any] = json.loads(await ws.recv())
                return message

            pushed = asyncio.create_task(notified())

            async def badges() -> list[tuple[str, int]]:
                member = (await api.data(b, BADGES, {"id": fay}))["member"]
                return [(x["badge"]["slug"], x["level"]) for x in member["badges"]]

            async def on_board() -> bool:
                return (await api.board(b)).get(fay) == 25 + 5

            badge_after = await _eventually("the badge", badges, deadline=deadline) - killed
            board_after = await _eventually("the board", on_board, deadline=deadline) - killed
            message = await pushed
            pushed_after = time.monotonic() - killed
            retried = await api.data(b, PURCHASE, {"input": order})

    assert await badges_of(fay) == [("first-purchase", 1)]
    assert message["type"] == "next", message
    assert message["payload"]["data"]["badgeAwarded"] == {
        "level": 1,
        "badge": {"slug": "first-purchase"},
    }
    result = retried["recordPurchase"]
    assert (result["__typename"], result["duplicate"], result["pointsAwarded"]) == (
        "ActivityRecorded",
        True,
        25,
    )
    row = await Member.get(id=int(fay))
    # 25 purchase points pending (return window), 5 bonus points spendable, 30 earned.
    assert (row.points_balance, row.lifetime_points) == (5, 30)
    assert sorted(await _amounts(row.id)) == [5, 25]
    assert await find_mismatches() == []
    with capsys.disabled():
        print(
            f"\nA SIGKILLed after its commit: badge granted by B after {badge_after:.1f} s,"
            f" board right after {board_after:.1f} s, notification after {pushed_after:.1f} s"
        )


async def test_badge_notifications_made_while_redis_is_down_arrive_when_it_is_back(
    deployment: Backend, own_redis: OwnRedis, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Redis is SIGKILLed; a first purchase earns a badge while it is gone; Redis is
    started again, empty. The subscriber hears the badge, with the time it was granted."""
    subscribe = "subscription { badgeAwarded { level awardedAt badge { slug } } }"
    with serving(deployment, tmp_path / "server") as base:
        async with httpx.AsyncClient(timeout=30) as http, contextlib.AsyncExitStack() as stack:
            api = await Api.of(http)
            gus = await api.member(base, "gus")
            await _settled(http, base)
            token = await issue_member_token("gus", SECRET, ttl=timedelta(hours=1))
            ws = await _subscribe(base, token, subscribe)
            stack.push_async_callback(ws.close)
            await _listening(own_redis.url, gus)

            own_redis.kill()
            # 2,500 cents: 25 points and the first-purchase badge (as in the test above).
            order = purchase_input("gus", "G-1", 2_500, key="gus-order-1")
            answer = (await api.data(base, PURCHASE, {"input": order}))["recordPurchase"]
            await asyncio.sleep(3)  # the badge is granted while Redis stays away
            granted = await badges_of(gus)
            back = datetime.now(UTC)
            own_redis.start()
            restarted = time.monotonic()
            async with asyncio.timeout(RECOVERY):
                message = json.loads(await ws.recv())
            heard_after = time.monotonic() - restarted

    assert answer["__typename"] == "ActivityRecorded", answer
    assert granted == [("first-purchase", 1)]  # granted with Redis down: SQL only
    assert message["type"] == "next", message
    assert message["payload"].get("data"), message
    pushed = message["payload"]["data"]["badgeAwarded"]
    assert (pushed["badge"]["slug"], pushed["level"]) == ("first-purchase", 1)
    award = await BadgeAward.get(member_id=int(gus), badge__slug="first-purchase")
    # Its original time: when it was granted, during the outage, not when it was sent.
    assert datetime.fromisoformat(pushed["awardedAt"]) == award.awarded_at
    assert award.awarded_at < back
    with capsys.disabled():
        print(
            f"\nA badge granted while Redis was down reached its subscriber {heard_after:.1f} s"
            f" after Redis came back, with awardedAt {pushed['awardedAt']}"
        )


async def _amounts(member_id: int) -> list[int]:
    """The amounts of the member's ledger entries, from SQL."""
    amounts = await LedgerEntry.filter(member_id=member_id).values_list("amount", flat=True)
    return cast(list[int], amounts)


async def badges_of(member_id: str) -> list[tuple[str, int]]:
    """Badge levels held, from SQL: (slug, level)."""
    held = BadgeAward.filter(member_id=int(member_id), revoked_at__isnull=True)
    return sorted(cast(list[tuple[str, int]], await held.values_list("badge__slug", "level")))


# 2. Database connections terminated during a burst of mutations.


@dataclass(frozen=True)
class Mutation:
    query: str
    variables: dict[str, Any]
    result: str  # the field of the result
    success: str  # the __typename of success


@dataclass
class Outcome:
    kind: str  # success | transient | other
    duplicate: bool | None = None
    detail: str = ""


def _outcome(mutation: Mutation, response: httpx.Response) -> Outcome:
    body = response.json()
    errors = body.get("errors") or []
    if response.status_code == 503:
        codes = {e.get("extensions", {}).get("code") for e in errors}
        kind = "transient" if codes == {UNAVAILABLE} else "other"
        return Outcome(kind, detail=response.text)
    result: dict[str, Any] = (body.get("data") or {}).get(mutation.result) or {}
    if response.status_code == 200 and not errors and result.get("__typename") == mutation.success:
        return Outcome("success", duplicate=result["duplicate"])
    return Outcome("other", detail=f"{response.status_code} {response.text}")


async def _terminate_backends(dsn: str, name: str) -> int:
    """Terminate every connection to the test database but this one; how many."""
    conn = await asyncpg.connect(dsn.replace("postgres://", "postgresql://", 1))
    try:
        rows = await conn.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
    finally:
        await conn.close()
    return sum(1 for r in rows if r[0])


async def test_terminated_database_connections_lose_or_double_nothing(
    deployment: Backend, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """32 mutations, 16 in flight, over 2 workers, while every connection to the database is
    terminated three times: each answers its success or a 503 to retry, and the retries
    with the same keys leave everything credited exactly once."""
    database_name = deployment.database_url.rpartition("/")[2]
    with serving(deployment, tmp_path / "server", workers=2) as base:
        async with httpx.AsyncClient(timeout=60) as http:
            api = await Api.of(http)
            adjusted = [await api.member(base, f"adj-{i}") for i in range(4)]
            buyers = [await api.member(base, f"buyer-{j}") for j in range(8)]
            # adjustPoints i (0..23) credits 10 + i to adjusted[i % 4].
            mutations = [
                Mutation(ADJUST, _adjust(adjusted[i % 4], f"t-adj-{i}", 10 + i), *_ADJUSTED)
                for i in range(24)
            ]
            # One 10.00 order per buyer: 10 points (pending) and first-purchase (5 bonus).
            mutations += [
                Mutation(
                    PURCHASE,
                    {"input": purchase_input(f"buyer-{j}", f"T-{j}", 1_000, key=f"t-buy-{j}")},
                    *_PURCHASED,
                )
                for j in range(8)
            ]
            answered = 0
            progress = asyncio.Condition()
            gate = asyncio.Semaphore(16)

            async def send(m: Mutation) -> Outcome:
                nonlocal answered
                async with gate:
                    try:
                        outcome = _outcome(m, await api.post(base, m.query, m.variables))
                    except httpx.TransportError as exc:
                        outcome = Outcome("other", detail=repr(exc))
                async with progress:
                    answered += 1
                    progress.notify_all()
                return outcome

            async def terminator() -> list[int]:
                killed = []
                for after in (3, 11, 19):  # answers before each termination (of 32)
                    async with progress:
                        await progress.wait_for(lambda: answered >= after)  # noqa: B023
                    killed.append(await _terminate_backends(deployment.database_url, database_name))
                return killed

            started = time.monotonic()
            terminations = asyncio.create_task(terminator())
            outcomes = await asyncio.gather(*(send(m) for m in mutations))
            elapsed = time.monotonic() - started
            terminated = await terminations
            retries = [await send(m) for m in mutations]
            # Hand-computed: adjusted[k] got 10 + i for i = k, k+4, ..., k+20, so
            # 6 * (10 + k) + 60; each buyer 10 purchase points and 5 of first-purchase.
            expected = {adjusted[0]: 120, adjusted[1]: 126, adjusted[2]: 132, adjusted[3]: 138}
            expected |= dict.fromkeys(buyers, 10 + 5)

            async def board_right() -> bool:
                # Not /healthz's lag: it counts the ids of the rolled-back transactions
                # as gaps for GAP_SECONDS.
                return await api.board(base) == expected

            await _eventually("the board", board_right, deadline=time.monotonic() + RECOVERY)

    first = Counter(o.kind for o in outcomes)
    pairs = [(o.kind, r.duplicate) for o, r in zip(outcomes, retries, strict=True)]
    with capsys.disabled():
        print(
            f"\n32 mutations in {elapsed:.1f} s over 2 workers, backends terminated"
            f" {terminated} (at 3, 11, 19 answers): {dict(first)};"
            f" (first answer, duplicate on retry): {dict(Counter(pairs))}"
        )
    assert all(n > 0 for n in terminated), terminated
    for original, retry in zip(outcomes, retries, strict=True):
        assert retry.kind == "success", retry
        if original.kind == "success":
            assert retry.duplicate is True, (original, retry)

    for member_id in adjusted:
        total = expected[member_id]
        row = await Member.get(id=int(member_id))
        amounts = await _amounts(row.id)
        assert len(amounts) == 6, (member_id, amounts)
        assert row.points_balance == row.lifetime_points == sum(amounts) == total
    for member_id in buyers:
        row = await Member.get(id=int(member_id))
        amounts = await _amounts(row.id)
        # 10 pending purchase points and the 5 spendable points of first-purchase.
        assert sorted(amounts) == [5, 10], (member_id, amounts)
        assert (row.points_balance, row.lifetime_points) == (5, 15)
        assert await badges_of(member_id) == [("first-purchase", 1)]
    assert await find_mismatches() == []
    # Last, so that a failure here shows that nothing was lost or doubled all the same.
    unexpected = [o.detail for o in outcomes if o.kind == "other"]
    assert unexpected == [], f"{len(unexpected)} answers neither success nor 503: {unexpected}"
    assert first["success"] + first["transient"] == 32


_ADJUSTED = ("adjustPoints", "PointsAdjusted")
_PURCHASED = ("recordPurchase", "ActivityRecorded")


# 3. Redis SIGKILLed under load, started again empty.


@dataclass
class _Credit:
    member_id: str
    amount: int
    sent: float
    answered: float | None = None
    ok: bool = False


@dataclass
class _Read:
    sent: float
    answered: float
    scores: dict[str, int] | None  # None: an error answered
    error: str = ""


@dataclass
class _Load:
    """Writers crediting small amounts, readers reading the board, one /healthz watcher."""

    api: Api
    base: str
    members: list[str]
    credits: list[_Credit] = field(default_factory=list)
    reads: list[_Read] = field(default_factory=list)
    health: list[tuple[float, str]] = field(default_factory=list)  # (asked at, redis)
    problems: list[str] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    _sent: int = 0

    # No member goes past 450 points: 500 would earn point-collector and its bonus.
    CAP = 450

    async def write(self) -> None:
        while not self.stop.is_set():
            n = self._sent
            self._sent += 1
            member_id = self.members[n % len(self.members)]
            amount = 1 + n % 3
            planned = sum(c.amount for c in self.credits if c.member_id == member_id)
            if planned + amount > self.CAP:
                await asyncio.sleep(0.1)
                continue
            credit = _Credit(member_id, amount, time.monotonic())
            self.credits.append(credit)
            try:
                response = await self.api.post(
                    self.base, ADJUST, _adjust(member_id, f"r-{n}", amount)
                )
                body = response.json()
                result = (body.get("data") or {}).get("adjustPoints") or {}
                credit.ok = result.get("__typename") == "PointsAdjusted"
                if not credit.ok:
                    self.problems.append(f"credit {n}: {response.status_code} {response.text}")
            except httpx.TransportError as exc:
                self.problems.append(f"credit {n}: {exc!r}")
            credit.answered = time.monotonic()
            await asyncio.sleep(0.05)

    async def read(self) -> None:
        while not self.stop.is_set():
            sent = time.monotonic()
            try:
                response = await self.api.post(self.base, BOARD, {"first": 50})
                body = response.json()
            except (httpx.TransportError, ValueError) as exc:
                self.reads.append(_Read(sent, time.monotonic(), None, repr(exc)))
                continue
            answered = time.monotonic()
            if body.get("errors"):
                self.reads.append(_Read(sent, answered, None, json.dumps(body["errors"])))
            else:
                entries = body["data"]["leaderboard"]["entries"]
                scores = {e["member"]["id"]: e["score"] for e in entries}
                self.reads.append(_Read(sent, answered, scores))
            await asyncio.sleep(0.05)

    async def watch(self) -> None:
        while not self.stop.is_set():
            sent = time.monotonic()
            with contextlib.suppress(httpx.TransportError, ValueError, KeyError):
                state = (await _health(self.api.http, self.base))["redis"]
                self.health.append((sent, state))
            await asyncio.sleep(0.2)

    def credited(self, member_id: str, *, sent_before: float) -> int:
        """Every credit sent before then, answered or not: a bound no score may pass."""
        return sum(
            c.amount for c in self.credits if c.member_id == member_id and c.sent < sent_before
        )

    def confirmed(self, member_id: str, *, answered_before: float) -> int:
        """Credits confirmed before then: a score the ledger surely holds."""
        return sum(
            c.amount
            for c in self.credits
            if c.member_id == member_id
            and c.ok
            and c.answered is not None
            and c.answered < answered_before
        )


async def test_redis_killed_and_restarted_empty_heals_the_boards_by_itself(
    deployment: Backend, own_redis: OwnRedis, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Under credits and board reads, Redis is SIGKILLed and started again empty on its
    port: no page ever shows a wrong score, and the boards come back right on their own."""
    cache_seconds = 1.0  # LAUREL_LEADERBOARD_CACHE_SECONDS: a page may be this old
    with serving(deployment, tmp_path / "server", workers=2) as base:
        async with httpx.AsyncClient(timeout=30) as http:
            api = await Api.of(http)
            members = [await api.member(base, f"load-{i}") for i in range(5)]
            await _settled(http, base)
            load = _Load(api, base, members)
            tasks = [asyncio.create_task(load.write()) for _ in range(3)]
            tasks += [asyncio.create_task(load.read()) for _ in range(2)]
            tasks.append(asyncio.create_task(load.watch()))
            try:
                await asyncio.sleep(2)
                own_redis.kill()
                killed = time.monotonic()
                await asyncio.sleep(2)
                own_redis.start()  # same port, empty: no epoch, no boards
                restarted = time.monotonic()

                async def healthy() -> bool:
                    return any(t > restarted and s == "ok" for t, s in load.health)

                healed = await _eventually("redis ok", healthy, deadline=restarted + RECOVERY)
                await asyncio.sleep(2)  # the load goes on over the healed boards
            finally:
                load.stop.set()
                await asyncio.gather(*tasks)
            stopped = time.monotonic()
            expected = {m: load.confirmed(m, answered_before=stopped) for m in members}

            async def right() -> bool:
                return await api.board(base) == expected

            board_right = await _eventually("the board", right, deadline=restarted + RECOVERY)
            check = await asyncio.to_thread(_check_leaderboards, deployment, tmp_path / "check")
            final = await _health(http, base)

    errors = [r for r in load.reads if r.scores is None]
    pages = [r for r in load.reads if r.scores is not None]
    after_kill = [r for r in load.reads if r.sent > killed]
    states = Counter(s for t, s in load.health if t > killed)
    served = next((r.answered - restarted for r in pages if r.sent > restarted), float("nan"))
    with capsys.disabled():
        print(
            f"\nRedis killed under load; restarted after {restarted - killed:.1f} s;"
            f" first page {served:.1f} s, /healthz ok {healed - restarted:.1f} s, the board"
            f" right {board_right - restarted:.1f} s after the restart; {len(load.credits)} credits"
            f" ({sum(c.ok for c in load.credits)} ok), {len(pages)} pages and {len(errors)}"
            f" errors read ({sum(r.scores is None for r in after_kill)} errors and"
            f" {sum(r.scores is not None for r in after_kill)} pages since the kill);"
            f" /healthz since the kill: {dict(states)}"
        )
    assert load.problems == []
    assert all(c.ok for c in load.credits)
    for read in errors:
        assert (
            UNAVAILABLE in read.error or "unavailable" in read.error or "rebuilt" in read.error
        ), read
        assert read.sent > killed - cache_seconds, read  # no error before the fault
    for read in pages:
        assert read.scores is not None
        for member_id in members:
            score = read.scores.get(member_id, 0)
            assert score <= load.credited(member_id, sent_before=read.answered), (member_id, read)
            if read.sent > killed + cache_seconds + 0.5:
                # A page read after the kill (and not cached before it) holds every credit
                # confirmed before the kill: Redis lost them, the ledger did not.
                floor = load.confirmed(member_id, answered_before=killed)
                assert score >= floor, (member_id, floor, read)
    assert states["down"] + states["rebuilding"] > 0, load.health
    # Asked while Redis was gone, /healthz never said ok (it takes a rebuild to be ok).
    assert [s for t, s in load.health if killed < t < restarted and s == "ok"] == []
    assert load.health[-1][1] == "ok"
    assert final["redis"] == "ok"
    assert check.returncode == 0, check.stdout + check.stderr
    for member_id in members:
        row = await Member.get(id=int(member_id))
        assert row.lifetime_points == row.points_balance == expected[member_id]
    assert await find_mismatches() == []


def _check_leaderboards(backend: Backend, data: Path) -> subprocess.CompletedProcess[str]:
    """`laurel check-leaderboards` with the server's settings."""
    data.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "LAUREL_DATABASE_URL": backend.database_url,
        "LAUREL_REDIS_URL": backend.redis_url,
        "LAUREL_JWT_SECRET": SECRET,
        "LAUREL_DATA_DIR": str(data),
    }
    return subprocess.run(
        [sys.executable, "-m", "server", "check-leaderboards"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
