"""Expiry: spendable points expire 365 days (``points_expire_days``) after they became
spendable, oldest first; the account lists what expires within 30 days.

Expiry is not a reversal: the balance drops by a negative "expired" ledger line,
lifetime points and the board stay as they were.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest

from server import actions
from server.actions import Services
from server.rewards.consistency import find_mismatches
from tests.conftest import Clock, GraphQL, member_token
from tests.helpers import ADJUST, BOARD, PURCHASE, UPSERT, purchase_input

ME = """
query Me {
  viewer {
    pointsBalance pendingPoints
    member { lifetimePoints }
    expiringPoints { points expiresAt }
    ledger(first: 50) { edges { node { amount reason } } }
  }
}"""

YEAR = timedelta(days=365)


@pytest.fixture
async def ada(gql: GraphQL, keys: dict[str, str]) -> str:
    saved = await gql(
        UPSERT, {"input": {"externalId": "ada", "displayName": "Ada"}}, auth=keys["SERVICE"]
    )
    member_id: str = saved["upsertMember"]["member"]["id"]
    return member_id


async def _adjust(
    gql: GraphQL, keys: dict[str, str], member_id: str, key: str, amount: int
) -> None:
    variables = {
        "input": {"idempotencyKey": key, "memberId": member_id, "amount": amount, "reason": key}
    }
    done = (await gql(ADJUST, variables, auth=keys["ADMIN"]))["adjustPoints"]
    assert done["__typename"] == "PointsAdjusted", done


async def _me(gql: GraphQL, external_id: str = "ada") -> dict[str, Any]:
    account: dict[str, Any] = (await gql(ME, auth=await member_token(external_id)))["viewer"]
    return account


def _expiring(account: dict[str, Any]) -> list[tuple[int, datetime]]:
    return [
        (e["points"], datetime.fromisoformat(e["expiresAt"])) for e in account["expiringPoints"]
    ]


def _lines(account: dict[str, Any]) -> list[int]:
    return [e["node"]["amount"] for e in account["ledger"]["edges"]]


def _expired_lines(account: dict[str, Any]) -> list[int]:
    return [
        e["node"]["amount"]
        for e in account["ledger"]["edges"]
        if "expired" in e["node"]["reason"].lower()
    ]


async def _board_score(gql: GraphQL) -> int:
    entries = (await gql(BOARD))["leaderboard"]["entries"]
    return sum(int(e["score"]) for e in entries)


async def test_points_due_within_30_days_are_listed_and_not_earlier(
    gql: GraphQL, keys: dict[str, str], clock: Clock, ada: str
) -> None:
    start = clock.now
    await _adjust(gql, keys, ada, "c-1", 100)
    assert _expiring(await _me(gql)) == []

    clock.advance(days=334)
    assert _expiring(await _me(gql)) == []

    clock.advance(days=2)
    assert _expiring(await _me(gql)) == [(100, start + YEAR)]


async def test_points_expire_at_the_moment_not_a_second_before(
    gql: GraphQL, keys: dict[str, str], clock: Clock, ada: str
) -> None:
    start = clock.now
    await _adjust(gql, keys, ada, "c-1", 100)

    clock.now = start + YEAR - timedelta(seconds=1)
    before = await _me(gql)
    assert (before["pointsBalance"], before["member"]["lifetimePoints"]) == (100, 100)
    assert _expiring(before) == [(100, start + YEAR)]
    assert _expired_lines(before) == []

    clock.now = start + YEAR
    after = await _me(gql)
    assert after["pointsBalance"] == 0
    assert after["member"]["lifetimePoints"] == 100  # not a reversal
    assert _expiring(after) == []
    assert _lines(after) == [-100, 100]
    assert _expired_lines(after) == [-100]
    assert await _board_score(gql) == 100

    clock.advance(days=30)
    later = await _me(gql)
    assert (later["pointsBalance"], _lines(later)) == (0, [-100, 100])
    assert await find_mismatches() == []


async def test_spending_takes_the_oldest_points_first(
    gql: GraphQL, keys: dict[str, str], clock: Clock, ada: str
) -> None:
    """100 at day 0 and 100 at day 200, 150 spent at day 250: all of the first credit
    and 50 of the second are spent, so nothing expires at day 365 and 50 at day 565."""
    start = clock.now
    await _adjust(gql, keys, ada, "c-1", 100)
    clock.now = start + timedelta(days=200)
    await _adjust(gql, keys, ada, "c-2", 100)
    clock.now = start + timedelta(days=250)
    await _adjust(gql, keys, ada, "d-1", -150)

    clock.now = start + timedelta(days=366)
    me = await _me(gql)
    assert (me["pointsBalance"], _expired_lines(me)) == (50, [])
    assert _expiring(me) == []

    clock.now = start + timedelta(days=540)
    assert _expiring(await _me(gql)) == [(50, start + timedelta(days=200) + YEAR)]

    clock.now = start + timedelta(days=565)
    me = await _me(gql)
    assert (me["pointsBalance"], _expired_lines(me)) == (0, [-50])
    assert me["member"]["lifetimePoints"] == 50
    assert await find_mismatches() == []


async def test_what_is_left_of_a_partly_spent_old_credit_expires_first(
    gql: GraphQL, keys: dict[str, str], clock: Clock, ada: str
) -> None:
    """100 at day 0 and 100 at day 200, 50 spent at day 250: 50 expire at day 365,
    the second 100 at day 565."""
    start = clock.now
    await _adjust(gql, keys, ada, "c-1", 100)
    clock.now = start + timedelta(days=200)
    await _adjust(gql, keys, ada, "c-2", 100)
    clock.now = start + timedelta(days=250)
    await _adjust(gql, keys, ada, "d-1", -50)

    clock.now = start + timedelta(days=340)
    assert _expiring(await _me(gql)) == [(50, start + YEAR)]

    clock.now = start + timedelta(days=366)
    me = await _me(gql)
    assert (me["pointsBalance"], _expired_lines(me)) == (100, [-50])

    clock.now = start + timedelta(days=566)
    me = await _me(gql)
    assert (me["pointsBalance"], _expired_lines(me)) == (0, [-100, -50])
    assert me["member"]["lifetimePoints"] == 150
    assert await find_mismatches() == []


async def test_expiring_points_lists_each_credit_soonest_first(
    gql: GraphQL, keys: dict[str, str], clock: Clock, ada: str
) -> None:
    start = clock.now
    await _adjust(gql, keys, ada, "c-1", 30)
    clock.now = start + timedelta(days=10)
    await _adjust(gql, keys, ada, "c-2", 20)
    clock.now = start + timedelta(days=100)
    await _adjust(gql, keys, ada, "c-3", 10)

    clock.now = start + timedelta(days=350)

    assert _expiring(await _me(gql)) == [
        (30, start + YEAR),
        (20, start + timedelta(days=10) + YEAR),
    ]


async def test_with_expiry_switched_off_points_never_expire(
    gql: GraphQL, keys: dict[str, str], clock: Clock, svc: Services, ada: str
) -> None:
    svc.points_expire_days = 0
    await _adjust(gql, keys, ada, "c-1", 100)
    await gql(PURCHASE, {"input": purchase_input("ada", "A-1", 5_000)}, auth=keys["SERVICE"])

    clock.advance(days=14, seconds=1)
    assert (await _me(gql))["pointsBalance"] == 150
    clock.advance(days=3_650)

    assert await actions.expire_points(svc) == (0, 0)
    me = await _me(gql)
    assert (me["pointsBalance"], _expired_lines(me), _expiring(me)) == (150, [], [])


async def test_the_expiry_job_expires_due_points_once(
    gql: GraphQL, keys: dict[str, str], clock: Clock, svc: Services, ada: str
) -> None:
    saved = await gql(
        UPSERT, {"input": {"externalId": "bo", "displayName": "Bo"}}, auth=keys["SERVICE"]
    )
    await _adjust(gql, keys, ada, "c-1", 100)
    await _adjust(gql, keys, saved["upsertMember"]["member"]["id"], "c-2", 40)
    clock.advance(days=200)
    await _adjust(gql, keys, ada, "c-3", 7)  # not due yet
    clock.advance(days=165)

    assert await actions.expire_points(svc) == (2, 140)
    assert await actions.expire_points(svc) == (0, 0)

    ada_now, bo_now = await _me(gql, "ada"), await _me(gql, "bo")
    assert (ada_now["pointsBalance"], _expired_lines(ada_now)) == (7, [-100])
    assert (bo_now["pointsBalance"], _expired_lines(bo_now)) == (0, [-40])
    assert await find_mismatches() == []


async def test_concurrent_reads_at_the_expiry_moment_expire_once(
    gql: GraphQL, keys: dict[str, str], clock: Clock, svc: Services, ada: str
) -> None:
    await _adjust(gql, keys, ada, "c-1", 100)
    clock.advance(days=365)
    token = await member_token("ada")

    reads = await asyncio.gather(*(gql(ME, auth=token) for _ in range(6)))

    for read in reads:
        assert read["viewer"]["pointsBalance"] == 0
    me = await _me(gql)
    assert (me["pointsBalance"], _expired_lines(me)) == (0, [-100])
    assert await actions.expire_points(svc) == (0, 0)
    assert await find_mismatches() == []


async def test_pending_purchase_points_start_their_year_when_released(
    gql: GraphQL, keys: dict[str, str], clock: Clock, svc: Services, ada: str
) -> None:
    bought_at = clock.now
    await gql(PURCHASE, {"input": purchase_input("ada", "A-1", 10_000)}, auth=keys["SERVICE"])
    released_at = clock.now = bought_at + timedelta(days=14)
    assert await actions.release_pending(svc) == (1, 100)

    # A year after the purchase they are still there: the year counts from the release.
    clock.now = bought_at + YEAR + timedelta(days=1)
    me = await _me(gql)
    assert me["pointsBalance"] == 100
    assert _expiring(me) == [(100, released_at + YEAR)]

    clock.now = released_at + YEAR - timedelta(seconds=1)
    assert (await _me(gql))["pointsBalance"] == 100
    clock.now = released_at + YEAR
    me = await _me(gql)
    assert (me["pointsBalance"], me["pendingPoints"], _expired_lines(me)) == (0, 0, [-100])
    assert me["member"]["lifetimePoints"] == 100
    assert await find_mismatches() == []


async def test_points_released_by_a_late_read_expire_a_year_after_they_became_spendable(
    gql: GraphQL, keys: dict[str, str], clock: Clock, ada: str
) -> None:
    """Reads must be right without the release job having run: the points became spendable
    when the return window ended, so their year counts from then, not from the read."""
    bought_at = clock.now
    await gql(PURCHASE, {"input": purchase_input("ada", "A-1", 10_000)}, auth=keys["SERVICE"])
    spendable_at = bought_at + timedelta(days=14)

    clock.now = spendable_at + timedelta(days=340)  # first read since the purchase
    me = await _me(gql)
    assert me["pointsBalance"] == 100
    assert _expiring(me) == [(100, spendable_at + YEAR)]

    clock.now = spendable_at + YEAR
    me = await _me(gql)
    assert (me["pointsBalance"], _expired_lines(me)) == (0, [-100])


async def test_old_purchase_points_spendable_at_once_expire_a_year_after_recording(
    gql: GraphQL, keys: dict[str, str], clock: Clock, ada: str
) -> None:
    recorded_at = clock.now
    old = purchase_input("ada", "OLD-1", 5_000)
    old["occurredAt"] = (recorded_at - timedelta(days=30)).isoformat()
    await gql(PURCHASE, {"input": old}, auth=keys["SERVICE"])

    clock.now = recorded_at + YEAR - timedelta(seconds=1)
    assert (await _me(gql))["pointsBalance"] == 50
    clock.now = recorded_at + YEAR
    assert (await _me(gql))["pointsBalance"] == 0
