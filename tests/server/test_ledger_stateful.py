"""The ledger as a state machine: earning, refunds, spending and expiry in any order.

Hypothesis drives the real use cases (purchases, partial and full refunds, shares,
reviews and their moderation, admin credits and debits, the release and expiry jobs,
account reads, retries with an earlier key) for two members while the clock jumps from
an hour to 400 days. After every step it checks, per member, that the cached balances
equal the sums of the ledger and are never negative (and ``find_mismatches()`` agrees),
that pending points are what is left of the open pending credits, that the FIFO lots
add up to the balance, that no idempotency key is in the ledger twice, that the board
shows lifetime points, and that everything agrees with a model of the rules:

* a purchase earns ``cents // 100``, pending until 14 days after ``occurredAt``; a
  share earns 5 at once; a review 20 (40 with a photo) once a moderator approves;
* spendable points expire 365 days after they became spendable (released ones: after
  their return window ended); spending, reversals and debt settlements take the oldest
  points first, and points past their expiry pay for nothing: they wait for their
  EXPIRE entry, as ``adjust_points`` says ("a debit never spends points already
  expired");
* a refund takes back points in proportion, pending first, then spendable; what the
  balance cannot cover becomes debt, paid from points as they become spendable;
* a retry with the same key and input moves nothing and returns the first outcome.

The rules of a ``RuleBasedStateMachine`` are synchronous, so the tests are plain
functions: they get the session event loop (the one the ORM and the Redis client are
bound to) from an async fixture and run each step's coroutine on it with
``run_until_complete``. Every run starts from empty tables at a fixed moment. Each step
costs about 15 ms on SQLite (the invariant alone about 5), so 500 runs of up to 10 steps
take about 75 s; PostgreSQL pays a round trip per query and does fewer runs.

The last tests replay, step by step, failures the machine found, shrunk by hand.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings, target
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from redis.asyncio import Redis
from tortoise.contrib.test import truncate_all_models

from server import actions
from server.actions import Decision, Services
from server.auth import Principal, Role
from server.rewards import snapshots
from server.rewards.consistency import find_mismatches
from server.rewards.errors import (
    Conflict,
    InsufficientPoints,
    Invalid,
    LimitReached,
    NotFound,
    RewardsError,
)
from server.rewards.expiry import open_lots
from server.rewards.ledger import LedgerEntry
from server.rewards.members import Member
from server.rewards.pending import remaining_pending
from tests.conftest import Clock, on_postgres

SHOP = Principal(role=Role.SERVICE, name="shop backend")
ADMIN = Principal(role=Role.ADMIN, name="support desk")
MODERATOR = Principal(role=Role.MODERATOR, name="moderator")
MEMBERS = 2
START = datetime(2030, 1, 31, 20, 0, tzinfo=UTC)  # near a day's and a month's end
WINDOW = timedelta(days=14)  # Services.purchase_pending_days
KEEP = timedelta(days=365)  # Services.points_expire_days
PRODUCTS = ("p1", "p2", "p3")
JOBS = ("release-pending", "expire-points")
SHARE_POINTS, SHARES_A_DAY = 5, 3
REVIEW_POINTS, REVIEWS_A_DAY = {False: 20, True: 40}, 5
MINUTE, HOUR, DAY = 1, 60, 24 * 60

# 500 runs on the embedded back end (about 75 s); PostgreSQL pays a round trip per query,
# so 300 runs there take about as long.
# Enough to find the bugs it found so far within `make test`'s time; LEDGER_EXAMPLES=2000
# for a deeper run.
EXAMPLES = int(os.environ.get("LEDGER_EXAMPLES", 120 if on_postgres() else 200))
STEPS = 10

T = TypeVar("T")


# The requests as sent; a retry sends one of them again.


@dataclass(frozen=True)
class PurchaseRequest:
    key: str
    member: int
    order: str
    cents: int
    occurred_at: datetime | None
    products: tuple[str, ...] | None


@dataclass(frozen=True)
class RefundRequest:
    key: str
    order: str
    cents: int


@dataclass(frozen=True)
class ShareRequest:
    key: str
    member: int
    platform: str
    page: int
    www: bool
    utm: bool

    @property
    def url(self) -> str:
        host = "www.shop.example" if self.www else "shop.example"
        return f"https://{host}/p/{self.page}" + ("?utm_source=mail" if self.utm else "")

    @property
    def same_as(self) -> tuple[int, str, int]:
        """What the server compares: the platform and URL in canonical form."""
        return self.member, "x" if self.platform == "twitter" else self.platform, self.page


@dataclass(frozen=True)
class ReviewRequest:
    key: str
    member: int
    product: str
    rating: int
    photo: bool

    @property
    def text(self) -> str:
        return f"Rated {self.rating} of 5: sturdy and as described."


@dataclass(frozen=True)
class AdjustRequest:
    key: str
    member: int
    amount: int


Request = PurchaseRequest | RefundRequest | ShareRequest | ReviewRequest | AdjustRequest


# The model.


@dataclass
class Lot:
    expires_at: datetime
    points: int


@dataclass
class PendingCredit:
    points: int  # still pending
    available_at: datetime | None  # None: until a moderator approves


@dataclass
class Account:
    lots: list[Lot] = field(default_factory=list)  # oldest first
    credits: list[PendingCredit] = field(default_factory=list)
    lifetime: int = 0
    debt: int = 0
    shares: list[tuple[int, datetime]] = field(default_factory=list)  # (page, when)

    @property
    def balance(self) -> int:
        return sum(lot.points for lot in self.lots)

    @property
    def pending(self) -> int:
        return sum(credit.points for credit in self.credits)

    def spendable(self, points: int, now: datetime, expires_at: datetime) -> None:
        """Points become spendable; unless already expired, they first pay off debt."""
        self.lots.append(Lot(expires_at, points))
        paid = min(self.debt, points if expires_at > now else 0)
        self.take(paid, now)
        self.debt -= paid

    def take_back(self, points: int, lifetime: int, now: datetime) -> None:
        """A reversal, once expiry has run: from the balance, and what it cannot cover
        becomes debt; lifetime loses ``lifetime`` but never goes below zero."""
        from_balance = min(points, self.balance)
        self.take(from_balance, now)
        self.debt += points - from_balance
        self.lifetime -= min(lifetime, self.lifetime)

    def take(self, points: int, now: datetime) -> None:
        """Spend the oldest points that have not expired."""
        for lot in self.lots:
            if points == 0:
                break
            if lot.expires_at > now:
                taken = min(lot.points, points)
                lot.points -= taken
                points -= taken
        assert points == 0, "model: took more than the live lots hold"

    def expire(self, now: datetime) -> int:
        gone = sum(lot.points for lot in self.lots if lot.expires_at <= now)
        self.lots = [lot for lot in self.lots if lot.expires_at > now]
        return gone

    def release_due(self, now: datetime) -> int:
        released = 0
        for credit in self.credits:
            if credit.points and credit.available_at is not None and credit.available_at <= now:
                points, credit.points = credit.points, 0
                released += points
                # Points last from when they were due, however late the release runs.
                self.spendable(points, now, credit.available_at + KEEP)
        return released

    def lots_by_expiry(self) -> dict[datetime, int]:
        """The open lots by expiry (lots made spendable at one moment are one)."""
        merged: Counter[datetime] = Counter()
        for lot in self.lots:
            merged[lot.expires_at] += lot.points
        return {at: points for at, points in merged.items() if points}


@dataclass
class Order:
    request: PurchaseRequest
    points: int
    credit: PendingCredit | None  # when it started pending
    refunded_cents: int = 0
    taken: int = 0

    @property
    def fully_refunded(self) -> bool:
        return self.refunded_cents == self.request.cents


@dataclass
class Review:
    request: ReviewRequest
    activity_id: int
    points: int
    credit: PendingCredit
    at: datetime
    status: str = "PENDING"
    approved: int = 0


# Strategies.

_member = st.integers(0, MEMBERS - 1)
_cents = st.one_of(st.integers(1, 50_000), st.sampled_from([99, 100, 101, 2_500]))
_some_products = st.sets(st.sampled_from(PRODUCTS), min_size=1).map(lambda s: tuple(sorted(s)))
_products = st.one_of(_some_products, _some_products, st.none())
# How long ago the order was paid (None: occurredAt omitted, i.e. now).
_age = st.one_of(
    st.none(),
    st.sampled_from([0, HOUR, 14 * DAY - MINUTE, 14 * DAY, 15 * DAY, 30 * DAY, 400 * DAY]),
    st.integers(0, 60 * DAY),
)
_hours = st.one_of(
    st.sampled_from([1, 24, 13 * 24, 14 * 24, 15 * 24, 364 * 24, 365 * 24, 366 * 24, 400 * 24]),
    st.integers(1, 400 * 24),
)
# Of what is left to refund: 100 all of it, 101 one cent too many.
_refund_percent = st.one_of(st.integers(1, 99), st.just(100), st.just(100), st.just(101))
# An admin credit, a debit, a debit of the whole (unexpired) balance, or one point more.
_adjustment = st.sampled_from(["credit", "debit", "debit all", "debit too much"])


def _outcome(done: object) -> str:
    """An outcome as the model names it."""
    names = {
        Conflict: "conflict",
        Invalid: "invalid",
        LimitReached: "limit",
        InsufficientPoints: "insufficient",
        NotFound: "not found",
    }
    if isinstance(done, RewardsError):
        return names.get(type(done), type(done).__name__)
    return "duplicate" if getattr(done, "duplicate", False) else "ok"


async def _attempt(call: Coroutine[Any, Any, T]) -> T | RewardsError:
    try:
        return await call
    except RewardsError as refused:
        return refused


@dataclass
class Env:
    loop: asyncio.AbstractEventLoop
    svc: Services
    redis: Redis
    clock: Clock


class LedgerMachine(RuleBasedStateMachine):
    purchases = Bundle("purchases")  # recorded purchases, to refund
    reviews = Bundle("reviews")  # accepted reviews, to moderate
    sent = Bundle("sent")  # every keyed request, to retry

    def __init__(self, env: Env) -> None:
        super().__init__()
        self.env = env
        self.svc = env.svc
        self.clock = env.clock
        self.accounts = [Account() for _ in range(MEMBERS)]
        self.by_key: dict[str, tuple[Request, object]] = {}  # accepted, by scoped key
        self.orders: dict[str, Order] = {}
        self.reviews_of: list[list[Review]] = [[] for _ in range(MEMBERS)]
        self.counter = 0
        self.most_owed = 0
        self.ids = self._run(self._fresh_start())

    # Plumbing.

    def _run(self, call: Coroutine[Any, Any, T]) -> T:
        return self.env.loop.run_until_complete(call)

    def _next(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"

    def _now(self) -> datetime:
        return self.clock()

    async def _fresh_start(self) -> list[int]:
        await truncate_all_models()
        snapshots.changed()  # the configuration rows went with the tables
        await self.env.redis.flushdb()
        await actions.adopt_boards(self.svc)
        self.clock.now = START
        ids = []
        for i in range(MEMBERS):
            row = await actions.upsert_member(
                self.svc, SHOP, external_id=f"member-{i}", display_name=f"Member {i}"
            )
            ids.append(row.id)
        return ids

    def _stored(self, scope: str, request: Request) -> tuple[Request, object] | None:
        return self.by_key.get(f"{scope}:{request.key}")

    def _check(self, request: Request, expected: str, done: object, label: str = "") -> None:
        assert _outcome(done) == expected, f"{request}{label}: expected {expected}, got {done!r}"

    async def _entries(self) -> int:
        return await LedgerEntry.all().count()

    async def _moves_nothing(self, call: Coroutine[Any, Any, T]) -> T | RewardsError:
        """Run a call the model expects to be a duplicate or refused before any write."""
        before = await self._entries()
        done = await _attempt(call)
        assert await self._entries() == before, f"{done!r} wrote to the ledger"
        return done

    # Purchases and refunds.

    @initialize(
        targets=(purchases, sent),
        member=_member,
        cents=_cents,
        age=st.one_of(st.just(30 * DAY), _age),
        products=_products,
    )
    def first_purchase(
        self, member: int, cents: int, age: int | None, products: tuple[str, ...] | None
    ) -> object:
        """Every run starts with an order, so refunds and reviews have something to act on."""
        return self.purchase(member, cents, age, products)

    @rule(targets=(purchases, sent), member=_member, cents=_cents, age=_age, products=_products)
    def purchase(
        self, member: int, cents: int, age: int | None, products: tuple[str, ...] | None
    ) -> object:
        occurred = None if age is None else self._now() - timedelta(minutes=age)
        request = PurchaseRequest(
            self._next("k"), member, self._next("order"), cents, occurred, products
        )
        recorded = self._run(self._purchase(request))
        return request if recorded else multiple()

    async def _purchase(self, request: PurchaseRequest) -> bool:
        now = self._now()
        stored = self._stored("purchase", request)
        if stored is not None:
            expected = "duplicate" if _same_purchase(stored[0], request) else "conflict"
        elif request.order in self.orders:
            expected = "conflict"
        else:
            expected = "ok"
        call = actions.record_purchase(
            self.svc,
            SHOP,
            idempotency_key=request.key,
            member_external_id=f"member-{request.member}",
            order_id=request.order,
            amount_cents=request.cents,
            occurred_at=request.occurred_at,
            product_ids=list(request.products) if request.products is not None else None,
        )
        done = await (self._moves_nothing(call) if expected != "ok" else _attempt(call))
        self._check(request, expected, done)
        if expected == "duplicate":
            assert isinstance(done, actions.Recorded)
            assert done.points_awarded == self.orders[request.order].points
        if expected != "ok":
            return False
        assert isinstance(done, actions.Recorded)
        points = request.cents // 100
        assert done.points_awarded == points
        account = self.accounts[request.member]
        account.lifetime += points
        available_at = (request.occurred_at or now) + WINDOW
        credit = None
        if points and available_at > now:
            credit = PendingCredit(points, available_at)
            account.credits.append(credit)
        elif points:
            account.spendable(points, now, now + KEEP)
        self.orders[request.order] = Order(request, points, credit)
        self.by_key[f"purchase:{request.key}"] = (request, done)
        return True

    @rule(target=sent, purchase=purchases, percent=_refund_percent)
    def refund(self, purchase: PurchaseRequest, percent: int) -> RefundRequest:
        order = self.orders[purchase.order]
        left = order.request.cents - order.refunded_cents
        cents = max(1, left * percent // 100)
        request = RefundRequest(self._next("k"), purchase.order, cents)
        self._run(self._refund(request))
        return request

    async def _refund(self, request: RefundRequest) -> None:
        now = self._now()
        order = self.orders[request.order]
        account = self.accounts[order.request.member]
        stored = self._stored("refund", request)
        if stored is not None:
            expected = "duplicate" if stored[0] == request else "conflict"
            done = await self._moves_nothing(
                actions.refund_purchase(
                    self.svc,
                    SHOP,
                    idempotency_key=request.key,
                    order_id=request.order,
                    amount_cents=request.cents,
                )
            )
            self._check(request, expected, done)
            if isinstance(done, actions.Recorded):
                assert done.points_awarded == stored[1]
            return
        account.expire(now)  # a refund expires what is due before it takes anything
        refunded = order.refunded_cents + request.cents
        if refunded > order.request.cents:
            expected, take = "invalid", 0
        else:
            expected = "ok"
            take = order.points * refunded // order.request.cents - order.taken
            if refunded == order.request.cents:
                take = order.points - order.taken
        done = await _attempt(
            actions.refund_purchase(
                self.svc,
                SHOP,
                idempotency_key=request.key,
                order_id=request.order,
                amount_cents=request.cents,
            )
        )
        self._check(request, expected, done)
        if expected != "ok":
            return
        assert isinstance(done, actions.Recorded)
        assert done.points_awarded == -take
        from_pending = min(take, order.credit.points if order.credit else 0)
        if order.credit is not None:
            order.credit.points -= from_pending
        account.take_back(take - from_pending, take, now)
        order.refunded_cents = refunded
        order.taken += take
        self.by_key[f"refund:{request.key}"] = (request, -take)

    # Shares, reviews and moderation.

    @rule(
        target=sent,
        member=_member,
        platform=st.sampled_from(["facebook", "x", "twitter", "email"]),
        page=st.integers(1, 4),
        www=st.booleans(),
        utm=st.booleans(),
    )
    def share(self, member: int, platform: str, page: int, www: bool, utm: bool) -> ShareRequest:
        request = ShareRequest(self._next("k"), member, platform, page, www, utm)
        self._run(self._share(request))
        return request

    async def _share(self, request: ShareRequest) -> None:
        now = self._now()
        account = self.accounts[request.member]
        today = datetime(now.year, now.month, now.day, tzinfo=UTC)
        stored = self._stored("share", request)
        if stored is not None:
            assert isinstance(stored[0], ShareRequest)
            expected = "duplicate" if stored[0].same_as == request.same_as else "conflict"
        elif any(page == request.page for page, _ in account.shares):
            expected = "conflict"  # one share per page
        elif sum(1 for _, at in account.shares if at >= today) >= SHARES_A_DAY:
            expected = "limit"
        else:
            expected = "ok"
        call = actions.record_share(
            self.svc,
            SHOP,
            idempotency_key=request.key,
            platform=request.platform,
            url=request.url,
            member_external_id=f"member-{request.member}",
        )
        done = await (self._moves_nothing(call) if expected != "ok" else _attempt(call))
        self._check(request, expected, done)
        if expected in ("ok", "duplicate"):
            assert isinstance(done, actions.Recorded)
            assert done.points_awarded == SHARE_POINTS
        if expected == "ok":
            account.shares.append((request.page, now))
            account.lifetime += SHARE_POINTS
            account.spendable(SHARE_POINTS, now, now + KEEP)
            self.by_key[f"share:{request.key}"] = (request, done)

    @rule(
        targets=(reviews, sent),
        purchase=purchases,
        pick=st.integers(0, len(PRODUCTS) - 1),
        rating=st.integers(1, 5),
        photo=st.booleans(),
    )
    def review(self, purchase: PurchaseRequest, pick: int, rating: int, photo: bool) -> object:
        """The buyer of an order reviews one of its products (or, without any, another)."""
        products = purchase.products or PRODUCTS
        product = products[pick % len(products)]
        request = ReviewRequest(self._next("k"), purchase.member, product, rating, photo)
        accepted = self._run(self._review(request))
        return request if accepted else multiple()

    def _bought(self, member: int, product: str) -> bool:
        return any(
            order.request.member == member
            and product in (order.request.products or ())
            and not order.fully_refunded
            for order in self.orders.values()
        )

    async def _review(self, request: ReviewRequest) -> bool:
        now = self._now()
        account = self.accounts[request.member]
        today = datetime(now.year, now.month, now.day, tzinfo=UTC)
        mine = [r for r in self.reviews_of[request.member] if r.status != "REJECTED"]
        stored = self._stored("review", request)
        if stored is not None and stored[0] == request:
            expected = "duplicate"  # the first outcome, whatever happened since
        elif stored is not None:
            expected = "conflict"  # the key is checked before the purchase is
        elif not self._bought(request.member, request.product):
            expected = "invalid"  # only a verified buyer may review
        elif any(r.request.product == request.product for r in mine):
            expected = "conflict"  # one review per product
        elif sum(1 for r in mine if r.at >= today) >= REVIEWS_A_DAY:
            expected = "limit"
        else:
            expected = "ok"
        call = actions.submit_review(
            self.svc,
            SHOP,
            idempotency_key=request.key,
            product_id=request.product,
            rating=request.rating,
            text=request.text,
            has_photo=request.photo,
            member_external_id=f"member-{request.member}",
        )
        done = await (self._moves_nothing(call) if expected != "ok" else _attempt(call))
        self._check(request, expected, done)
        if expected != "ok":
            return False
        assert isinstance(done, actions.Recorded)
        points = REVIEW_POINTS[request.photo]
        assert done.points_awarded == points
        credit = PendingCredit(points, None)
        account.credits.append(credit)
        found = Review(request, done.activity.id, points, credit, now)
        self.reviews_of[request.member].append(found)
        self.by_key[f"review:{request.key}"] = (request, found)
        return True

    @rule(review=reviews, decision=st.sampled_from(Decision))
    def moderate(self, review: ReviewRequest, decision: Decision) -> None:
        self._run(self._moderate(review, decision))

    async def _moderate(self, request: ReviewRequest, decision: Decision) -> None:
        now = self._now()
        stored = self._stored("review", request)
        assert stored is not None
        review = stored[1]
        assert isinstance(review, Review)
        account = self.accounts[request.member]
        transitions = {
            ("PENDING", Decision.APPROVE): "ok",
            ("PENDING", Decision.REJECT): "ok",
            ("APPROVED", Decision.APPROVE): "duplicate",
            ("APPROVED", Decision.REVERSE): "ok",
            ("REJECTED", Decision.REJECT): "duplicate",
            ("REVERSED", Decision.REVERSE): "duplicate",
        }
        expected = transitions.get((review.status, decision), "conflict")
        call = actions.moderate_activity(
            self.svc,
            MODERATOR,
            activity_id=str(review.activity_id),
            decision=decision,
            reason="checked",
        )
        if expected != "ok":
            done = await self._moves_nothing(call)
            self._check(request, expected, done, f" {decision.value}")
            return
        if decision is Decision.REVERSE:
            account.expire(now)  # a reversal expires what is due before it takes anything
        done = await _attempt(call)
        self._check(request, "ok", done, f" {decision.value}")
        assert isinstance(done, actions.Recorded)
        if decision is Decision.APPROVE:
            points, review.credit.points = review.credit.points, 0
            account.lifetime += points
            account.spendable(points, now, now + KEEP)
            review.status, review.approved = "APPROVED", points
            assert done.points_awarded == points
        elif decision is Decision.REJECT:
            review.credit.points = 0
            review.status = "REJECTED"
            assert done.points_awarded == 0
        else:
            taken = review.approved
            account.take_back(taken, taken, now)
            review.status, review.approved = "REVERSED", 0
            assert done.points_awarded == -taken

    # Admin credits and debits.

    @rule(target=sent, member=_member, how=_adjustment, points=st.integers(1, 300))
    def adjust(self, member: int, how: str, points: int) -> AdjustRequest:
        live = sum(lot.points for lot in self.accounts[member].lots if lot.expires_at > self._now())
        amount = {
            "credit": points,
            "debit": -points,
            "debit all": -max(live, 1),
            "debit too much": -live - 1,
        }[how]
        request = AdjustRequest(self._next("k"), member, amount)
        self._run(self._adjust(request))
        return request

    async def _adjust(self, request: AdjustRequest) -> None:
        now = self._now()
        account = self.accounts[request.member]
        stored = self._stored("adjust", request)
        call = actions.adjust_points(
            self.svc,
            ADMIN,
            idempotency_key=request.key,
            member_id=str(self.ids[request.member]),
            amount=request.amount,
            reason="Goodwill correction",
        )
        if stored is not None:
            expected = "duplicate" if stored[0] == request else "conflict"
            done = await self._moves_nothing(call)
            self._check(request, expected, done)
            return
        if request.amount < 0:
            account.expire(now)  # a debit never spends points already expired
        debit = -request.amount
        expected = "insufficient" if debit > account.balance else "ok"
        done = await _attempt(call)
        self._check(request, expected, done)
        if isinstance(done, InsufficientPoints):
            assert (done.balance, done.required) == (account.balance, debit)
            return
        assert isinstance(done, actions.Adjusted)
        if request.amount > 0:
            account.spendable(request.amount, now, now + KEEP)
        else:
            account.take(debit, now)
        account.lifetime += request.amount
        assert done.member.points_balance == account.balance
        self.by_key[f"adjust:{request.key}"] = (request, done)

    # Retries.

    @rule(request=sent, change=st.sampled_from([0, 0, 1, 2, 3]))
    def again(self, request: Request, change: int) -> None:
        """An earlier request again: the very same (``change`` 0, e.g. a retry after a
        timeout) or with its key and other input (a conflict if the key was taken);
        with ``change`` 3 a purchase is reported again under a new key (a conflict)."""
        changed: Request
        match request:
            case _ if change == 0:
                changed = request
            case PurchaseRequest() if change == 3:
                changed = replace(request, key=self._next("k"), occurred_at=None)
            case PurchaseRequest() | RefundRequest():
                changed = replace(request, cents=request.cents + change)
            case ShareRequest():
                changed = replace(request, page=request.page % 4 + change, www=False, utm=False)
            case ReviewRequest():
                changed = replace(request, rating=(request.rating + change - 1) % 5 + 1)
            case AdjustRequest():
                changed = replace(request, amount=request.amount + change or change + 1)
        self._run(self._send(changed))

    async def _send(self, request: Request) -> None:
        match request:
            case RefundRequest():
                await self._refund(request)
            case ShareRequest():
                await self._share(request)
            case AdjustRequest():
                await self._adjust(request)
            case PurchaseRequest():
                await self._purchase(request)
            case ReviewRequest():
                await self._review(request)

    # Time, the jobs and reads.

    @rule(hours=_hours)
    def advance(self, hours: int) -> None:
        self.clock.advance(hours=hours)

    @rule(way=st.sampled_from([*(f"member {i} reads" for i in range(MEMBERS)), *JOBS]))
    def catch_up(self, way: str) -> None:
        """A shopper opens their account, which releases their due points and then
        expires theirs past due; or ``laurel release-pending`` / ``expire-points`` runs."""
        now = self._now()
        if way in JOBS:
            job = actions.release_pending if way == "release-pending" else actions.expire_points
            done = self._run(job(self.svc))
            moved = [
                account.release_due(now) if way == "release-pending" else account.expire(now)
                for account in self.accounts
            ]
            assert done == (sum(1 for p in moved if p), sum(moved)), f"{way}: {done}"
            return
        member = int(way.split()[1])
        shopper = Principal(role=Role.SHOPPER, member_id=self.ids[member], name=f"m{member}")
        seen = self._run(actions.viewer(self.svc, shopper))
        assert seen is not None
        account = self.accounts[member]
        account.release_due(now)
        account.expire(now)
        shown = (seen.points_balance, seen.pending_points, seen.lifetime_points, seen.debt_points)
        model = (account.balance, account.pending, account.lifetime, account.debt)
        assert shown == model, f"member {member} is shown {shown}, model {model}"

    # The invariants.

    @invariant()
    def ledger_agrees(self) -> None:
        self._run(self._ledger_agrees())
        self.most_owed = max(self.most_owed, sum(account.debt for account in self.accounts))

    def teardown(self) -> None:
        # Steer the search to runs with debt: refunds and reversals of spent or expired
        # points, settled later from points made spendable.
        target(float(self.most_owed), label="points owed")

    async def _ledger_agrees(self) -> None:
        # Independent reads, sent together (on PostgreSQL over several connections).
        assert self.svc.boards is not None
        entries, rows, mismatches, board, *lots_of = await asyncio.gather(
            LedgerEntry.all().values_list(
                "member_id", "id", "amount", "pending_delta", "lifetime_delta", "debt_delta",
                "idempotency_key",
            ),
            Member.filter(id__in=self.ids).values_list(
                "id", "points_balance", "pending_points", "lifetime_points", "debt_points"
            ),
            find_mismatches(),
            self.svc.boards.page(first=10, offset=0),
            *(open_lots(member_id) for member_id in self.ids),
        )  # fmt: skip
        assert mismatches == []
        keys = Counter(key for *_, key in entries)
        assert [k for k, n in keys.items() if n > 1] == [], "an idempotency key is used twice"
        credits = [(m, entry_id) for m, entry_id, _, pending, *_ in entries if pending > 0]
        remaining = await remaining_pending([entry_id for _, entry_id in credits])
        assert min(remaining.values(), default=0) >= 0, f"credits below zero: {remaining}"
        columns = {int(member_id): tuple(map(int, cached)) for member_id, *cached in rows}
        for index, (member_id, lots) in enumerate(zip(self.ids, lots_of, strict=True)):
            cached = columns[member_id]
            mine = [e for e in entries if e[0] == member_id]
            sums = (
                sum(amount - pending for _, _, amount, pending, *_ in mine),
                sum(pending for _, _, _, pending, *_ in mine),
                sum(lifetime for *_, lifetime, _, _ in mine),
                sum(debt for *_, debt, _ in mine),
            )
            assert cached == sums, f"member {index}: cached {cached} != ledger {sums}"
            assert min(cached) >= 0, f"member {index}: {cached}"
            still = sum(remaining[entry_id] for m, entry_id in credits if m == member_id)
            assert cached[1] == still, f"member {index}: pending credits hold {still}"
            assert cached[0] == sum(lot.points for lot in lots), f"member {index}: lots"
            by_expiry: Counter[datetime] = Counter()
            for lot in lots:
                assert lot.expires_at is not None
                by_expiry[lot.expires_at] += lot.points
            account = self.accounts[index]
            assert by_expiry == account.lots_by_expiry(), f"member {index}: FIFO lots"
            model = (account.balance, account.pending, account.lifetime, account.debt)
            assert cached == model, f"member {index}: cached {cached} != model {model}"
        # Lifetime points are the score; a member at 0 is not on the board.
        shown = {row.member_id: row.score for row in board.rows}
        assert shown == {m: c[2] for m, c in columns.items() if c[2] > 0}, f"board {shown}"
        assert board.total_members == len(shown)


def _same_purchase(first: Request, again: PurchaseRequest) -> bool:
    """What the server compares: occurredAt only when given, products as a set."""
    assert isinstance(first, PurchaseRequest)
    return (first.member, first.order, first.cents, first.occurred_at, first.products or ()) == (
        again.member,
        again.order,
        again.cents,
        again.occurred_at,
        again.products or (),
    )


@pytest.fixture
async def loop() -> asyncio.AbstractEventLoop:
    """The session event loop, which the ORM and the Redis client are bound to."""
    return asyncio.get_running_loop()


def test_any_sequence_of_earning_refunds_spending_and_expiry_keeps_the_ledger_right(
    loop: asyncio.AbstractEventLoop, svc: Services, redis: Redis, clock: Clock
) -> None:
    env = Env(loop, svc, redis, clock)
    run_state_machine_as_test(
        lambda: LedgerMachine(env),
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ),
    )


def test_points_that_expired_before_their_release_pay_no_debt(
    loop: asyncio.AbstractEventLoop, svc: Services, redis: Redis, clock: Clock
) -> None:
    """Debt is paid from points as they become spendable. These 50 became spendable when
    their return window ended and expired a year later, before the read that released
    them: they must expire, not pay 50 of the debt."""
    state = LedgerMachine(Env(loop, svc, redis, clock))
    older = state.first_purchase(member=0, cents=10_000, age=30 * DAY, products=None)
    state.ledger_agrees()
    state.adjust(member=0, how="debit all", points=1)  # spends the 100
    state.ledger_agrees()
    state.purchase(member=0, cents=5_000, age=None, products=None)  # 50 pending
    state.ledger_agrees()
    state.refund(purchase=older, percent=100)  # 100 owed
    state.ledger_agrees()
    state.advance(hours=400 * 24)
    state.ledger_agrees()
    state.catch_up(way="member 0 reads")
    state.ledger_agrees()


def test_a_retried_review_is_a_duplicate_after_its_order_was_refunded(
    loop: asyncio.AbstractEventLoop, svc: Services, redis: Redis, clock: Clock
) -> None:
    """The shop submits a review, times out, the order is refunded meanwhile, and the
    shop retries: it must get the review it created back, not "only a verified buyer"."""
    state = LedgerMachine(Env(loop, svc, redis, clock))
    order = state.first_purchase(member=0, cents=1, age=None, products=("p1",))
    state.ledger_agrees()
    review = state.review(purchase=order, pick=0, rating=3, photo=False)
    state.ledger_agrees()
    state.refund(purchase=order, percent=100)
    state.ledger_agrees()
    state.again(request=review, change=0)
    state.ledger_agrees()
