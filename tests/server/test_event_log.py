"""The durable event log: what a commit leaves behind is finished from the log, by any
process, once; cursors survive late commits; Redis losing its data heals by itself."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis
from tortoise.transactions import in_transaction

from badges import ensure_badges
from badges.models import BadgeAward, BadgeDefinition
from leaderboards import BoardsUnavailable
from server import actions
from server.actions import Services
from server.auth import Principal, Role
from server.db import counting_statements
from server.events import BOARDS, EFFECTS, LIVE, Consumer, EventLog
from server.rewards.events import ConsumerState, EffectsDone, Event, EventType, record
from server.rewards.ledger import EntryKind
from server.rewards.posting import Posting, lock_member, post
from tests.conftest import GraphQL
from tests.helpers import ADJUST

SHOP = Principal(role=Role.SERVICE, name="shop backend")


async def _scores(svc: Services) -> list[tuple[int, int]]:
    assert svc.boards is not None
    return [(r.member_id, r.score) for r in (await svc.boards.page(first=10, offset=0)).rows]


async def _credit_without_effects(member_id: int, points: int, key: str) -> None:
    """What a worker killed right after the commit leaves: the entry and its events."""
    async with in_transaction():
        member = await lock_member(member_id)
        await post(
            Posting(
                member_id=member_id,
                kind=EntryKind.ADJUST,
                amount=points,
                lifetime_delta=points,
                reason="credited by a worker that died",
                actor="admin:test",
                idempotency_key=key,
                request_hash="",
            ),
            community=member.community,
            now=datetime.now(UTC),
        )


async def test_a_change_whose_effects_never_ran_is_finished_from_the_log(
    svc: Services, redis: Redis
) -> None:
    await ensure_badges()
    ana = await actions.upsert_member(svc, SHOP, external_id="ana", display_name="Ana")
    pubsub = redis.pubsub()
    await pubsub.subscribe(f"laurel:events:badges:{ana.id}")
    await _credit_without_effects(ana.id, 600, "died-1")
    assert await _scores(svc) == []  # nothing ran after the commit
    assert not await BadgeAward.filter(member_id=ana.id).exists()

    await svc.events.drain(grace=False)  # any process: boards, then badges, then live
    await svc.events.drain(grace=False)  # the badge's bonus (25) reaches the board

    collector = await BadgeDefinition.get(slug="point-collector")
    award = await BadgeAward.get(member_id=ana.id, badge_id=collector.id)
    assert (award.level, award.bonus_points) == (1, 25)  # 600 >= 500: level 1, bonus 25
    assert await _scores(svc) == [(ana.id, 625)]
    heard: list[int] = []
    async with asyncio.timeout(5):
        while not heard:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
            if message is not None:
                heard.append(json.loads(message["data"])["award"])
    assert heard == [award.id]
    await pubsub.aclose()

    # Running every consumer again changes nothing: each event was handled once.
    assert await svc.events.drain(grace=False) == 0
    assert await BadgeAward.filter(member_id=ana.id).count() == 1
    assert await _scores(svc) == [(ana.id, 625)]


async def test_a_request_that_finished_its_effects_leaves_them_marked_done(
    svc: Services, gql: GraphQL, keys: dict[str, str]
) -> None:
    await ensure_badges()
    bo = await actions.upsert_member(svc, SHOP, external_id="bo", display_name="Bo")
    variables = {"input": {"idempotencyKey": "k1", "memberId": str(bo.id), "amount": 700}}
    variables["input"]["reason"] = "welcome"
    done = (await gql(ADJUST, variables, auth=keys["ADMIN"]))["adjustPoints"]
    assert done["__typename"] == "PointsAdjusted"
    credited = await Event.filter(member_id=bo.id, type=EventType.POINTS_CREDITED).first()
    assert credited is not None
    assert await EffectsDone.filter(event_id=credited.id).exists()
    assert await _scores(svc) == [(bo.id, 725)]  # 700 + the level-1 bonus, inline

    await svc.events.drain([EFFECTS], grace=False)
    assert not await EffectsDone.filter(event_id=credited.id).exists()  # consumed
    assert await BadgeAward.filter(member_id=bo.id).count() == 1


async def test_the_effects_consumer_leaves_young_events_to_their_request(
    svc: Services,
) -> None:
    cy = await actions.upsert_member(svc, SHOP, external_id="cy", display_name="Cy")
    await _credit_without_effects(cy.id, 10, "young")
    assert await svc.events.drain([EFFECTS]) == 0  # within the grace: the request's
    assert await svc.events.drain([EFFECTS], grace=False) >= 1


async def test_a_late_commit_below_the_cursor_is_still_handled(svc: Services) -> None:
    """On PostgreSQL an id is handed out before commit: the cursor may pass an id whose
    transaction commits later. The consumer remembers the gap and handles it then."""
    seen: list[int] = []

    async def handle(events: Sequence[Event]) -> None:
        seen.extend(e.id for e in events)

    log = EventLog(svc.boards)
    log.install([Consumer("test", handle, frozenset({EventType.MEMBER_UPDATED}))])
    last = await Event.all().order_by("-id").first()
    base = (0 if last is None else last.id) + 1_000
    await Event.create(id=base + 1, type=EventType.MEMBER_UPDATED, member_id=None)
    assert await log.drain() == 1
    await Event.create(id=base + 3, type=EventType.MEMBER_UPDATED, member_id=None)
    assert await log.drain() == 1  # passes base + 2, not yet committed
    assert [i for i, _ in (await ConsumerState.get(name="test")).gaps] == [base + 2]
    await Event.create(id=base + 2, type=EventType.MEMBER_UPDATED, member_id=None)  # late
    assert await log.drain() == 1
    assert seen == [base + 1, base + 3, base + 2]  # each once
    row = await ConsumerState.get(name="test")
    assert (row.position, row.gaps) == (base + 3, [])


async def test_one_process_at_a_time_holds_a_consumer(svc: Services) -> None:
    first = EventLog(svc.boards, owner="one", lease_seconds=0.3)
    second = EventLog(svc.boards, owner="two")
    handled: list[str] = []

    def consumer(name: str) -> Consumer:
        async def handle(events: Sequence[Event]) -> None:
            handled.extend(name for _ in events)

        return Consumer("shared", handle, frozenset({EventType.MEMBER_UPDATED}))

    first.install([consumer("one")])
    second.install([consumer("two")])
    async with in_transaction():
        await record(EventType.MEMBER_UPDATED, None)
    assert await first.drain() == 1
    async with in_transaction():
        await record(EventType.MEMBER_UPDATED, None)
    assert await second.drain() == 0  # "one" holds the lease
    await asyncio.sleep(0.4)  # "one" died: its lease ran out
    assert await second.drain() == 1
    assert handled == ["one", "two"]
    assert (await ConsumerState.get(name="shared")).lease_owner == "two"
    await second.release()
    assert (await ConsumerState.get(name="shared")).lease_owner is None


async def test_a_failing_consumer_backs_off_and_shows_its_error(svc: Services) -> None:
    calls: list[int] = []

    async def handle(events: Sequence[Event]) -> None:
        calls.append(len(events))
        raise RuntimeError("the receiver is down")

    log = EventLog(svc.boards)
    log.install([Consumer("flaky", handle, frozenset({EventType.MEMBER_UPDATED}))])
    async with in_transaction():
        await record(EventType.MEMBER_UPDATED, None)
    assert await log.drain() == 0
    assert await log.drain() == 0  # backing off: not even tried
    assert calls == [1]
    (state,) = await log.status()
    assert (state.failures, state.lag) == (1, 1)
    assert state.last_error == "RuntimeError: the receiver is down"


async def test_redis_losing_its_data_is_noticed_and_the_boards_rebuilt(svc: Services) -> None:
    assert svc.boards is not None
    di = await actions.upsert_member(svc, SHOP, external_id="di", display_name="Di")
    await _credit_without_effects(di.id, 40, "d1")
    await svc.events.drain([BOARDS])
    assert await _scores(svc) == [(di.id, 40)]
    assert (await actions.status(svc)).redis == "ok"

    await svc.boards.redis.flushdb()  # Redis restarted empty
    with pytest.raises(BoardsUnavailable, match="rebuilt"):
        await _scores(svc)  # never an empty (wrong) board
    assert (await actions.status(svc)).redis == "rebuilding"
    await _credit_without_effects(di.id, 2, "d2")
    await svc.events.committed()  # a request's inline pass does not rebuild
    with pytest.raises(BoardsUnavailable):
        await _scores(svc)

    await svc.events.step(BOARDS)  # the background pass: rebuild, then carry on
    await svc.events.drain([BOARDS])
    assert await _scores(svc) == [(di.id, 42)]
    assert (await actions.status(svc)).redis == "ok"
    assert await actions.check_leaderboards(svc) == []


async def test_live_notifications_wait_out_an_outage_but_not_forever(
    svc: Services, redis: Redis
) -> None:
    ed = await actions.upsert_member(svc, SHOP, external_id="ed", display_name="Ed")
    async with in_transaction():
        old = await record(EventType.BADGE_GRANTED, ed.id, {"award_id": 1})
        fresh = await record(EventType.BADGE_GRANTED, ed.id, {"award_id": 2})
    await Event.filter(id=old.id).update(created_at=datetime.now(UTC) - timedelta(minutes=11))
    pubsub = redis.pubsub()
    await pubsub.subscribe(f"laurel:events:badges:{ed.id}")
    assert await svc.events.drain([LIVE]) == 3  # the cursor passes member.created too
    heard = []
    async with asyncio.timeout(5):
        while not heard:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
            if message is not None:
                heard.append(json.loads(message["data"])["award"])
    await asyncio.sleep(0.2)
    assert await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2) is None
    assert heard == [2]  # the 11-minute-old one (award 1) was skipped
    assert fresh.id > old.id
    await pubsub.aclose()


async def test_concurrent_commits_share_an_inline_pass_and_each_sees_its_events(
    svc: Services,
) -> None:
    """Eight requests commit while a slow inline pass runs: each returns with its own
    event handled, every event once, in fewer passes than requests."""
    handled: list[int] = []
    passes: list[int] = []
    release, stalled = asyncio.Event(), asyncio.Event()

    async def handle(events: Sequence[Event]) -> None:
        passes.append(len(events))
        handled.extend(e.id for e in events)
        if len(passes) == 1:
            stalled.set()
            await release.wait()  # the first pass stalls while the others commit

    log = EventLog(svc.boards)
    log.install([Consumer("shared", handle, frozenset({EventType.MEMBER_UPDATED}), inline=True)])

    commits: list[int] = []
    seven_committed = asyncio.Event()

    async def request() -> int:
        async with in_transaction():
            event = await record(EventType.MEMBER_UPDATED, None)
        commits.append(event.id)
        if len(commits) == 8:
            seven_committed.set()  # the first and the seven others
        await log.committed()  # reaches the lock without another await on the way
        assert event.id in handled  # its effect ran before the answer
        return event.id

    with counting_statements() as sql:
        first = asyncio.create_task(request())
        await stalled.wait()
        others = [asyncio.create_task(request()) for _ in range(7)]
        # Not a sleep: on a loaded machine seven PostgreSQL commits can take longer
        # than any fixed pause, and one that commits late needs a pass of its own.
        await asyncio.wait_for(seven_committed.wait(), 30)
        await asyncio.sleep(0.05)  # each is now waiting for the lock
        release.set()
        ids = [await first, *[await task for task in others]]
    assert sorted(handled) == sorted(ids)  # each event once
    assert len(passes) == 2  # the stalled one, then one for the seven
    # Two reads of the log in all (one per pass), not one per request.
    assert len([s for s in sql if s.startswith("SELECT") and 'FROM "events"' in s]) == 2
