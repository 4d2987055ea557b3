"""The services of the running process that every use case receives, and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from badges.images import ImageCache
from leaderboards import Leaderboards, TTLCache
from server.events import EventLog
from server.rewards.tiers import TierWindow
from server.settings import Settings

__all__ = ["Services", "make_services", "utcnow"]


def utcnow() -> datetime:
    """Now, timezone-aware in UTC: the default clock of ``Services``."""
    return datetime.now(UTC)


@dataclass(slots=True)
class Services:
    """What the use cases need from the running process; tests build their own."""

    events: EventLog
    boards: Leaderboards | None
    purchase_pending_days: int = 14
    points_per_currency_unit: Decimal = Decimal(1)
    points_expire_days: int = 365
    # LAUREL_MAX_AMOUNT_CENTS and LAUREL_MAX_POINTS_PER_CALL.
    max_amount_cents: int = 100_000_000
    max_points_per_call: int = 1_000_000
    shop_domains: tuple[str, ...] = ()
    max_page_size: int = 100
    # Base of the absolute URLs in Open Badges documents; None: the request's own.
    public_url: str | None = None
    shop_name: str = "Laurel community"
    tier_window: TierWindow = TierWindow.ROLLING
    # LAUREL_WEBHOOKS_ALLOW_PRIVATE: webhook endpoints on private addresses (tests, intranets).
    webhooks_allow_private: bool = False
    # LAUREL_WEBHOOK_EXPIRING_DAYS: points.expiring goes out this many days ahead.
    webhook_expiring_days: int = 7
    # LAUREL_POINT_VALUE_CENTS: what one point is worth to the shop (the liability).
    point_value_cents: Decimal = Decimal(1)
    images: ImageCache = field(default_factory=ImageCache)
    # Hot board pages, kept LAUREL_LEADERBOARD_CACHE_SECONDS at most (here: not kept).
    board_cache: TTLCache[Any] = field(default_factory=lambda: TTLCache(0.0))
    # programMetrics answers, LAUREL_METRICS_CACHE_SECONDS at most (here: not kept).
    metrics_cache: TTLCache[Any] = field(default_factory=lambda: TTLCache(0.0))
    clock: Callable[[], datetime] = field(default=utcnow)

    @property
    def keep_for(self) -> timedelta | None:
        """How long spendable points last; None: forever."""
        return timedelta(days=self.points_expire_days) if self.points_expire_days else None

    @property
    def return_window(self) -> timedelta:
        """How long a purchase's points stay pending (the shop's return window)."""
        return timedelta(days=self.purchase_pending_days)


def make_services(settings: Settings, boards: Leaderboards | None) -> Services:
    """The services of a process configured by ``settings``, without consumers
    (``server.actions.services_for`` adds them)."""
    return Services(
        events=EventLog(boards),
        boards=boards,
        purchase_pending_days=settings.purchase_pending_days,
        points_per_currency_unit=settings.points_per_currency_unit,
        points_expire_days=settings.points_expire_days,
        max_amount_cents=settings.max_amount_cents,
        max_points_per_call=settings.max_points_per_call,
        shop_domains=settings.shop_domain_list,
        max_page_size=settings.max_page_size,
        public_url=settings.public_url,
        shop_name=settings.shop_name,
        tier_window=TierWindow(settings.tier_window),
        webhooks_allow_private=settings.webhooks_allow_private,
        webhook_expiring_days=settings.webhook_expiring_days,
        point_value_cents=settings.point_value_cents,
        board_cache=TTLCache(settings.leaderboard_cache_seconds),
        metrics_cache=TTLCache(settings.metrics_cache_seconds, capacity=64),
    )
