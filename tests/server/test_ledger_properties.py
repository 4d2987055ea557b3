"""The ledger's promise, checked against a model: whatever shops, admins, shoppers and the
release job do, every balance equals the sums of its ledger and never goes below zero.

The property test is a Hypothesis ``@given`` on an ``async def``: pytest-asyncio (1.x)
recognises Hypothesis tests and runs each example (shrinking included) to completion in
the session event loop, so the session fixtures (ORM, Redis) work unchanged. Function
fixtures are set up once per test, not per example, so every example starts by emptying
the tables and the Redis database itself.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis
from tortoise.contrib.test import truncate_all_models

from server import actions
from server.actions import Services
from server.auth import Principal, Role
from server.rewards import snapshots
from server.rewards.activities import Activity, ActivityStatus
from server.rewards.consistency import find_mismatches
from server.rewards.errors import Conflict, InsufficientPoints
from server.rewards.ledger import EntryKind, LedgerEntry
from server.rewards.members import Member
from server.rewards.pending import release_due
from tests.conftest import Clock

SHOP = Principal(role=Role.SERVICE, name="shop backend")
ADMIN = Principal(role=Role.ADMIN, name="support desk")
MEMBERS = 3
PENDING_DAYS = 14  # Services.purchase_pending_days, the default the fixtures use


# Operations, as Hypothesis draws them.


@dataclass(frozen=True)
class Purchase:
    member: int
    key: int
    order: int
    cents: int
    age_minutes: int  # occurredAt = now - age


@dataclass(frozen=True)
class Adjust:
    member: int
    key: int
    amount: int


@dataclass(frozen=True)
class Repeat:
    """Send the ``nth`` earlier purchase or adjustment again, byte for byte (a retry)."""

    nth: int


@dataclass(frozen=True)
class Advance:
    hours: int


@dataclass(frozen=True)
class ReleaseJob:
    """``laurel release-pending``."""


@dataclass(frozen=True)
class Read:
    """The shopper opens their account, which releases their due points."""

    member: int


Op = Purchase | Adjust | Repeat | Advance | ReleaseJob | Read

_member = st.integers(0, MEMBERS - 1)
_purchase = st.builds(
    Purchase,
    member=_member,
    key=st.integers(0, 9),
    order=st.integers(0, 9),
    cents=st.one_of(st.integers(1, 60_000), st.sampled_from([99, 100, 101])),
    age_minutes=st.one_of(
        st.integers(0, 20 * 24 * 60), st.just(PENDING_DAYS * 24 * 60), st.just(0)
    ),
)
_adjust = st.builds(
    Adjust,
    member=_member,
    key=st.integers(0, 9),
    amount=st.integers(1, 800).flatmap(lambda n: st.sampled_from([n, n, -n])),
)
_op: st.SearchStrategy[Op] = st.one_of(
    _purchase,
    _adjust,
    st.builds(Repeat, nth=st.integers(0, 50)),
    st.builds(Advance, hours=st.one_of(st.integers(1, 15 * 24), st.just(PENDING_DAYS * 24))),
    st.just(ReleaseJob()),
    st.builds(Read, member=_member),
)


# The requests as sent (a Repeat sends one of these again).


@dataclass(frozen=True)
class PurchaseRequest:
    member: int
    key: str
    order: str
    cents: int
    occurred_at: datetime


@dataclass(frozen=True)
class AdjustRequest:
    member: int
    key: str
    amount: int


# The model: what each member's account must show.


@dataclass
class Credit:
    points: int
    available_at: datetime
    released: bool = False


@dataclass
class Account:
    spendable: int = 0
    lifetime: int = 0
    credits: list[Credit] = field(default_factory=list)

    @property
    def pending(self) -> int:
        return sum(c.points for c in self.credits if not c.released)

    def release_due(self, now: datetime) -> None:
        for credit in self.credits:
            if not credit.released and credit.available_at <= now:
                credit.released = True
                self.spendable += credit.points


@dataclass
class Model:
    accounts: list[Account]
    purchases: dict[str, tuple[PurchaseRequest, int]] = field(default_factory=dict)
    orders: set[str] = field(default_factory=set)
    adjustments: dict[str, AdjustRequest] = field(default_factory=dict)


class Run:
    """One example: the real use cases and the model, step by step."""

    def __init__(self, svc: Services, clock: Clock, ids: list[int]) -> None:
        self.svc = svc
        self.clock = clock
        self.ids = ids
        self.model = Model(accounts=[Account() for _ in ids])
        self.sent: list[PurchaseRequest | AdjustRequest] = []

    async def step(self, op: Op) -> None:
        match op:
            case Purchase():
                occurred = self.clock() - timedelta(minutes=op.age_minutes)
                request = PurchaseRequest(
                    op.member, f"p-{op.key}", f"order-{op.order}", op.cents, occurred
                )
                self.sent.append(request)
                await self.purchase(request)
            case Adjust():
                adjustment = AdjustRequest(op.member, f"a-{op.key}", op.amount)
                self.sent.append(adjustment)
                await self.adjust(adjustment)
            case Repeat():
                if not self.sent:
                    return
                again = self.sent[op.nth % len(self.sent)]
                if isinstance(again, PurchaseRequest):
                    await self.purchase(again)
                else:
                    await self.adjust(again)
            case Advance():
                self.clock.advance(hours=op.hours)
            case ReleaseJob():
                _, points = await actions.release_pending(self.svc)
                event(f"release job: {'released' if points else 'nothing due'}")
                before = sum(a.spendable for a in self.model.accounts)
                for account in self.model.accounts:
                    account.release_due(self.clock())
                assert points == sum(a.spendable for a in self.model.accounts) - before
            case Read():
                shopper = Principal(
                    role=Role.SHOPPER, member_id=self.ids[op.member], name=f"m{op.member}"
                )
                seen = await actions.viewer(self.svc, shopper)
                assert seen is not None
                account = self.model.accounts[op.member]
                before = account.spendable
                account.release_due(self.clock())
                event(f"read: {'released' if account.spendable > before else 'nothing due'}")
                shown = (seen.points_balance, seen.pending_points, seen.lifetime_points)
                assert shown == (account.spendable, account.pending, account.lifetime)

    async def purchase(self, request: PurchaseRequest) -> None:
        model = self.model
        points = request.cents // 100
        stored = model.purchases.get(request.key)
        if stored is not None:
            expected = "duplicate" if stored[0] == request else "conflict"
        elif request.order in model.orders:
            expected = "conflict"  # the order was recorded under another key
        else:
            expected = "recorded"
        done: actions.Recorded | Conflict
        try:
            done = await actions.record_purchase(
                self.svc,
                SHOP,
                idempotency_key=request.key,
                member_external_id=f"member-{request.member}",
                order_id=request.order,
                amount_cents=request.cents,
                occurred_at=request.occurred_at,
            )
        except Conflict as refused:
            done = refused
        event(f"purchase: {expected}")
        if isinstance(done, Conflict):
            assert expected == "conflict", f"{request} was refused: {done.message}"
            return
        assert expected != "conflict", f"{request} was accepted: {done}"
        assert done.duplicate is (expected == "duplicate")
        assert done.points_awarded == (stored[1] if stored else points)
        if expected == "duplicate":
            return
        model.purchases[request.key] = (request, points)
        model.orders.add(request.order)
        account = model.accounts[request.member]
        account.lifetime += points
        available_at = request.occurred_at + timedelta(days=PENDING_DAYS)
        if points and available_at > self.clock():
            account.credits.append(Credit(points, available_at))
        else:
            account.spendable += points

    async def adjust(self, request: AdjustRequest) -> None:
        model = self.model
        account = model.accounts[request.member]
        stored = model.adjustments.get(request.key)
        if stored is not None:
            expected = "duplicate" if stored == request else "conflict"
        elif account.spendable + request.amount < 0:
            expected = "insufficient"
        else:
            expected = "adjusted"
        done: actions.Adjusted | Conflict | InsufficientPoints
        try:
            done = await actions.adjust_points(
                self.svc,
                ADMIN,
                idempotency_key=request.key,
                member_id=str(self.ids[request.member]),
                amount=request.amount,
                reason="Goodwill correction",
            )
        except (Conflict, InsufficientPoints) as refused:
            done = refused
        event(f"adjustment: {expected}")
        if isinstance(done, Conflict):
            assert expected == "conflict", f"{request} was refused: {done.message}"
            return
        if isinstance(done, InsufficientPoints):
            assert expected == "insufficient", f"{request} was refused: {done.message}"
            assert (done.balance, done.required) == (account.spendable, -request.amount)
            return
        assert expected in {"adjusted", "duplicate"}, f"{request} was accepted: {done}"
        assert done.duplicate is (expected == "duplicate")
        assert done.entry.amount == request.amount
        if expected == "duplicate":
            return
        model.adjustments[request.key] = request
        account.spendable += request.amount
        account.lifetime += request.amount
        assert done.member.points_balance == account.spendable

    async def check(self) -> None:
        """Cached columns == ledger sums == model, all >= 0, for every member."""
        for index, member_id in enumerate(self.ids):
            row = await Member.get(id=member_id)
            cached = (row.points_balance, row.pending_points, row.lifetime_points)
            entries = await LedgerEntry.filter(member_id=member_id).values_list(
                "amount", "pending_delta", "lifetime_delta"
            )
            sums = (
                sum(a - p for a, p, _ in entries),
                sum(p for _, p, _ in entries),
                sum(lt for _, _, lt in entries),
            )
            account = self.model.accounts[index]
            assert cached == sums, f"member {index}: cached {cached} != ledger {sums}"
            assert cached == (account.spendable, account.pending, account.lifetime)
            assert min(cached) >= 0
        assert await find_mismatches() == []

    async def check_board(self) -> None:
        """The leaderboard shows each member's lifetime points; members at 0 are not on it."""
        assert self.svc.boards is not None
        page = await self.svc.boards.page(first=10, offset=0)
        board = {row.member_id: row.score for row in page.rows}
        expected = {
            member_id: account.lifetime
            for member_id, account in zip(self.ids, self.model.accounts, strict=True)
            if account.lifetime > 0
        }
        assert board == expected
        assert page.total_members == len(expected)


