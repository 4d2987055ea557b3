"""Money under load: the real server (`laurel serve --workers 4`) on PostgreSQL takes hundreds
of concurrent adjustPoints calls, retries and key reuses, and every balance still equals its
ledger, no debit overdraws, nothing is applied twice and the board ends up right.

Run with ``-s`` (or ``-rA``) to see the summary the tests print.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast

import httpx
import pytest

from badges import ALL_METRICS, BadgeAward, ensure_badges, evaluate
from server.actions import Services
from server.auth import create_api_key, issue_member_token
from server.rewards.consistency import find_mismatches
from server.rewards.contests import Contest, Placement
from server.rewards.ledger import LedgerEntry
from server.rewards.members import Member
from server.rewards.prizes import Prize, Redemption
from server.rewards.staff import StaffRole
from tests.conftest import Backend, on_postgres
from tests.helpers import ADJUST, PURCHASE, UPSERT
from tests.servers import SECRET, serving

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not on_postgres(), reason="needs PostgreSQL: SQLite serializes writes"),
]

WORKERS = 4
REQUESTS = 400
IN_FLIGHT = 40
MEMBERS = 5
OPENING_CREDIT = 300


@pytest.fixture(scope="module")
def server(database: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m server serve --workers 4` on the test database; yields its base URL."""
    with serving(database, tmp_path_factory.mktemp("server"), workers=WORKERS) as base:
        yield base


@dataclass(frozen=True)
class Call:
    """One adjustPoints call as planned: a new key, or a reuse of the key of ``original``."""

    member_id: str
    key: str
    amount: int
    reuse: Literal["new", "same", "different"] = "new"
    original: int | None = None


def _plan(rng: random.Random, member_ids: list[str]) -> list[Call]:
    calls: list[Call] = []
    credits: list[int] = []
    for i in range(REQUESTS):
        roll = rng.random()
        if credits and roll < 0.2:
            j = rng.choice(credits)
            calls.append(Call(calls[j].member_id, calls[j].key, calls[j].amount, "same", j))
        elif credits and roll < 0.23:
            j = rng.choice(credits)
            calls.append(
                Call(calls[j].member_id, calls[j].key, calls[j].amount + 1, "different", j)
            )
        else:
            amount = rng.randint(1, 150) if rng.random() < 0.5 else -rng.randint(1, 250)
            if amount > 0:
                credits.append(len(calls))
            calls.append(Call(rng.choice(member_ids), f"load-{i}", amount))
    return calls


class Api:
    """GraphQL over real HTTP as one API key."""

    def __init__(self, http: httpx.AsyncClient, key: str) -> None:
        self.http = http
        self.key = key

    async def __call__(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self.key}"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def adjust(self, member_id: str, key: str, amount: int) -> dict[str, Any]:
        variables = {
            "input": {
                "idempotencyKey": key,
                "memberId": member_id,
                "amount": amount,
                "reason": f"load test {amount:+d}",
            }
        }
        result: dict[str, Any] = (await self(ADJUST, variables))["adjustPoints"]
        return result

    async def boards_caught_up(self) -> None:
        """Wait until /healthz reports every board update applied."""
        try:
            async with asyncio.timeout(30):
                while True:
                    health = (await self.http.get("/healthz")).json()
                    if health["events"]["consumers"]["boards"]["lag"] == 0:
                        return
                    await asyncio.sleep(0.2)
        except TimeoutError:
            pytest.fail("the board consumer did not catch up within 30 s")


async def _members(api: Api) -> dict[str, str]:
    """Members with an opening credit: {member id: id of the opening ledger entry}."""
    ids: dict[str, str] = {}
    for i in range(MEMBERS):
        saved = await api(
            UPSERT, {"input": {"externalId": f"load-{i}", "displayName": f"Load {i}"}}
        )
        member_id: str = saved["upsertMember"]["member"]["id"]
        opening = await api.adjust(member_id, f"opening-{i}", OPENING_CREDIT)
        assert opening["__typename"] == "PointsAdjusted"
        ids[member_id] = opening["entry"]["id"]
    return ids


