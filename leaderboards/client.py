"""One Redis server or a Redis Cluster, behind the same few calls.

With ``cluster=True`` the URL names a seed node of a Redis Cluster; the client
learns the other nodes and follows slots as they move or fail over. What a
cluster needs that one server does not is kept here:

- every multi-key command, script and transaction touches keys of one slot
  (the keys' hash tags, ``{...}``, see ``leaderboards.windows``);
- notifications use sharded pub/sub (SPUBLISH/SSUBSCRIBE, Redis 7): a message
  goes to the shard that owns its channel's slot, not to every node;
- "who listens" (PUBSUB SHARDCHANNELS) and key scans ask every master;
- ``primaries`` names the masters, so that a failover (whose new master may lack
  the writes its old one had not yet replicated) is noticed and the boards rebuilt.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import Any, Literal, TypeAlias, overload

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

__all__ = [
    "Client",
    "channels_listened",
    "connect",
    "primaries",
    "publish_all",
    "publish_each",
    "subscription",
]

Client: TypeAlias = Redis | RedisCluster
"""What ``connect`` returns: a client of one server, or of a cluster."""

# Both kinds of client alike.
_OPTIONS: dict[str, Any] = {
    "decode_responses": True,
    "socket_timeout": 2.0,
    "socket_connect_timeout": 2.0,
    "health_check_interval": 15,
}


@overload
def connect(url: str, *, cluster: Literal[False] = False) -> Redis: ...
@overload
def connect(url: str, *, cluster: bool) -> Client: ...
def connect(url: str, *, cluster: bool = False) -> Client:
    """A client for ``url`` with short timeouts: a dead Redis must not stall requests.
    ``cluster``: ``url`` is a seed node of a Redis Cluster (database 0)."""
    if cluster:
        nodes: RedisCluster = RedisCluster.from_url(url, **_OPTIONS)
        return nodes
    client: Redis = Redis.from_url(url, **_OPTIONS)
    return client


async def publish_all(redis: Client, channels: Iterable[str], message: str) -> None:
    """``message`` on each channel, in one pipeline (see ``publish_each``)."""
    await publish_each(redis, dict.fromkeys(channels, message))


async def publish_each(redis: Client, messages: dict[str, str]) -> None:
    """Each message on its own channel, in one pipeline: PUBLISH on one server, SPUBLISH
    on a cluster (each to the shard that owns its channel's slot)."""
    sharded = isinstance(redis, RedisCluster)
    async with redis.pipeline(transaction=False) as pipe:
        for channel, message in messages.items():
            pipe.execute_command("SPUBLISH" if sharded else "PUBLISH", channel, message)
        await pipe.execute()


async def channels_listened(redis: Client, pattern: str) -> set[str]:
    """The channels matching ``pattern`` that have a subscriber now (on a cluster: the
    shard channels of every master)."""
    if isinstance(redis, RedisCluster):
        found = await redis.pubsub_shardchannels(pattern, target_nodes=RedisCluster.PRIMARIES)
    else:
        found = await redis.pubsub_channels(pattern)
    return {str(c) for c in found}


async def subscription(
    redis: Client, channel: str, *, poll: float, retry: float = 0.2, most: float = 2.0
) -> AsyncIterator[str | None]:
    """Messages on ``channel`` from now on (SSUBSCRIBE on a cluster), polled every
    ``poll`` seconds so that the socket timeout never breaks a quiet channel.

    Redis going away does not end it: it subscribes again, ``retry`` seconds later at
    first and at most ``most`` seconds apart, and then yields ``None``: messages
    published meanwhile were not heard, so the caller catches up from its own records."""
    sharded = isinstance(redis, RedisCluster)
    wait = retry
    lost = False
    while True:
        pubsub = redis.pubsub(ignore_subscribe_messages=True)
        try:
            if sharded:
                await pubsub.ssubscribe(channel)
            else:
                await pubsub.subscribe(channel)
            if lost:
                lost, wait = False, retry
                yield None
            while True:
                if sharded:
                    message = await pubsub.get_sharded_message(
                        ignore_subscribe_messages=True, timeout=poll
                    )
                else:
                    message = await pubsub.get_message(timeout=poll)
                if message is not None and message.get("type") in {"message", "smessage"}:
                    yield str(message["data"])
        except (RedisError, OSError):
            lost = True
        finally:
            await _unsubscribe(pubsub, channel, sharded=sharded)
        await asyncio.sleep(wait)
        wait = min(most, wait * 2)


async def _unsubscribe(pubsub: Any, channel: str, *, sharded: bool) -> None:
    """Leave ``channel`` and close the connection; a connection already broken is only
    closed."""
    with contextlib.suppress(RedisError, OSError):
        if sharded:
            await pubsub.sunsubscribe(channel)
        else:
            await pubsub.unsubscribe(channel)
    await pubsub.aclose()


async def primaries(redis: Client, *, fresh: bool = False) -> str | None:
    """The masters (``host:port``, sorted, comma-separated); None for one server. As the
    client knows them, which it learns of a failover at its first error after it; with
    ``fresh``, as the cluster says now (one CLUSTER SLOTS)."""
    if isinstance(redis, RedisCluster):
        await redis.initialize()  # a no-op once the client knows the cluster
        if fresh:
            await redis.nodes_manager.initialize()
        return ",".join(sorted(node.name for node in redis.get_primaries()))
    return None
