"""A leaderboard page with each member's tier, badges and community title runs the same
few SQL statements for 10 entries as for 100: nested fields are batched per request,
never queried once per row.

Statements are counted from Tortoise's own clients (``server.db.counting_statements``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from server.actions import Services
from server.db import counting_statements
from tests.conftest import GraphQL
from tests.helpers import ADJUST, BOARD, PURCHASE, UPSERT, purchase_input

MEMBERS = 120
MAX_STATEMENTS = 12

RICH = """
query Rich($n: Int!) {
  leaderboard(first: $n) {
    entries {
      member {
        displayName tier { name } badges { level } communityRank(window: ALL_TIME) { title }
      }
    }
  }
}"""

TIERS = "{ tiers { name threshold } }"

DEFINE = """
mutation Define($input: DefineBadgeInput!) {
  defineBadge(input: $input) { __typename ... on Error { message } }
}"""

# Two badges on lifetime points, with no bonus so that scores stay what was given.
BADGES = (
    {"slug": "steady-earner", "name": "Steady earner", "levels": [8_000, 11_000]},
    {"slug": "big-earner", "name": "Big earner", "levels": [10_000]},
)

# The default ladder, seeded on first use: Bronze 0, Silver 500, Gold 2,000, Platinum 5,000.
LADDER = [
    {"name": "Bronze", "threshold": 0},
    {"name": "Silver", "threshold": 500},
    {"name": "Gold", "threshold": 2_000},
    {"name": "Platinum", "threshold": 5_000},
]
# Qualifying points by member number modulo 4, one in each tier, so that a member's
# tier does not follow their rank.
QUALIFYING = ((100, "Bronze"), (800, "Silver"), (2_500, "Gold"), (5_050, "Platinum"))


def _place(n: int) -> int:
    """Member n's place from the bottom, 1 to 120 (37 is prime to 120): the board order
    is not the order of sign-up, so rows matched to the wrong member show."""
    return (n * 37) % MEMBERS + 1


def _score(n: int) -> int:
    """Distinct, 5,060 to 12,200: above every qualifying amount, so the rest of it is a
    non-qualifying credit."""
    return 5_000 + 60 * _place(n)


def _badge_levels(score: int) -> list[int]:
    """Steady earner 1 from 8,000 and 2 from 11,000; big earner 1 from 10,000."""
    steady = 2 if score >= 11_000 else 1 if score >= 8_000 else 0
    big = 1 if score >= 10_000 else 0
    return sorted(level for level in (steady, big) if level)


def _title(position: int) -> str:
    """Of 120 ranked members: the top 1 % is position 1 (Legend), the top 10 % up to 12
    (Expert), the top half up to 60 (Contributor), everyone else Member."""
    if position == 1:
        return "Legend"
    if position <= 12:
        return "Expert"
    return "Contributor" if position <= 60 else "Member"


def _expected(first: int) -> list[dict[str, Any]]:
    by_place = {_place(n): n for n in range(MEMBERS)}
    entries = []
    for position in range(1, first + 1):
        n = by_place[MEMBERS + 1 - position]
        entries.append(
            {
                "displayName": f"Member {n:03d}",
                "tier": {"name": QUALIFYING[n % 4][1]},
                "badges": _badge_levels(_score(n)),
                "title": _title(position),
            }
        )
    return entries


def _shaped(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The response's entries, badge levels sorted (the order of badges is not the point)."""
    return [
        {
            "displayName": e["member"]["displayName"],
            "tier": e["member"]["tier"],
            "badges": sorted(b["level"] for b in e["member"]["badges"]),
            "title": e["member"]["communityRank"]["title"],
        }
        for e in data["leaderboard"]["entries"]
    ]


def _summary(sql: list[str]) -> str:
    return "\n".join(f"{count:4d} x {text[:160]}" for text, count in Counter(sql).most_common())


async def _seed(gql: GraphQL, keys: dict[str, str]) -> None:
    for badge in BADGES:
        done = await gql(
            DEFINE,
            {
                "input": {
                    **badge,
                    "metric": "LIFETIME_POINTS",
                    "bonusPoints": [0] * len(badge["levels"]),
                    "art": {
                        "shape": "star",
                        "glyph": "coins",
                        "primaryColor": "#1864ab",
                        "secondaryColor": "#d0ebff",
                    },
                }
            },
            auth=keys["ADMIN"],
        )
        assert done["defineBadge"]["__typename"] == "BadgeSaved", done
    for n in range(MEMBERS):
        saved = await gql(
            UPSERT,
            {"input": {"externalId": f"m{n:03d}", "displayName": f"Member {n:03d}"}},
            auth=keys["SERVICE"],
        )
        member_id = saved["upsertMember"]["member"]["id"]
        qualifying = QUALIFYING[n % 4][0]
        for key, amount, counts in (
            (f"q-{n}", qualifying, True),
            (f"r-{n}", _score(n) - qualifying, False),
        ):
            args = {"idempotencyKey": key, "memberId": member_id, "amount": amount}
            adjusted = await gql(
                ADJUST,
                {"input": {**args, "reason": "seed", "qualifying": counts}},
                auth=keys["ADMIN"],
            )
            assert adjusted["adjustPoints"]["__typename"] == "PointsAdjusted", adjusted


