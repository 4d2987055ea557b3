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
from limits.aio.storage import RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from redis.asyncio import Redis
from redis.exceptions import RedisError

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


class RateLimiter:
    """Hits on named counters (``rate`` x ``identity``) in Redis, failing open."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "laurel:rl",
        timeout: float = 0.5,
        pause: float = 5.0,
    ) -> None:
        # The boards' connection pool (typed by `limits` as a plain option value).
        shared: dict[str, Any] = {"connection_pool": redis.connection_pool}
        storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            wrap_exceptions=True,
            key_prefix=prefix,
            **shared,
        )
        self._strategy = SlidingWindowCounterRateLimiter(storage)
        self._timeout = timeout
        self._pause = pause
        self._paused_until = 0.0
        self._down = False

    @property
    def failing_open(self) -> bool:
        """True while Redis is away and every hit is allowed."""
        return self._down

    async def hit(self, *checks: tuple[Rate, str]) -> Verdict:
        """Count one request against each ``(rate, identity)``; refused if any is spent.

        The checks run concurrently (one round trip's latency in all). A refused
        request still counts against the limits that had room for it.
        """
        if not checks or time.monotonic() < self._paused_until:
            return ALLOWED
        pairs = [(item, identity) for rate, identity in checks for item in rate]
        try:
            async with asyncio.timeout(self._timeout):
                if len(pairs) == 1:  # the common case: no tasks to schedule
                    results = [await self._strategy.hit(*pairs[0])]
                else:
                    results = await asyncio.gather(
                        *(self._strategy.hit(item, identity) for item, identity in pairs)
                    )
                refused = [pair for pair, ok in zip(pairs, results, strict=True) if not ok]
                if not refused:
                    self._recovered()
                    return ALLOWED
                waits = await asyncio.gather(*(self._wait(item, ident) for item, ident in refused))
        except (StorageError, RedisError, OSError, TimeoutError) as exc:
            self._failed(exc)
            return ALLOWED
        self._recovered()
        return Verdict(False, max(waits))

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

    async def clear(self, rates: Sequence[tuple[Rate, str]]) -> None:
        """Forget the counts of these limits (tests, an operator lifting a block)."""
        for rate, identity in rates:
            for item in rate:
                await self._strategy.clear(item, identity)
