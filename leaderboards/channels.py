"""Pub/sub through Redis, so that every worker process hears what any of them did.

Notifications are best effort: a message published while Redis is down is
lost, which only costs a live push; SQL keeps the facts. On a Redis Cluster they
are sharded (SPUBLISH/SSUBSCRIBE): each channel lives on the shard of its slot.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from leaderboards.client import Client, publish_all, subscription

__all__ = ["listen", "publish"]

_log = logging.getLogger("laurel.channels")


async def publish(redis: Client, channel: str, message: str, *, wait: float = 2.0) -> bool:
    """Publish ``message``; False (logged) when Redis did not take it."""
    try:
        async with asyncio.timeout(wait):
            await publish_all(redis, [channel], message)
        return True
    except Exception as exc:
        _log.warning("notification on %s dropped, Redis unavailable: %s", channel, exc)
        return False


def listen(redis: Client, channel: str) -> AsyncIterator[str]:
    """Messages on ``channel`` from now on, until the consumer stops iterating."""
    # A short poll: the client's socket timeout must not break a quiet channel.
    return subscription(redis, channel, poll=1.0)
