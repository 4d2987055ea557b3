"""Laurel on a real Redis Cluster (3 masters, 3 replicas; ``tests/cluster.py``): the
leaderboard, contest and live-update scenarios of the single-server tests, run again
with only Redis replaced; boards spread over every master; a master killed under load
fails over to its replica and the boards end equal to SQL (the board consumer rebuilds
them after a failover, since the new master may lack the old one's last writes).

The SQL side is the run's ``database`` fixture (SQLite or PostgreSQL). Skips without
``redis-server``/``redis-cli`` on PATH; ``LAUREL_TEST_REQUIRE_CLUSTER=1`` fails instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from leaderboards import Board, RateLimiter, Window, listen, parse_rate
from leaderboards.client import connect
from server import actions
from server.actions import Services
from server.rewards.ledger import LedgerEntry
from tests.cluster import Cluster, redis_cluster
from tests.conftest import Backend, GraphQL
from tests.leaderboards import test_boards as boards_tests
from tests.leaderboards import test_live as live_tests
from tests.server import test_contests as contest_tests
from tests.servers import serving


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with redis_cluster(tmp_path_factory.mktemp("cluster")) as running:
        yield running


@pytest.fixture(scope="module")
async def redis(cluster: Cluster) -> AsyncIterator[RedisCluster]:
    """Overrides conftest's: ``svc`` (and so ``gql``) run on the cluster in this module."""
    client = connect(cluster.url, cluster=True)
    assert isinstance(client, RedisCluster)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def two_servers(
    database: Backend, cluster: Cluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[str]]:
    """Overrides test_live's: two `laurel serve` processes on the cluster, for one test
    (their consumers would take the events of the tests after it)."""
    data = tmp_path_factory.mktemp("live-cluster")
    env = {"LAUREL_REDIS_URL": cluster.url, "LAUREL_REDIS_CLUSTER": "true"}
    with (
        serving(database, data / "a", env=env) as first,
        serving(database, data / "b", env=env) as second,
    ):
        yield [first, second]


# The single-server scenarios, on the cluster (pytest collects them here with this
# module's fixtures).
test_windows = boards_tests.test_windows_roll_over_at_the_utc_instant
test_ties_across_pages = boards_tests.test_ties_share_a_rank_across_pages
test_around_me = boards_tests.test_around_me_at_the_top_the_bottom_and_without_a_score
test_community_boards = boards_tests.test_community_boards_and_ranks
test_period_expiry = boards_tests.test_period_keys_expire_after_their_period_and_a_grace_time
test_rebuild_equals_incremental = boards_tests.test_rebuild_equals_the_incremental_boards
test_check_and_repair = boards_tests.test_check_finds_a_tampered_board_and_rebuild_repairs_it
test_rebuild_lock = boards_tests.test_rebuild_holds_back_the_board_consumer_and_keeps_later_events
test_contest_lifecycle = contest_tests.test_a_contest_through_its_lifecycle
test_contest_rebuild = contest_tests.test_a_contest_board_rebuilds_from_sql
test_live_across_processes = live_tests.test_a_change_through_one_process_is_pushed_by_the_other


def _node(cluster: Cluster, port: int) -> Redis:
    return Redis(port=port, decode_responses=True)


async def test_boards_spread_over_all_three_masters(
    svc: Services, cluster: Cluster, redis: RedisCluster, gql: GraphQL
) -> None:
    communities = [f"guild{i}" for i in range(12)]
    for i, community in enumerate(communities):
        member = await boards_tests._member(svc, f"m{i}", community)
        await boards_tests._earn(svc, member, 10 + i)
    assert svc.boards is not None
    keys = {str(k) async for k in redis.scan_iter(match="laurel:lb:*")}
    boards = {k for k in keys if k.endswith("}")}
    assert len(boards) == 5 * 13  # five windows of the global and twelve community boards

    held: dict[int, set[str]] = {}
    for port in cluster.masters():
        node = _node(cluster, port)
        try:
            held[port] = {str(k) async for k in node.scan_iter(match="laurel:lb:*")}
        finally:
            await node.aclose()
    assert len(held) == 3
    assert all(k & boards for k in held.values()), {p: len(k) for p, k in held.items()}
    assert set().union(*held.values()) == keys  # every key on exactly the master of its slot
    # A board's event markers share its slot (one script touches both).
    for key in boards:
        markers = [k for k in keys if k.startswith(key + ":event:")]
        assert markers
        assert {redis.keyslot(k) for k in markers} == {redis.keyslot(key)}
    # Each community board answers, wherever its master is.
    for i, community in enumerate(communities):
        page = await gql(boards_tests.PAGE, {"board": {"community": community}})
        assert boards_tests._entries(page["leaderboard"]) == [(1, 10 + i, f"m{i}")]


