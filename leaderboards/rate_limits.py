"""Rate-limit counters shared by every worker, in the same Redis as the boards.

The counting is the ``limits`` package's sliding-window counter (two counters
per limit and one Lua script per hit, O(1) whatever the rate), so a limit holds
across processes. This module only adds what Laurel needs around it:

- a verdict with the seconds to wait (``Retry-After``) when a hit is refused;
- fail-open: when Redis errs or does not answer within ``timeout`` seconds, every
  hit is allowed and Redis is left alone for ``pause`` seconds; the outage is
  logged once (a warning) and its end once (info). A limiter must never turn a
  request, least of all one that moves points, into an error.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse_many
from limits.aio.storage import RedisClusterStorage, RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from leaderboards.client import Client

__all__ = ["Rate", "RateLimiter", "Verdict", "parse_rate"]

_log = logging.getLogger("laurel.rate_limits")

Rate = tuple[RateLimitItem, ...]
"""One or more limits that all apply, e.g. ``parse_rate("10/second;120/minute")``."""


def parse_rate(text: str) -> Rate:
    """``"120/minute"`` or several separated by ``;``; raises ``ValueError`` if unreadable."""
    items = tuple(parse_many(text))
    if not items:
        raise ValueError(f"{text!r} is no rate like 120/minute")
    return items


@dataclass(frozen=True, slots=True)
class Verdict:
    """``allowed``, or refused with ``retry_after`` whole seconds (>= 1) to wait."""

    allowed: bool
    retry_after: int = 0


ALLOWED = Verdict(True)
_SHARES_PER_LIMIT = 50
_BUSY_AFTER = 3  # hits sent to Redis before a caller counts as busy
_MAX_SHARES = 100_000


def _storage(redis: Client, prefix: str) -> RedisStorage:
    """Where ``limits`` counts: the boards' connection pool on one server; on a cluster,
    ``limits``' own cluster client seeded with the boards' nodes (its counters of one
    limit share a hash tag, so each script stays on one slot)."""
    if isinstance(redis, RedisCluster):
        seeds = ",".join(node.name for node in redis.nodes_manager.startup_nodes.values())
        given = redis.get_connection_kwargs()
        # Credentials and timeouts as the boards' client has them (typed by `limits` as
        # plain option values).
        options: dict[str, Any] = {
            name: given[name]
            for name in ("username", "password", "socket_timeout", "socket_connect_timeout")
            if given.get(name) is not None
        }
        return RedisClusterStorage(
            f"async+redis+cluster://{seeds}",
            implementation="redispy",
            wrap_exceptions=True,
            key_prefix=prefix,
            **options,
        )
    shared: dict[str, Any] = {"connection_pool": redis.connection_pool}
    return RedisStorage(
        "async+redis://",
        implementation="redispy",
        wrap_exceptions=True,
        key_prefix=prefix,
        **shared,
    )


class RateLimiter:
    """Hits on named counters (``rate`` x ``identity``) in Redis, failing open."""

    def __init__(
        self,
        redis: Client,
        *,
        prefix: str = "laurel:rl",
        timeout: float = 0.5,
        pause: float = 5.0,
    ) -> None:
        self._storage = _storage(redis, prefix)
        self._strategy = SlidingWindowCounterRateLimiter(self._storage)
        self._timeout = timeout
        self._pause = pause
        self._paused_until = 0.0
        self._down = False
        # (limit, identity) -> (hits this process reserved and may still spend, until)
        self._shares: dict[tuple[str, str], tuple[int, float]] = {}
        self._seen: dict[tuple[str, str], int] = {}  # hits this process sent to Redis
        self._reserving: set[tuple[str, str]] = set()

    @property
    def failing_open(self) -> bool:
        """True while Redis is away and every hit is allowed."""
        return self._down

    async def hit(self, *checks: tuple[Rate, str], when_down: Verdict = ALLOWED) -> Verdict:
        """Count one request against each ``(rate, identity)``; refused if any is spent.

        The checks run concurrently (one round trip's latency in all). A refused
        request still counts against the limits that had room for it. While Redis
        cannot answer (down, or slower than the timeout) the answer is ``when_down``:
        allowed by default; a caller whose refusal costs nobody anything (a wrong
        credential) may ask to be refused instead.
        """
        if not checks:
            return ALLOWED
        if time.monotonic() < self._paused_until:
            return when_down
        pairs = [
            (item, identity)
            for rate, identity in checks
            for item in rate
            if not self._spend_local(item, identity)
        ]
        if not pairs:
            return ALLOWED
        try:
            async with asyncio.timeout(self._timeout):
                if len(pairs) == 1:  # the common case: no tasks to schedule
                    results = [await self._reserve(*pairs[0])]
                else:
                    results = await asyncio.gather(
                        *(self._reserve(item, identity) for item, identity in pairs)
                    )
                refused = [pair for pair, ok in zip(pairs, results, strict=True) if not ok]
                if not refused:
                    self._recovered()
                    return ALLOWED
                waits = await asyncio.gather(*(self._wait(item, ident) for item, ident in refused))
        except (StorageError, RedisError, OSError, TimeoutError) as exc:
            self._failed(exc)
            return when_down
        self._recovered()
        return Verdict(False, max(waits))

    def _spend_local(self, item: RateLimitItem, identity: str) -> bool:
        """Take one hit from this process's reserved share of the limit, if any is left."""
        key = (item.key_for(), identity)
        share = self._shares.get(key)
        if share is None or share[0] <= 0 or share[1] < time.monotonic():
            return False
        self._shares[key] = (share[0] - 1, share[1])
        return True

    async def _reserve(self, item: RateLimitItem, identity: str) -> bool:
        """Count this hit in Redis; for a caller this process already saw busy, reserve a
        small share (1/50 of the limit) at once, so that busy callers cost a round trip
        every few requests, not each.
        A share unused by the end of the window still counted: the limit is at most a
        share per worker stricter. Near the limit only the one hit is asked for."""
        key = (item.key_for(), identity)
        share = max(1, item.amount // _SHARES_PER_LIMIT)
        seen = self._seen[key] = self._seen.get(key, 0) + 1
        # Only for a caller this process already saw busy, one reservation at a time.
        if share == 1 or seen < _BUSY_AFTER or key in self._reserving:
            return await self._strategy.hit(item, identity)
        self._reserving.add(key)
        try:
            if not await self._strategy.hit(item, identity, cost=share):
                return await self._strategy.hit(item, identity)  # near the limit: exact
        finally:
            self._reserving.discard(key)
        self._shares[key] = (share - 1, time.monotonic() + item.get_expiry())
        if len(self._shares) > _MAX_SHARES or len(self._seen) > _MAX_SHARES:
            self._shares.clear()  # many callers: forget rather than grow
            self._seen.clear()
        return True

    async def _wait(self, item: RateLimitItem, identity: str) -> int:
        stats = await self._strategy.get_window_stats(item, identity)
        return max(1, math.ceil(stats.reset_time - time.time()))

    def _failed(self, exc: BaseException) -> None:
        self._paused_until = time.monotonic() + self._pause
        if not self._down:
            self._down = True
            _log.warning(
                "rate limits are off (every request allowed) until Redis answers again: %s",
                str(getattr(exc, "storage_error", exc) or type(exc).__name__)[:200],
            )

    def _recovered(self) -> None:
        if self._down:
            self._down = False
            _log.info("Redis answers again: rate limits are back on")

    async def aclose(self) -> None:
        """Close the client ``limits`` made of its own (a cluster's); a limiter on one
        server shares the boards' connection pool, which the boards' owner closes."""
        if isinstance(self._storage, RedisClusterStorage):
            # `limits` has no close of its own; its redis-py bridge keeps the client here.
            own = getattr(self._storage.bridge, "storage", None)
            if own is not None:
                await own.aclose()

    async def clear(self, rates: Sequence[tuple[Rate, str]]) -> None:
        """Forget the counts of these limits (tests, an operator lifting a block)."""
        for rate, identity in rates:
            for item in rate:
                self._shares.pop((item.key_for(), identity), None)
                await self._strategy.clear(item, identity)
