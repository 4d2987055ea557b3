"""Pub/sub through Redis, so that every worker process hears what any of them did.

``publish`` raises ``NotPublished`` while Redis is down, so that a caller keeping
the message elsewhere (the event log) can send it again later. ``listen`` lives
through an outage: it subscribes again and yields ``None`` for what it may have
missed. On a Redis Cluster channels are sharded (SPUBLISH/SSUBSCRIBE): each
channel lives on the shard of its slot.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from leaderboards.client import Client, publish_all, subscription

__all__ = ["NotPublished", "listen", "publish"]


class NotPublished(Exception):
    """Redis did not take a message."""


async def publish(redis: Client, channel: str, message: str, *, wait: float = 2.0) -> None:
    """Publish ``message``, or raise ``NotPublished`` when Redis did not take it."""
    try:
        async with asyncio.timeout(wait):
            await publish_all(redis, [channel], message)
    except Exception as exc:
        raise NotPublished(f"{channel}: Redis unavailable: {exc}") from exc


def listen(redis: Client, channel: str) -> AsyncIterator[str | None]:
    """Messages on ``channel`` from now on, until the consumer stops iterating; ``None``
    after an outage of Redis, during which messages may have been missed."""
    # A short poll: the client's socket timeout must not break a quiet channel.
    return subscription(redis, channel, poll=1.0)