async def test_notifications_are_sharded_and_reach_every_listener(
    svc: Services, redis: RedisCluster
) -> None:
    assert svc.boards is not None
    ana = await boards_tests._member(svc, "ana", "north")
    by_shard = {
        redis.get_node_from_key(channel).name: channel
        for channel in (
            svc.boards.channel(Board(window=w, community=c))
            for w in Window
            for c in (None, "north")
        )
    }
    assert len(by_shard) > 1
    channels = list(by_shard.values())  # one of ana's boards' channels on each shard

    async def first(channel: str, heard: list[str]) -> None:
        async for message in listen(redis, channel):
            heard.append(message)
            return

    for change in ("credit", "rebuild"):
        heard: list[str] = []
        tasks = [asyncio.create_task(first(c, heard)) for c in channels]
        await asyncio.sleep(0.3)  # subscribed (SSUBSCRIBE on each channel's shard)
        if change == "credit":
            await boards_tests._earn(svc, ana, 5)
        else:  # announce_all finds the listened channels on every master
            await actions.rebuild_leaderboards(svc, settle=0)
        async with asyncio.timeout(10):
            await asyncio.gather(*tasks)
        assert heard == ["changed"] * len(channels), change


async def test_rate_limits_count_on_the_cluster(svc: Services, redis: RedisCluster) -> None:
    limiter = RateLimiter(redis)
    rate = parse_rate("3/minute")
    try:
        verdicts = [await limiter.hit((rate, f"address-{i}")) for i in (1, 1, 1, 1, 2)]
        assert [v.allowed for v in verdicts] == [True, True, True, False, True]
        assert verdicts[3].retry_after >= 1
        assert not limiter.failing_open
        assert [k async for k in redis.scan_iter(match="laurel:rl:*")]  # counted in the cluster
        await limiter.clear([(rate, "address-1")])
        assert (await limiter.hit((rate, "address-1"))).allowed
    finally:
        await limiter.aclose()


async def test_a_master_killed_under_load_fails_over_and_the_boards_end_right(
    svc: Services, cluster: Cluster, redis: RedisCluster, gql: GraphQL
) -> None:
    """SIGKILL the master of the global board while credits flow: the money path never
    fails, its replica takes over, and every board ends equal to what SQL says."""
    assert svc.boards is not None
    members = [
        await boards_tests._member(svc, f"load{i}", [None, "north", "south"][i % 3])
        for i in range(9)
    ]
    before = await svc.boards.epoch()
    victim = redis.get_node_from_key(svc.boards.key(Board(), svc.clock())).port
    done = 0
    quarter = asyncio.Event()

    async def credits(worker: int, count: int) -> None:
        nonlocal done
        for n in range(count):
            member = members[(worker + n) % len(members)]
            await boards_tests._earn(svc, member, 1 + n % 7, key=f"load-{worker}-{n}")
            done += 1
            if done == 40:
                quarter.set()

    load = [asyncio.create_task(credits(w, 40)) for w in range(4)]
    await quarter.wait()
    cluster.kill(victim)  # mid-load
    await asyncio.to_thread(cluster.wait_ok, 20)  # the replica was promoted
    assert victim not in cluster.masters()
    await asyncio.gather(*load)  # every credit went through
    assert done == 160

    differences = await actions.check_leaderboards(svc)
    assert differences == []
    assert await svc.boards.epoch() != before  # rebuilt after the failover
    sums: dict[str, int] = {}
    for member in members:
        entries = await LedgerEntry.filter(member_id=member.id)
        sums[member.external_id] = sum(e.lifetime_delta for e in entries)
    page = (await gql(boards_tests.PAGE, {"first": 20}))["leaderboard"]
    shown: dict[str, Any] = {e["member"]["displayName"]: e["score"] for e in page["entries"]}
    assert shown == sums
