"""The reads the GraphQL layer batches per request: each answers for many members (or
ids) in a few statements however many, and says for each what the one-at-a-time read
says; visibility, availability and paging are decided in SQL.

Statements are counted from Tortoise's own clients, which log each one on
``tortoise.db_client`` at DEBUG just before running it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from badges import ensure_badges
from server import actions
from server.actions import Services
from server.auth import Principal, Role
from server.db import counting_statements
from server.rewards.activities import ActivityKind
from server.rewards.contests import Contest, ContestStatus, status_of
from server.rewards.errors import Invalid
from server.rewards.members import Member
from server.rewards.tiers import TierWindow, ensure_tiers
from tests.conftest import Clock

SHOP = Principal(role=Role.SERVICE, name="shop backend")
ADMIN = Principal(role=Role.ADMIN, name="ops")
MODERATOR = Principal(role=Role.MODERATOR, name="mia")
ANYONE = Principal(role=Role.ANONYMOUS)


async def _member(svc: Services, name: str, community: str | None = None) -> Member:
    return await actions.upsert_member(
        svc, SHOP, external_id=name, display_name=name, community=community
    )


async def _earn(svc: Services, member: Member, points: int, key: str) -> None:
    await actions.adjust_points(
        svc,
        ADMIN,
        idempotency_key=key,
        member_id=str(member.id),
        amount=points,
        reason="test",
        qualifying=True,
    )


@pytest.mark.parametrize("window", [TierWindow.ROLLING, TierWindow.CALENDAR])
async def test_tier_standings_say_what_each_standing_says_in_a_few_statements(
    svc: Services, clock: Clock, window: TierWindow
) -> None:
    svc.tier_window = window
    await ensure_tiers()
    clock.now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    ana, ben, cy, dee = [await _member(svc, n) for n in ("ana", "ben", "cy", "dee")]
    await _earn(svc, ben, 2_500, "b1")
    clock.advance(seconds=0.4)  # within a second of the first: leaves the window with it
    await _earn(svc, ben, 100, "b2")
    await _earn(svc, cy, 300, "c1")
    clock.now = datetime(2026, 9, 1, 12, tzinfo=UTC)
    await _earn(svc, ben, 200, "b3")
    await _earn(svc, dee, 600, "d1")
    clock.now = datetime(2027, 2, 1, 12, tzinfo=UTC)
    ids = [ana.id, ben.id, cy.id, dee.id]
    alone = {pk: await actions.tier_standing(svc, pk) for pk in ids}
    with counting_statements() as one:
        await actions.tier_standings(svc, [ben.id])
    with counting_statements() as many:
        together = await actions.tier_standings(svc, [*ids, ben.id])
    assert together == alone
    assert len(many) == len(one) <= 3
    ben_now = together[ben.id]
    if window is TierWindow.ROLLING:
        assert ben_now.qualifying_points == 2_800
        assert ben_now.window_ends_at == datetime(2027, 3, 1, 12, tzinfo=UTC)
        assert ben_now.points_to_keep == 2_000 - 200  # March's 2,600 leave together
    else:  # 2026's points hold Gold through 2027; all of it must be earned again this year
        assert (ben_now.qualifying_points, ben_now.points_to_keep) == (0, 2_000)
    assert [together[pk].tier.name if together[pk].tier else None for pk in ids] == [
        "Bronze",
        "Gold",
        "Bronze",
        "Silver",
    ]
    # A list of members needs only the tier: one grouped query on the ladder.
    with counting_statements() as held_count:
        held = await actions.tiers_held(svc, [*ids, ben.id])
    assert {pk: t.name if t else None for pk, t in held.items()} == {
        ana.id: "Bronze",
        ben.id: "Gold",
        cy.id: "Bronze",
        dee.id: "Silver",
    }
    assert len(held_count) == 2  # the ladder, the members' qualifying points


async def test_community_ranks_read_no_sql_and_match_each_rank(svc: Services) -> None:
    ana = await _member(svc, "ana", "makers")
    ben = await _member(svc, "ben", "makers")
    cy = await _member(svc, "cy")
    for member, points in ((ana, 50), (ben, 80), (cy, 10)):
        await _earn(svc, member, points, f"e-{member.external_id}")
    await svc.events.drain(grace=False)
    members = [ana, ben, cy]
    alone = {m.id: await actions.community_rank(svc, m, "ALL_TIME") for m in members}
    with counting_statements() as sql:
        ranks = await actions.community_ranks(svc, members, "ALL_TIME")
    assert len(sql) == 0
    assert ranks == alone
    assert [(ranks[m.id].community, ranks[m.id].standing.position) for m in members] == [
        ("makers", 2),
        ("makers", 1),
        ("global", 3),
    ]
    # As if Redis had restarted and forgotten the script (SCRIPT FLUSH would reach every
    # database of a shared server): the reads load it again and answer the same.
    assert svc.boards is not None
    svc.boards._standing.sha = "0" * 40
    assert await actions.community_ranks(svc, members, "ALL_TIME") == ranks
    with pytest.raises(Invalid) as bad:
        await actions.community_ranks(svc, members, "FOREVER")
    assert bad.value.field == "window"
    svc.boards = None
    offline = await actions.community_ranks(svc, members, "WEEK")
    assert {r.standing.position for r in offline.values()} == {None}


async def _contest(svc: Services, name: str, *, days: int = 8, later: int = 1) -> Contest:
    now = svc.clock()
    return await actions.create_contest(
        svc,
        MODERATOR,
        actions.ContestFields(
            name=name,
            starts_at=now + timedelta(days=later),
            ends_at=now + timedelta(days=later + days),
            activity_kinds=[ActivityKind.SOCIAL_SHARE],
        ),
    )


async def test_contest_visibility_and_status_are_decided_in_sql(
    svc: Services, clock: Clock
) -> None:
    made = {
        name: await _contest(svc, name, days=2 if name in ("ended", "finalized") else 8)
        for name in ("draft", "running", "ended", "finalized", "cancelled")
    }
    for name in ("running", "ended", "finalized", "cancelled"):
        await actions.publish_contest(svc, MODERATOR, str(made[name].id))
    await actions.cancel_contest(svc, MODERATOR, str(made["cancelled"].id), "no budget")
    clock.advance(days=4)
    await actions.finalize_contest(svc, MODERATOR, str(made["finalized"].id))
    made["scheduled"] = await _contest(svc, "scheduled", later=30)
    await actions.publish_contest(svc, MODERATOR, str(made["scheduled"].id))
    rows = [await actions.contest_by_id(str(c.id)) for c in made.values()]
    statuses = {c.id: status_of(c, clock.now) for c in rows}
    assert set(statuses.values()) == set(ContestStatus)
    hidden = {ContestStatus.DRAFT, ContestStatus.CANCELLED}
    public = [c.id for c in await actions.contests_list(svc, ANYONE, None)]
    assert sorted(public) == sorted(pk for pk, s in statuses.items() if s not in hidden)
    for status in ContestStatus:
        listed = [c.id for c in await actions.contests_list(svc, MODERATOR, status)]
        assert listed == [pk for pk, s in statuses.items() if s is status]
        seen = [c.id for c in await actions.contests_list(svc, ANYONE, status)]
        assert seen == ([] if status in hidden else listed)
    for pk, status in statuses.items():
        assert (await actions.visible_contest(svc, ANYONE, str(pk)) is None) is (status in hidden)
        assert await actions.visible_contest(svc, MODERATOR, str(pk)) is not None
    assert await actions.visible_contest(svc, MODERATOR, "not-an-id") is None
    assert await actions.visible_contest(svc, MODERATOR, "999999") is None
    by_id = await actions.contests_by_ids([rows[0].id, rows[1].id, rows[0].id, 999_999])
    assert set(by_id) == {rows[0].id, rows[1].id}


async def _shares(svc: Services, member: Member, n: int) -> None:
    for i in range(n):
        await actions.record_share(
            svc,
            SHOP,
            idempotency_key=f"s-{member.id}-{i}",
            platform="facebook",
            url=f"https://shop.example.com/p/{member.id}/{i}",
            member_external_id=member.external_id,
        )


async def test_a_finalized_contest_board_is_paged_in_sql(svc: Services, clock: Clock) -> None:
    contest = await _contest(svc, "share week")
    await actions.publish_contest(svc, MODERATOR, str(contest.id))
    clock.advance(days=2)
    ana, ben, cy, dee = [await _member(svc, n) for n in ("ana", "ben", "cy", "dee")]
    for member, n in ((ana, 3), (ben, 2), (cy, 2), (dee, 1)):
        await _shares(svc, member, n)
    await svc.events.drain(grace=False)
    live = await actions.contest_board(svc, contest, first=10, offset=0)
    expected = [(1, ana.id), (2, min(ben.id, cy.id)), (2, max(ben.id, cy.id)), (4, dee.id)]
    assert sorted((r.rank, m.id) for r, m in live.rows) == expected
    clock.advance(days=10)
    done = await actions.finalize_contest(svc, MODERATOR, str(contest.id))
    frozen = await actions.contest_board(svc, done.contest, first=2, offset=1)
    assert frozen.total_members == 4
    scores = {m.id: r.score for r, m in live.rows}
    assert [(r.rank, r.score, m.id) for r, m in frozen.rows] == [
        (rank, scores[pk], pk) for rank, pk in expected[1:3]
    ]
    svc.max_page_size = 3
    with pytest.raises(Invalid) as big:
        await actions.contest_board(svc, done.contest, first=4, offset=0)
    assert big.value.field == "first"
    with pytest.raises(Invalid) as back:
        await actions.contest_board(svc, done.contest, first=1, offset=-1)
    assert back.value.field == "offset"
    places = await actions.placements_of_members([ana.id, dee.id, 999_999])
    assert [(p.contest_id, p.rank) for p in places[ana.id]] == [(contest.id, 1)]
    assert [p.rank for p in places[dee.id]] == [4]
    assert places[999_999] == []


async def test_the_prize_page_lists_only_what_can_be_redeemed_now(
    svc: Services, clock: Clock
) -> None:
    now = clock.now
    windows = {
        "open": (None, None),
        "started": (now - timedelta(days=1), None),
        "until tomorrow": (None, now + timedelta(days=1)),
        "not yet": (now + timedelta(days=1), None),
        "over": (None, now),
        "archived": (None, None),
    }
    made = {}
    for name, (start, end) in windows.items():
        made[name] = await actions.create_prize(
            ADMIN,
            actions.PrizeFields(name=name, cost=10, available_from=start, available_until=end),
        )
    await actions.archive_prize(ADMIN, str(made["archived"].id))
    first = await actions.prizes_page(svc, first=2, after=None)
    assert [p.name for p in first.prizes] == ["open", "started"]
    assert first.has_next_page
    rest = await actions.prizes_page(svc, first=2, after=first.end_cursor)
    assert ([p.name for p in rest.prizes], rest.has_next_page) == (["until tomorrow"], False)
    by_id = await actions.prizes_by_ids([made["over"].id, made["open"].id])
    assert {p.name for p in by_id.values()} == {"over", "open"}


async def test_a_code_is_whole_only_for_the_shopper_who_redeemed_it(svc: Services) -> None:
    eve, kim = await _member(svc, "eve"), await _member(svc, "kim")
    await _earn(svc, eve, 100, "gift")
    prize = await actions.create_prize(ADMIN, actions.PrizeFields(name="mug", cost=40))
    owner = Principal(Role.SHOPPER, member_id=eve.id)
    done = await actions.redeem_prize(svc, owner, idempotency_key="r1", prize_id=str(prize.id))
    code = done.redemption.row.code
    assert done.redemption.code == code
    again = await actions.redeem_prize(svc, owner, idempotency_key="r1", prize_id=str(prize.id))
    assert (again.duplicate, again.redemption.code) == (True, code)
    masked = "••••" + code[-4:]
    for caller, shown in (
        (owner, code),
        (Principal(Role.SHOPPER, member_id=kim.id), masked),
        (ADMIN, masked),
        (MODERATOR, masked),
    ):
        views = await actions.redemptions_of(caller, eve.id)
        assert [(v.row.id, v.code) for v in views] == [(done.redemption.row.id, shown)]
        assert (await views[0].row.prize).name == "mug"
    cancelled, changed = await actions.cancel_redemption(
        svc, SHOP, redemption_id=str(done.redemption.row.id), reason=None
    )
    assert (changed, cancelled.code) == (True, masked)


async def test_revoking_a_badge_names_the_badge(svc: Services) -> None:
    await ensure_badges()
    kim = await _member(svc, "kim")
    await _shares(svc, kim, 1)
    done = await actions.revoke_badge(
        svc, MODERATOR, member_id=str(kim.id), slug="first-share", reason="spam"
    )
    assert (done.badge.slug, done.levels) == ("first-share", [1])
    again = await actions.revoke_badge(
        svc, MODERATOR, member_id=str(kim.id), slug="first-share", reason="spam"
    )
    assert (again.badge.name, again.levels) == (done.badge.name, [])