async def _fresh_start(svc: Services, redis: Redis, clock: Clock) -> list[int]:
    await truncate_all_models()
    snapshots.changed()  # the configuration rows went with the tables
    await redis.flushdb()
    await actions.adopt_boards(svc)
    clock.now = datetime.now(UTC)
    ids: list[int] = []
    for i in range(MEMBERS):
        row = await actions.upsert_member(
            svc, SHOP, external_id=f"member-{i}", display_name=f"Member {i}"
        )
        ids.append(row.id)
    return ids


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(_op, max_size=40))
async def test_any_sequence_of_operations_keeps_balances_equal_to_the_ledger(
    svc: Services, redis: Redis, clock: Clock, ops: list[Op]
) -> None:
    run = Run(svc, clock, await _fresh_start(svc, redis, clock))
    for op in ops:
        await run.step(op)
        await run.check()
    await run.check_board()


async def test_concurrent_releases_make_each_pending_credit_spendable_once(
    svc: Services, clock: Clock
) -> None:
    buyer = await actions.upsert_member(svc, SHOP, external_id="buyer", display_name="Bo")
    for order, cents in [("o-1", 1_234), ("o-2", 5_678), ("o-3", 999)]:
        await actions.record_purchase(
            svc,
            SHOP,
            idempotency_key=order,
            member_external_id="buyer",
            order_id=order,
            amount_cents=cents,
        )
    clock.advance(days=10)
    late = await actions.record_purchase(
        svc,
        SHOP,
        idempotency_key="o-4",
        member_external_id="buyer",
        order_id="o-4",
        amount_cents=4_000,
    )
    clock.advance(days=4, seconds=1)  # the first three are due, the last is not
    now = clock()

    results = await asyncio.gather(
        *(release_due(buyer.id, now) for _ in range(10)),
        actions.release_pending(svc),
        return_exceptions=True,
    )
    failed = [r for r in results if isinstance(r, BaseException)]
    assert failed == [], f"{len(failed)} of 11 concurrent releases raised: {failed[0]!r}"
    *by_request, (_, by_job) = cast(list[Any], results)
    assert sum(by_request) + by_job == 12 + 56 + 9  # nothing released twice or lost

    await buyer.refresh_from_db()
    assert (buyer.points_balance, buyer.pending_points, buyer.lifetime_points) == (77, 40, 117)
    assert buyer.next_release_at == late.activity.occurred_at + timedelta(days=PENDING_DAYS)
    earned = await LedgerEntry.filter(kind=EntryKind.EARN).order_by("id")
    released = await LedgerEntry.filter(kind=EntryKind.RELEASE).values_list(
        "source_entry_id", flat=True
    )
    assert sorted(released) == [e.id for e in earned[:3]]  # one release per due credit
    assert await find_mismatches() == []
    statuses = await Activity.all().order_by("id").values_list("status", "points")
    assert statuses == [
        (ActivityStatus.APPROVED, 12),
        (ActivityStatus.APPROVED, 56),
        (ActivityStatus.APPROVED, 9),
        (ActivityStatus.PENDING, 0),
    ]


async def test_a_retried_purchase_without_occurred_at_is_a_duplicate(
    svc: Services, clock: Clock
) -> None:
    """A shop retries a timed-out recordPurchase with the very same input a moment later."""
    await actions.upsert_member(svc, SHOP, external_id="buyer", display_name="Bo")
    first = await actions.record_purchase(
        svc,
        SHOP,
        idempotency_key="k-1",
        member_external_id="buyer",
        order_id="o-1",
        amount_cents=2_500,
    )
    clock.advance(seconds=3)
    again = await actions.record_purchase(
        svc,
        SHOP,
        idempotency_key="k-1",
        member_external_id="buyer",
        order_id="o-1",
        amount_cents=2_500,
    )
    assert again.duplicate is True
    assert again.activity.id == first.activity.id
    assert await LedgerEntry.all().count() == 1