async def test_concurrent_adjustments_keep_every_balance_equal_to_its_ledger(
    server: str, svc: Services
) -> None:
    # ``svc`` empties the tables and Redis; this process's ORM shares the server's database.
    key = await create_api_key(StaffRole.ADMIN, "load test")
    limits = httpx.Limits(max_connections=IN_FLIGHT)
    async with httpx.AsyncClient(base_url=server, timeout=60, limits=limits) as http:
        api = Api(http, key)
        openings = await _members(api)
        member_ids = list(openings)
        calls = _plan(random.Random(20_240_611), member_ids)
        results: list[dict[str, Any] | None] = [None] * len(calls)
        done = [asyncio.Event() for _ in calls]
        gate = asyncio.Semaphore(IN_FLIGHT)

        async def send(i: int, call: Call) -> None:
            if call.original is not None:
                await done[call.original].wait()  # a retry comes after the first answer
            async with gate:
                results[i] = await api.adjust(call.member_id, call.key, call.amount)
            done[i].set()

        started = time.monotonic()
        await asyncio.gather(*(send(i, call) for i, call in enumerate(calls)))
        elapsed = time.monotonic() - started
        await api.boards_caught_up()

    counts: Counter[str] = Counter()
    applied: dict[str, list[int]] = {m: [OPENING_CREDIT] for m in member_ids}
    entry_ids: set[str] = set(openings.values())
    for call, result in zip(calls, results, strict=True):
        assert result is not None
        kind = result["__typename"]
        if call.reuse == "same":
            first = results[call.original] if call.original is not None else None
            assert first is not None
            assert (kind, result["duplicate"]) == ("PointsAdjusted", True), (call, result)
            assert result["entry"]["id"] == first["entry"]["id"]
            counts["duplicates"] += 1
        elif call.reuse == "different":
            assert kind == "ConflictError", (call, result)
            counts["conflicts"] += 1
        elif call.amount > 0:
            assert (kind, result["duplicate"]) == ("PointsAdjusted", False), (call, result)
            counts["credits applied"] += 1
        else:
            assert kind in {"PointsAdjusted", "InsufficientPointsError"}, (call, result)
            if kind == "InsufficientPointsError":
                assert result["required"] == -call.amount
                counts["insufficient"] += 1
                continue
            assert result["duplicate"] is False
            counts["debits applied"] += 1
        if kind == "PointsAdjusted" and not result["duplicate"]:
            applied[call.member_id].append(call.amount)
            entry_ids.add(result["entry"]["id"])

    rows = await Member.filter(id__in=[int(m) for m in member_ids])
    members = {str(row.id): row for row in rows}
    assert svc.boards is not None
    board = {row.member_id: row.score for row in (await svc.boards.page(first=10, offset=0)).rows}

    print(
        f"\nadjustPoints over HTTP, {WORKERS} workers, {IN_FLIGHT} in flight: "
        f"{len(calls)} requests in {elapsed:.1f} s"
    )
    print(
        "  "
        + ", ".join(
            f"{name} {counts[name]}"
            for name in (
                "credits applied",
                "debits applied",
                "insufficient",
                "duplicates",
                "conflicts",
            )
        )
    )
    ledger_sums: dict[str, int] = {}
    for member_id in member_ids:
        amounts = await LedgerEntry.filter(member_id=int(member_id)).values_list(
            "amount", flat=True
        )
        ledger_sums[member_id] = sum(cast(list[int], amounts))
        row = members[member_id]
        print(
            f"  member {member_id}: balance {row.points_balance} == ledger sum "
            f"{ledger_sums[member_id]}: {row.points_balance == ledger_sums[member_id]} "
            f"(board {board.get(row.id, 0)}, lifetime {row.lifetime_points})"
        )

    assert sum(counts.values()) == REQUESTS
    assert counts["insufficient"] > 0  # the plan overdraws sometimes ...
    assert counts["debits applied"] > 0  # ... and spends successfully too
    assert await find_mismatches() == []
    keys = Counter(await LedgerEntry.all().values_list("idempotency_key", flat=True))
    assert [k for k, n in keys.items() if n > 1] == []
    ledger_ids = {str(i) for i in await LedgerEntry.all().values_list("id", flat=True)}
    assert len(ledger_ids) == sum(len(a) for a in applied.values())
    assert ledger_ids == entry_ids  # one entry per answer that said "applied", no other
    for member_id in member_ids:
        row = members[member_id]
        assert row.points_balance >= 0
        assert row.points_balance == ledger_sums[member_id] == sum(applied[member_id])
        assert row.lifetime_points == row.points_balance  # adjustments count as earned
    assert board == {
        row.id: row.lifetime_points for row in members.values() if row.lifetime_points > 0
    }


async def test_a_burst_of_identical_retries_moves_points_once(server: str, svc: Services) -> None:
    key = await create_api_key(StaffRole.ADMIN, "load test")
    async with httpx.AsyncClient(base_url=server, timeout=60) as http:
        api = Api(http, key)
        [member_id, *_] = await _members(api)
        burst = await asyncio.gather(*(api.adjust(member_id, "burst-1", 77) for _ in range(20)))

    kinds = Counter((r["__typename"], r["duplicate"]) for r in burst)
    print(f"\n20 identical adjustPoints at once: {dict(kinds)}")
    assert kinds == {("PointsAdjusted", False): 1, ("PointsAdjusted", True): 19}
    assert len({r["entry"]["id"] for r in burst}) == 1
    row = await Member.get(id=int(member_id))
    assert row.points_balance == OPENING_CREDIT + 77
    assert await LedgerEntry.filter(member_id=row.id).count() == 2
    assert await find_mismatches() == []


