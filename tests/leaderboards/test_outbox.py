"""Board updates go through the SQL outbox: nothing is lost while Redis is down and nothing
is counted twice when rows are applied again."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from leaderboards import BoardRow, Leaderboards, connect, flush_outbox
from server import actions
from server.actions import Services
from server.auth import Principal, Role
from server.events import Events
from server.rewards.consistency import find_mismatches
from server.rewards.ledger import BoardUpdate
from server.rewards.members import Member
from tests.conftest import Clock, GraphQL
from tests.helpers import ADJUST, BOARD, UPSERT

SHOP = Principal(role=Role.SERVICE, name="shop backend")


@pytest.fixture
async def offline(svc: Services, clock: Clock) -> AsyncIterator[Services]:
    """The services of a process whose Redis is unreachable (nothing listens on port 1)."""
    dead = connect("redis://127.0.0.1:1/0")
    boards = Leaderboards(dead)
    try:
        yield Services(events=Events(boards), boards=boards, clock=clock)
    finally:
        await dead.aclose()


async def _board(svc: Services) -> list[BoardRow]:
    assert svc.boards is not None
    return (await svc.boards.page(first=10, offset=0)).rows


async def _outbox_on_healthz(client: httpx.AsyncClient) -> int:
    response = await client.get("/healthz")
    assert response.status_code == 200
    depth: int = response.json()["outbox"]
    return depth


async def test_a_purchase_while_redis_is_down_reaches_the_board_once(
    svc: Services, offline: Services, client: httpx.AsyncClient
) -> None:
    assert svc.boards is not None
    ada = await actions.upsert_member(offline, SHOP, external_id="ada", display_name="Ada")

    recorded = await actions.record_purchase(
        offline,
        SHOP,
        idempotency_key="k-1",
        member_external_id="ada",
        order_id="A-1",
        amount_cents=12_345,
    )

    assert (recorded.points_awarded, recorded.duplicate) == (123, False)
    await ada.refresh_from_db()
    assert (ada.points_balance, ada.pending_points, ada.lifetime_points) == (0, 123, 123)
    assert await find_mismatches() == []
    pending = await BoardUpdate.all()
    assert [(row.member_id, row.delta) for row in pending] == [(ada.id, 123)]
    assert await _outbox_on_healthz(client) == 1
    assert await _board(svc) == []  # not on the board yet: Redis never saw it

    # Redis is back: the next flush (the replay task's job) applies the row.
    assert await flush_outbox(svc.boards) == 1
    assert await _board(svc) == [BoardRow(rank=1, score=123, member_id=ada.id)]
    assert await _outbox_on_healthz(client) == 0

    # Flushing again, or applying the very same rows again, changes nothing.
    assert await flush_outbox(svc.boards) == 0
    assert await svc.boards.apply(pending) == set()  # no board changed
    assert await _board(svc) == [BoardRow(rank=1, score=123, member_id=ada.id)]
    assert await BoardUpdate.all().count() == 0


async def test_rows_applied_before_a_crash_are_not_counted_again(
    svc: Services, offline: Services, client: httpx.AsyncClient
) -> None:
    """A process applies the rows to Redis and dies before deleting them from the outbox."""
    assert svc.boards is not None
    bo = await actions.upsert_member(offline, SHOP, external_id="bo", display_name="Bo")
    for order, cents in [("B-1", 5_000), ("B-2", 2_500)]:
        await actions.record_purchase(
            offline,
            SHOP,
            idempotency_key=order,
            member_external_id="bo",
            order_id=order,
            amount_cents=cents,
        )
    rows = await BoardUpdate.all().order_by("id")
    assert await _outbox_on_healthz(client) == 2

    changed = await svc.boards.apply(rows)  # ... and the process is killed here
    assert "laurel:events:board:global:ALL_TIME" in changed
    assert await _outbox_on_healthz(client) == 2

    assert await flush_outbox(svc.boards) == 2  # the next process moves them again
    await bo.refresh_from_db()
    assert bo.lifetime_points == 75
    assert await _board(svc) == [BoardRow(rank=1, score=75, member_id=bo.id)]
    assert await _outbox_on_healthz(client) == 0


async def test_a_debit_to_zero_takes_a_member_off_the_board(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    ids: dict[str, str] = {}
    for name in ("cy", "di"):
        saved = await gql(
            UPSERT, {"input": {"externalId": name, "displayName": name}}, auth=keys["SERVICE"]
        )
        ids[name] = saved["upsertMember"]["member"]["id"]

    async def adjust(name: str, key: str, amount: int) -> dict[str, object]:
        variables = {
            "input": {
                "idempotencyKey": key,
                "memberId": ids[name],
                "amount": amount,
                "reason": "Correction",
            }
        }
        done: dict[str, object] = (await gql(ADJUST, variables, auth=keys["ADMIN"]))["adjustPoints"]
        assert done["__typename"] == "PointsAdjusted", done
        return done

    await adjust("cy", "c-1", 50)
    await adjust("di", "d-1", 80)
    board = (await gql(BOARD))["leaderboard"]
    assert board["totalMembers"] == 2

    await adjust("cy", "c-2", -20)
    board = (await gql(BOARD))["leaderboard"]
    assert [(e["member"]["id"], e["score"]) for e in board["entries"]] == [
        (ids["di"], 80),
        (ids["cy"], 30),
    ]

    await adjust("cy", "c-3", -30)
    board = (await gql(BOARD))["leaderboard"]
    assert board["totalMembers"] == 1
    assert [(e["member"]["id"], e["score"], e["rank"]) for e in board["entries"]] == [
        (ids["di"], 80, 1)
    ]
    cy = await Member.get(id=int(ids["cy"]))
    assert (cy.points_balance, cy.lifetime_points) == (0, 0)