async def test_a_rich_leaderboard_page_runs_the_same_few_statements_for_10_and_100(
    svc: Services, gql: GraphQL, keys: dict[str, str]
) -> None:
    await _seed(gql, keys)
    assert svc.boards is not None
    await svc.events.drain(grace=False)
    assert (await gql(TIERS))["tiers"] == LADDER
    board = (await gql(BOARD, {"first": 100}))["leaderboard"]
    assert board["totalMembers"] == MEMBERS
    assert [(e["rank"], e["score"]) for e in board["entries"]] == [
        (position, 5_000 + 60 * (MEMBERS + 1 - position)) for position in range(1, 101)
    ]
    await gql(RICH, {"n": 1})  # per-process caches warm, alike for both counted requests

    with counting_statements() as top10:
        data10 = await gql(RICH, {"n": 10})
    with counting_statements() as top100:
        data100 = await gql(RICH, {"n": 100})

    assert _shaped(data10) == _expected(10)
    assert _shaped(data100) == _expected(100)
    assert len(data100["leaderboard"]["entries"]) == 100
    assert all(e["tier"]["name"] and e["title"] for e in _shaped(data100))
    counts = len(top10), len(top100)
    print(f"rich leaderboard page: {counts[0]} SQL statements for 10 entries, {counts[1]} for 100")
    assert counts[0] == counts[1], (
        f"{counts[0]} statements for 10 entries, {counts[1]} for 100; for 100:\n" + _summary(top100)
    )
    assert counts[1] <= MAX_STATEMENTS, f"{counts[1]} statements:\n" + _summary(top100)


PRIZES = "query($n: Int!) { prizes(first: $n) { edges { node { name minTier { name } } } } }"
CREATE_PRIZE = """
mutation($input: CreatePrizeInput!) { createPrize(input: $input) { __typename } }"""
HISTORY = """
query($id: ID!, $n: Int!) {
  account(memberId: $id) {
    activities(first: $n) { edges { node { orderId member { displayName } } } }
  }
}"""


async def test_prize_tiers_and_activity_members_are_batched(
    svc: Services, gql: GraphQL, keys: dict[str, str]
) -> None:
    tiers = (await gql("{ tiers { id name } }"))["tiers"]
    for n in range(12):  # prize n needs tier n % 4: Bronze, Silver, Gold, Platinum
        created = await gql(
            CREATE_PRIZE,
            {"input": {"name": f"Prize {n}", "cost": 100 + n, "minTierId": tiers[n % 4]["id"]}},
            auth=keys["ADMIN"],
        )
        assert created == {"createPrize": {"__typename": "PrizeSaved"}}
    done = await gql(
        UPSERT, {"input": {"externalId": "ada", "displayName": "Ada"}}, auth=keys["SERVICE"]
    )
    ada = done["upsertMember"]["member"]["id"]
    for n in range(12):
        await gql(
            PURCHASE,
            {"input": purchase_input("ada", f"order-{n}", 1_000)},
            auth=keys["SERVICE"],
        )
    await gql(PRIZES, {"n": 1})
    await gql(HISTORY, {"id": ada, "n": 1}, auth=keys["ADMIN"])

    with counting_statements() as few_prizes:
        two = await gql(PRIZES, {"n": 2})
    with counting_statements() as many_prizes:
        twelve = await gql(PRIZES, {"n": 12})
    with counting_statements() as few_orders:
        await gql(HISTORY, {"id": ada, "n": 2}, auth=keys["ADMIN"])
    with counting_statements() as many_orders:
        history = await gql(HISTORY, {"id": ada, "n": 12}, auth=keys["ADMIN"])

    names = ["Bronze", "Silver", "Gold", "Platinum"]
    assert [e["node"]["minTier"]["name"] for e in two["prizes"]["edges"]] == names[:2]
    assert [e["node"]["minTier"]["name"] for e in twelve["prizes"]["edges"]] == names * 3
    edges = history["account"]["activities"]["edges"]
    assert [e["node"]["orderId"] for e in edges] == [f"order-{n}" for n in range(11, -1, -1)]
    assert {e["node"]["member"]["displayName"] for e in edges} == {"Ada"}
    print(
        f"prizes with minTier: {len(few_prizes)} statements for 2, {len(many_prizes)} for 12; "
        f"activities with member: {len(few_orders)} for 2, {len(many_orders)} for 12"
    )
    assert len(few_prizes) == len(many_prizes), _summary(many_prizes)
    assert len(few_orders) == len(many_orders), _summary(many_orders)
