"""simulateProgram with the current rules gives the ledger's figures on random histories.

Each history (seeded, so a failure replays) runs through the public API from January
to July 2026: members sign up (two in March, referred by one of the first); they order
(with products), review those products (approved, rejected), share pages, get adjusted
and redeem a prize; orders are refunded in part or whole; a daily job releases due
points and expires old ones (points expire after 60 days here, so expiry happens inside
the range). Badges and tiers are the defaults. The backtest of March to June must equal
programMetrics of the same range.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from badges import ensure_badges
from server import actions
from server.actions import Services
from server.rewards.members import Member
from tests.conftest import Clock, GraphQL, member_token
from tests.helpers import ADJUST, PURCHASE, UPSERT
from tests.server.test_backtest import METRICS, _as_metrics, _simulate
from tests.server.test_reviews import MODERATE, REFUND, REVIEW, SHARE, decide, review_input

START = datetime(2026, 1, 1, tzinfo=UTC)
FROM, TO = "2026-03-01T00:00:00+00:00", "2026-06-01T00:00:00+00:00"
PEOPLE = ("ana", "ben", "cy", "dee", "eve")
FRIENDS = ("fay", "gus")
FRIENDS_JOIN = datetime(2026, 3, 5, tzinfo=UTC)


@dataclasses.dataclass
class _World:
    gql: GraphQL
    keys: dict[str, str]
    svc: Services
    rng: random.Random
    orders: list[tuple[str, str, int]] = dataclasses.field(default_factory=list)  # who, id, cents
    refunded: dict[str, int] = dataclasses.field(default_factory=dict)
    bought: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    reviewed: set[tuple[str, str]] = dataclasses.field(default_factory=set)
    ids: dict[str, str] = dataclasses.field(default_factory=dict)
    n: int = 0

    def key(self) -> str:
        self.n += 1
        return f"k{self.n}"


async def _order(w: _World, who: str) -> None:
    key, cents = w.key(), w.rng.choice((1_999, 5_000, 12_000, 45_000))
    products = [f"p{w.rng.randint(1, 6)}"]
    given = {
        "idempotencyKey": key,
        "memberExternalId": who,
        "orderId": key,
        "amountCents": cents,
        "productIds": products,
    }
    done = await w.gql(PURCHASE, {"input": given}, auth=w.keys["SERVICE"])
    assert done["recordPurchase"]["__typename"] == "ActivityRecorded", done
    w.orders.append((who, key, cents))
    w.bought.setdefault(who, []).extend(products)


async def _review(w: _World, who: str) -> None:
    left = [p for p in w.bought.get(who, []) if (who, p) not in w.reviewed]
    if not left:
        return
    product = w.rng.choice(left)
    w.reviewed.add((who, product))
    done = await w.gql(REVIEW, review_input(w.key(), product), auth=await member_token(who))
    if done["submitReview"]["__typename"] != "ActivityRecorded":
        return  # a daily cap: refused, nothing recorded
    verdict = w.rng.choice(("APPROVE", "APPROVE", "REJECT"))
    aid = done["submitReview"]["activity"]["id"]
    await w.gql(MODERATE, decide(aid, verdict, "Not about the product"), auth=w.keys["MODERATOR"])


async def _share(w: _World, who: str) -> None:
    given = {"idempotencyKey": w.key(), "platform": "facebook", "url": f"/p/{w.key()}"}
    await w.gql(SHARE, {"input": given}, auth=await member_token(who))


async def _refund(w: _World) -> None:
    if not w.orders:
        return
    _, order_id, cents = w.rng.choice(w.orders)
    left = cents - w.refunded.get(order_id, 0)
    if left <= 0:
        return
    amount = left if w.rng.random() < 0.5 else max(1, left // 3)
    given = {"idempotencyKey": w.key(), "orderId": order_id, "amountCents": amount}
    done = await w.gql(REFUND, {"input": given}, auth=w.keys["SERVICE"])
    assert done["refundPurchase"]["__typename"] == "ActivityRecorded", done
    w.refunded[order_id] = w.refunded.get(order_id, 0) + amount


async def _adjust(w: _World, who: str) -> None:
    credit = {
        "idempotencyKey": w.key(),
        "memberId": w.ids[who],
        "amount": w.rng.choice((30, 75, -10)),
        "reason": "Goodwill",
    }
    await w.gql(ADJUST, {"input": credit}, auth=w.keys["ADMIN"])  # a debit may be refused


async def _redeem(w: _World, who: str, prize: str) -> None:
    await w.gql(
        "mutation($k: String!, $p: ID!) { redeemPrize(input: {idempotencyKey: $k, "
        "prizeId: $p}) { __typename } }",
        {"k": w.key(), "p": prize},
        auth=await member_token(who),
    )  # without the points: refused, nothing recorded


async def _join(w: _World, who: str, referral_code: str | None = None) -> None:
    given = {"externalId": who, "displayName": who, "referralCode": referral_code}
    made = await w.gql(UPSERT, {"input": given}, auth=w.keys["SERVICE"])
    assert made["upsertMember"]["__typename"] == "MemberSaved", made
    w.ids[who] = made["upsertMember"]["member"]["id"]
    await Member.filter(external_id=who).update(created_at=w.svc.clock())


async def _history(w: _World, clock: Clock) -> None:
    await ensure_badges()
    assert (await w.gql("{ tiers { name } }"))["tiers"]
    for who in PEOPLE:
        await _join(w, who)
    prize = await w.gql(
        'mutation { createPrize(input: {name: "Mug", cost: 40}) '
        "{ ... on PrizeSaved { prize { id } } } }",
        auth=w.keys["ADMIN"],
    )
    prize_id = prize["createPrize"]["prize"]["id"]
    people = list(PEOPLE)
    day = START
    while day < datetime(2026, 7, 1, tzinfo=UTC):
        if day == FRIENDS_JOIN:  # two friends of ana's: her referrals, paid in the range
            clock.now = day
            viewer = await w.gql("{ viewer { referralCode } }", auth=await member_token("ana"))
            for friend in FRIENDS:
                await _join(w, friend, viewer["viewer"]["referralCode"])
                people.append(friend)
                clock.now = day + timedelta(hours=1)
                await _order(w, friend)
        for _ in range(w.rng.randint(0, 3)):
            clock.now = day + timedelta(minutes=w.rng.randint(60, 1_300))
            who = w.rng.choice(people)
            act = w.rng.choices(
                ("order", "review", "share", "refund", "adjust", "redeem"), (5, 3, 3, 1, 1, 1)
            )[0]
            if act == "order":
                await _order(w, who)
            elif act == "review":
                await _review(w, who)
            elif act == "share":
                await _share(w, who)
            elif act == "refund":
                await _refund(w)
            elif act == "adjust":
                await _adjust(w, who)
            else:
                await _redeem(w, who, prize_id)
        clock.now = day + timedelta(hours=23, minutes=59)
        await actions.release_pending(w.svc)
        await actions.expire_points(w.svc)
        day += timedelta(days=1)
    clock.now = datetime(2026, 8, 1, tzinfo=UTC)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_the_current_rules_reproduce_a_random_ledger(
    svc: Services, gql: GraphQL, keys: dict[str, str], clock: Clock, seed: int
) -> None:
    svc.points_expire_days = 60  # the API's services: recording and the jobs alike
    clock.now = START
    await _history(_World(gql, keys, svc, random.Random(seed)), clock)
    real = (await gql(METRICS, {"from": FROM, "to": TO}, auth=keys["ADMIN"]))["programMetrics"]
    kinds = {k["kind"] for k in real["byKind"]}
    assert {"PURCHASE", "REVIEW", "BONUS", "REFERRAL"} <= kinds, kinds
    assert real["pointsExpired"] > 0  # the history has expiry
    assert real["pointsReversed"] > 0  # and reversals
    assert sum(t["members"] for t in real["tierDistribution"][1:]) > 0  # someone above Bronze
    found: dict[str, Any] = await _simulate(gql, keys, {}, FROM, TO)
    assert _as_metrics(found["current"]) == real
    assert found["draft"] == found["current"]
    # The same expiry drafted as it stands changes nothing either.
    same = await _simulate(gql, keys, {"pointsExpireDays": 60}, FROM, TO)
    assert same["draft"] == found["current"]
