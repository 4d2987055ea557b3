"""The demo community that ``laurel seed-demo`` (and ``make run``) creates.

Deterministic: the same members, purchases and keys every time, so seeding
twice changes nothing (every call replays as a duplicate).
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass
from datetime import timedelta

from server.actions import (
    PrizeFields,
    Services,
    adjust_points,
    create_prize,
    record_purchase,
    record_share,
    redeem_prize,
    submit_review,
    upsert_member,
)
from server.actions.shop import shop_look, update_shop
from server.auth import Principal, Role
from server.rewards.activities import Activity, PurchasedProduct
from server.rewards.errors import RewardsError
from server.rewards.members import Member
from server.rewards.prizes import Prize, PrizeKind, Redemption
from server.rewards.tiers import Tier

__all__ = ["DemoSummary", "seed_demo"]

_FIRST = [
    "Ada",
    "Ben",
    "Cleo",
    "Dev",
    "Eli",
    "Fay",
    "Gus",
    "Hana",
    "Ivo",
    "Jun",
    "Kai",
    "Lea",
    "Milo",
    "Nia",
    "Oto",
    "Pia",
    "Quin",
    "Rui",
    "Sol",
    "Tea",
    "Uma",
    "Vik",
    "Wen",
    "Xia",
    "Yan",
    "Zoe",
    "Ari",
    "Bo",
    "Cy",
    "Dia",
]
_LAST = ["Moss", "Reed", "Vale", "Brook", "Stone", "Frost", "Lane", "Hart"]
_COMMUNITIES = ("runners", "climbers", "cyclists")
_AMOUNTS = (1999, 2500, 4000, 4999, 7500, 12000, 15999, 25000)
_PRODUCTS = ("trail-shoes", "rain-jacket", "water-bottle", "head-torch", "wool-socks", "day-pack")
_REVIEWS = (
    ("demo-002", "Light, grippy and dry after a whole day of drizzle. Would buy again.", 5, True),
    ("demo-003", "Good value, although the sizing runs a little small for me.", 4, False),
    ("demo-005", "Does the job. The lid could close a bit more firmly.", 3, False),
)
_MEMBERS = 50


@dataclass(frozen=True, slots=True)
class DemoSummary:
    members: int
    purchases_new: int
    purchases_seen: int


async def seed_demo(svc: Services) -> DemoSummary:
    """Create ~50 members with purchase histories that give the board ties and pages."""
    rng = random.Random(20261123)
    shop = Principal(role=Role.SERVICE, name="demo-seed")
    admin = Principal(role=Role.ADMIN, name="demo-seed")
    now = svc.clock()
    new = seen = 0
    histories: list[list[tuple[int, int]]] = []
    for n in range(_MEMBERS):
        if n % 10 == 9 and histories:
            history = list(histories[-1])  # an exact twin: a tie on the board
        else:
            history = [(rng.choice(_AMOUNTS), rng.randint(1, 60)) for _ in range(rng.randint(0, 6))]
            # A year of orders: every other one moved back up to 360 days (programMetrics
            # and the cohorts have a history to show; this month's boards still have theirs).
            history = [(c, d if i % 2 == 0 else d * 6) for i, (c, d) in enumerate(history)]
        histories.append(history)
        name = f"{_FIRST[n % len(_FIRST)]} {_LAST[(n * 3) % len(_LAST)]}"
        external_id = f"demo-{n + 1:03d}"
        await upsert_member(
            svc,
            shop,
            external_id=external_id,
            display_name=name,
            email=f"{external_id}@example.com",
            community=_COMMUNITIES[n % len(_COMMUNITIES)],
            # Joined before the first order (or in the past year, without orders).
            joined_at=(now - timedelta(days=max((d for _, d in history), default=n * 7) + 3)),
        )
        for i, (cents, days_ago) in enumerate(history):
            order_id = f"DEMO-{n + 1:03d}-{i + 1}"
            if await Activity.filter(dedupe_key=f"purchase:{order_id}").exists():
                seen += 1  # seeded on an earlier day: its dates differ, keep the first
                continue
            await record_purchase(
                svc,
                shop,
                idempotency_key=f"demo-purchase-{external_id}-{i}",
                member_external_id=external_id,
                order_id=order_id,
                amount_cents=cents,
                product_ids=[_PRODUCTS[(n + i) % len(_PRODUCTS)]],
                occurred_at=(now - timedelta(days=days_ago)).replace(
                    hour=12, minute=0, second=0, microsecond=0
                ),
            )
            new += 1
    welcome = (await Member.get(external_id="demo-001")).id
    await adjust_points(
        svc,
        admin,
        idempotency_key="demo-welcome-bonus",
        member_id=str(welcome),
        amount=50,
        reason="Welcome to the demo community",
    )
    await _community(svc, shop)
    await _prizes(admin)
    await _shop(svc, admin)
    await _redemptions(svc)
    return DemoSummary(members=_MEMBERS, purchases_new=new, purchases_seen=seen)


async def _community(svc: Services, shop: Principal) -> None:
    """A few reviews waiting in the moderation queue and some shares."""
    for external_id, text, rating, photo in _REVIEWS:
        author = await Member.get(external_id=external_id)
        bought = await PurchasedProduct.filter(member_id=author.id).first()
        if bought is None:
            continue
        with contextlib.suppress(RewardsError):  # e.g. already reviewed on an earlier day
            await submit_review(
                svc,
                shop,
                idempotency_key=f"demo-review-{external_id}",
                product_id=bought.product_id,
                rating=rating,
                text=text,
                has_photo=photo,
                member_external_id=external_id,
            )
    for n, page in enumerate(_PRODUCTS[:3]):
        with contextlib.suppress(RewardsError):
            await record_share(
                svc,
                shop,
                idempotency_key=f"demo-share-{n}",
                platform="facebook",
                url=f"https://shop.example.com/products/{page}",
                member_external_id=f"demo-{n + 1:03d}",
            )


_PRIZES = (
    ("10% off your next order", "A discount code for the shop.", 150, None, None),
    ("Canvas tote bag", "Our sturdy tote, shipped to you.", 400, 25, None),
    ("Gift card 25.00", "For members of the Gold tier and above.", 1_500, 10, "Gold"),
)


_FAQ = """Every order earns points: one point for each 1.00 you spend, spendable 14 days
after the order (our return window).

