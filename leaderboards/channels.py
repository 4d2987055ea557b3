"""Pub/sub through Redis, so that every worker process hears what any of them did.

Notifications are best effort: a message published while Redis is down is
lost, which only costs a live push; SQL keeps the facts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from redis.asyncio import Redis

__all__ = ["listen", "publish"]

_log = logging.getLogger("laurel.channels")


async def publish(redis: Redis, channel: str, message: str, *, wait: float = 2.0) -> bool:
    """Publish ``message``; False (logged) when Redis did not take it."""
    try:
        async with asyncio.timeout(wait):
            await redis.publish(channel, message)
        return True
    except Exception as exc:
        _log.warning("notification on %s dropped, Redis unavailable: %s", channel, exc)
        return False


async def listen(redis: Redis, channel: str) -> AsyncIterator[str]:
    """Messages on ``channel`` from now on, until the consumer stops iterating."""
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel)
    try:
        while True:
            # A short poll: the client's socket timeout must not break a quiet channel.
            message = await pubsub.get_message(timeout=1.0)
            if message is not None and message.get("type") == "message":
                yield str(message["data"])
    finally:
        await pubsub.unsubscribe(channel)
        await pubsub.aclose()  # type: ignore[no-untyped-call]