async def test_concurrent_evaluations_grant_each_badge_level_once(
    server: str, svc: Services
) -> None:
    """20 credits at once over 4 workers each evaluate the points badges of one member,
    and 20 more evaluations run at once in this process: each level is granted once,
    its bonus credited once."""
    await ensure_badges()
    key = await create_api_key(StaffRole.ADMIN, "badge race")
    async with httpx.AsyncClient(base_url=server, timeout=60) as http:
        api = Api(http, key)
        saved = await api(UPSERT, {"input": {"externalId": "racer", "displayName": "Racer"}})
        member_id = saved["upsertMember"]["member"]["id"]
        # 20 x 110 = 2,200 lifetime points: the first two point-collector levels (500, 2,000).
        results = await asyncio.gather(
            *(api.adjust(member_id, f"race-{i}", 110) for i in range(20))
        )
        assert all(r["__typename"] == "PointsAdjusted" for r in results)
        await api.boards_caught_up()
    evaluations = await asyncio.gather(
        *(
            evaluate(int(member_id), ALL_METRICS, now=svc.clock(), keep_for=svc.keep_for)
            for _ in range(20)
        )
    )
    awards = await BadgeAward.filter(member_id=int(member_id)).values_list("badge__slug", "level")
    bonuses = await LedgerEntry.filter(
        member_id=int(member_id), idempotency_key__startswith="badge:"
    ).values_list("amount", flat=True)
    racer = await Member.get(id=int(member_id))
    print(
        f"\n20 concurrent adjustPoints over {WORKERS} workers + 20 concurrent evaluations: "
        f"levels granted {sorted(awards)}, bonus entries {sorted(bonuses)}, "
        f"granted again by the 20 evaluations: {sum(len(e.granted) for e in evaluations)}; "
        f"lifetime {racer.lifetime_points} == 2200 + bonuses: "
        f"{racer.lifetime_points == 2_200 + sum(bonuses)}"
    )
    assert sorted(awards) == [("point-collector", 1), ("point-collector", 2)]
    assert sorted(bonuses) == [25, 100]
    assert all(not e.granted for e in evaluations)
    assert racer.lifetime_points == 2_200 + 125
    assert await find_mismatches() == []


REDEEM = """
mutation($input: RedeemPrizeInput!) {
  redeemPrize(input: $input) {
    __typename
    ... on PrizeRedeemed { duplicate redemption { id code } }
    ... on Error { message }
  }
}"""