A review of something you bought earns 20 points, 40 with a photo, once a moderator has
read it. Sharing one of our pages earns a few points too.

Spend your points on prizes or as money off your next order. Points last a year."""


async def _shop(svc: Services, admin: Principal) -> None:
    """The shop's name, colours and rules text, unless the owner has set them already."""
    if (await shop_look(svc)).faq:
        return
    await update_shop(
        svc, admin, name="Bell & Birch", primary_color="#2f5d50", accent_color="#c9a227", faq=_FAQ
    )


async def _prizes(admin: Principal) -> None:
    """A small prize catalog (kept as it is when already there)."""
    for name, description, cost, stock, tier in _PRIZES:
        if await Prize.exists(name=name):
            continue
        needed = None if tier is None else await Tier.get_or_none(name=tier)
        await create_prize(
            admin,
            PrizeFields(
                name=name,
                description=description,
                cost=cost,
                stock=stock,
                min_tier_id=None if needed is None else str(needed.id),
                kind=PrizeKind.GIFT_CARD if tier else PrizeKind.DISCOUNT_CODE,
            ),
        )


async def _redemptions(svc: Services) -> None:
    """Some members spent points on the first prize, so that the owner's dashboard has
    redemptions to show (once: not again when the prize has any redemption)."""
    prize = await Prize.get(name=_PRIZES[0][0])
    if await Redemption.exists(prize_id=prize.id):
        return
    spenders = await Member.filter(points_balance__gte=prize.cost).order_by("external_id")
    for member in spenders[:8]:
        shopper = Principal(role=Role.SHOPPER, name=member.external_id, member_id=member.id)
        with contextlib.suppress(RewardsError):
            await redeem_prize(
                svc,
                shopper,
                idempotency_key=f"demo-redeem-{member.external_id}",
                prize_id=str(prize.id),
            )