async def test_concurrent_redemptions_never_oversell(server: str, svc: Services) -> None:
    """200 redeemPrize calls from 50 members at once for a prize with stock 10, over 4
    worker processes; then the same key sent 50 times at once."""
    key = await create_api_key(StaffRole.ADMIN, "prize race")
    limits = httpx.Limits(max_connections=IN_FLIGHT)
    async with httpx.AsyncClient(base_url=server, timeout=60, limits=limits) as http:
        admin = Api(http, key)
        members: list[tuple[str, str]] = []
        for i in range(50):
            saved = await admin(UPSERT, {"input": {"externalId": f"r{i}", "displayName": f"R{i}"}})
            member_id = saved["upsertMember"]["member"]["id"]
            await admin.adjust(member_id, f"open-r{i}", 500)
            token = await issue_member_token(f"r{i}", SECRET, ttl=timedelta(hours=1))
            members.append((member_id, token))
        created = await admin(
            "mutation($i: CreatePrizeInput!) "
            "{ createPrize(input: $i) { ... on PrizeSaved { prize { id } } } }",
            {"i": {"name": "Limited print", "cost": 100, "stock": 10}},
        )
        prize_id = created["createPrize"]["prize"]["id"]

        async def redeem(token: str, idem: str) -> dict[str, Any]:
            response = await http.post(
                "/graphql",
                json={
                    "query": REDEEM,
                    "variables": {"input": {"idempotencyKey": idem, "prizeId": prize_id}},
                },
                headers={"Authorization": f"Bearer {token}"},
            )
            result: dict[str, Any] = response.json()["data"]["redeemPrize"]
            return result

        started = time.monotonic()
        results = await asyncio.gather(
            *(redeem(token, f"try-{n}") for n in range(4) for _, token in members)
        )
        elapsed = time.monotonic() - started
        kinds = Counter(r["__typename"] for r in results)
        stock_after_race = (await Prize.get(id=int(prize_id))).stock_left
        rich_id, rich_token = members[0][0], members[0][1]
        await admin.adjust(rich_id, "top-up", 1_000)
        await admin(
            "mutation($i: UpdatePrizeInput!) { updatePrize(input: $i) { __typename } }",
            {"i": {"prizeId": prize_id, "stock": 20}},
        )
        same = await asyncio.gather(*(redeem(rich_token, "the-same-key") for _ in range(50)))
        await admin.boards_caught_up()
    redemptions = await Redemption.filter(prize_id=int(prize_id)).order_by("id")
    first_ten = [r for r in redemptions if not r.idempotency_key.endswith(":the-same-key")]
    prize = await Prize.get(id=int(prize_id))
    rows = await Member.filter(external_id__startswith="r")
    balances_ok = True
    for m in rows:
        entries = await LedgerEntry.filter(member_id=m.id)
        spendable = sum(e.amount - e.pending_delta for e in entries)
        balances_ok = balances_ok and m.points_balance == spendable >= 0
    debits = await LedgerEntry.filter(idempotency_key__endswith=":the-same-key").count()
    identical = {(r["__typename"], r["redemption"]["id"], r["redemption"]["code"]) for r in same}
    print(
        f"\nredeemPrize over HTTP, {WORKERS} workers: 200 calls from 50 members "
        f"in {elapsed:.1f} s: "
        f"{dict(kinds)}; redemptions {len(first_ten)}, stock left {stock_after_race}, "
        f"distinct codes {len({r.code for r in first_ten})}, "
        f"balance == ledger >= 0 for all 50: {balances_ok}"
    )
    print(
        f"the same key 50 times at once: {debits} debit, {len(identical)} distinct answer(s), "
        f"duplicates {sum(1 for r in same if r['duplicate'])}"
    )
    assert kinds == Counter({"PrizeRedeemed": 10, "OutOfStockError": 190})
    assert len(first_ten) == 10
    assert len({r.code for r in first_ten}) == 10
    assert stock_after_race == 0
    assert prize.stock_left == 10 - 1  # stock raised to 20, then one more redemption
    assert balances_ok
    assert await find_mismatches() == []
    assert debits == 1
    assert len(identical) == 1
    assert sum(1 for r in same if not r["duplicate"]) == 1


async def test_concurrent_finalize_over_four_workers_awards_once(
    server: str, svc: Services
) -> None:
    """20 finalizeContest calls at once over 4 worker processes: one finalization."""
    now = datetime.now(UTC)
    contest = await Contest.create(
        name="Order rush",
        starts_at=now - timedelta(hours=2),
        ends_at=now - timedelta(seconds=1),
        activity_kinds=["PURCHASE"],
        prizes=[{"fromRank": 1, "toRank": 3, "points": 100, "badgeSlug": None}],
        published_at=now - timedelta(hours=3),
        created_by="test",
    )
    service = await create_api_key(StaffRole.SERVICE, "orders")
    moderator = await create_api_key(StaffRole.MODERATOR, "contests")
    async with httpx.AsyncClient(base_url=server, timeout=60) as http:
        shop = Api(http, service)
        for i in range(5):
            await shop(UPSERT, {"input": {"externalId": f"f{i}", "displayName": f"F{i}"}})
            order = {
                "idempotencyKey": f"fo{i}",
                "memberExternalId": f"f{i}",
                "orderId": f"FO-{i}",
                "amountCents": 1_000 * (i + 1),
                "occurredAt": (now - timedelta(hours=1)).isoformat(),
            }
            await shop(PURCHASE, {"input": order})
        finalize = "mutation($id: ID!) { finalizeContest(id: $id) { __typename } }"
        results = await asyncio.gather(
            *(
                http.post(
                    "/graphql",
                    json={"query": finalize, "variables": {"id": str(contest.id)}},
                    headers={"Authorization": f"Bearer {moderator}"},
                )
                for _ in range(20)
            )
        )
    kinds = Counter(r.json()["data"]["finalizeContest"]["__typename"] for r in results)
    placements = await Placement.filter(contest_id=contest.id).order_by("rank")
    prizes = await LedgerEntry.filter(idempotency_key__startswith=f"contest:{contest.id}:").count()
    print(
        f"\n20 concurrent finalizeContest over {WORKERS} workers: {dict(kinds)}; "
        f"placements {[(p.rank, p.score) for p in placements]}, prize entries {prizes}"
    )
    assert kinds == Counter({"ContestSaved": 20})
    assert [p.rank for p in placements] == [1, 2, 3, 4, 5]
    assert prizes == 3
    assert await find_mismatches() == []
