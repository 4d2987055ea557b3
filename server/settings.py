"""Settings from the environment (prefix ``LAUREL_``), validated once at start-up.

A bad value stops start-up with one line naming the setting (``SettingsError``),
rather than a traceback later in a request.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from decimal import Decimal
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Literal

from limits import parse_many
from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "SettingsError", "load_settings"]

_SECRET_FILE = "jwt_secret"  # noqa: S105 (a file name, not a secret)


class SettingsError(Exception):
    """A setting is invalid; the message is one line naming it."""


class Settings(BaseSettings):
    """Every ``LAUREL_*`` setting, with the defaults a fresh clone runs on."""

    model_config = SettingsConfigDict(env_prefix="LAUREL_", extra="ignore")

    data_dir: Path = Path("data")
    # Review photos (and their thumbnails); None: DATA_DIR/photos. Back it up.
    photo_dir: Path | None = None
    database_url: str | None = None
    redis_url: str | None = None
    # True: LAUREL_REDIS_URL is a seed node of a Redis Cluster (docs/decisions/0027).
    redis_cluster: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    jwt_secret: str | None = Field(default=None, min_length=32)
    purchase_pending_days: int = Field(default=14, ge=0, le=365)
    points_per_currency_unit: Decimal = Field(default=Decimal(1), ge=0, le=10_000)
    points_expire_days: int = Field(default=365, ge=0, le=3650)
    # The largest order (and refund) a shop may report, in cents: 1,000,000.00 by default.
    max_amount_cents: int = Field(default=100_000_000, ge=100, le=2**31 - 1)
    # The largest adjustPoints credit or debit in one call.
    max_points_per_call: int = Field(default=1_000_000, ge=1, le=2**31 - 1)
    shop_domains: str = ""
    max_page_size: int = Field(default=100, ge=1, le=1000)
    # The static cost a GraphQL document may have (see schema/cost.py).
    max_query_cost: int = Field(default=5_000, ge=100, le=1_000_000)
    # HTTP limits (server/limits_http.py): larger bodies get 413 before anything parses
    # them; a body or the headers slower than these get 408 and the connection closed.
    max_body_bytes: int = Field(default=1_048_576, ge=1_024, le=100 * 1_048_576)
    body_timeout_seconds: float = Field(default=10, gt=0, le=300)
    header_timeout_seconds: float = Field(default=10, gt=0, le=300)
    tier_window: Literal["rolling", "calendar"] = "rolling"
    leaderboard_cache_seconds: float = Field(default=1.0, ge=0, le=60)
    # programMetrics answers kept per (range, interval, segment) for as long.
    metrics_cache_seconds: float = Field(default=60.0, ge=0, le=3600)
    # Anonymous queries answered from memory for as long (server/response_cache.py).
    response_cache: bool = True
    # False: this process runs none of the event log's consumers (an API-only node; the
    # other processes project its commits within a fraction of a second).
    run_consumers: bool = True
    # Webhook endpoints may be on private, loopback or link-local addresses.
    webhooks_allow_private: bool = False
    # points.expiring webhooks go out this many days before the points expire.
    webhook_expiring_days: int = Field(default=7, ge=1, le=90)
    # What one point is worth to the shop, in cents (programMetrics' liabilityCents).
    point_value_cents: Decimal = Field(default=Decimal(1), ge=0, le=10_000)
    public_url: str | None = None
    shop_name: str = Field(default="Laurel community", min_length=1, max_length=100)
    log_level: str = "info"
    # `laurel serve --workers N`: how long a worker (a starting one too) may take to answer
    # uvicorn's health check before it is killed and replaced.
    worker_healthcheck_seconds: int = Field(default=60, ge=5, le=600)
    # Dev only: /demo endpoints hand out shopper tokens and moderator keys to anyone.
    demo: bool = False
    # /graphql rate limits, counted in Redis for all workers (server/rate_limits.py). A rate
    # is "N/second|minute|hour", or several joined by ";" ("10/second;300/minute").
    rate_limit_enabled: bool = True
    rate_limit_per_address: str = "600/minute"  # anonymous and shopper requests per address
    rate_limit_per_shopper: str = "120/minute"  # per member token
    rate_limit_per_api_key: str = "6000/minute"  # per staff key (SERVICE, MODERATOR, ADMIN)
    rate_limit_failed_auth: str = "10/minute"  # wrong credentials, per address and key prefix
    # Comma-separated CIDRs of reverse proxies whose X-Forwarded-For names the client.
    trusted_proxies: str = ""
    # GraphiQL at GET /graphql, and introspection queries (__schema, __type); frontend
    # developers explore the API with them. Off: no GraphiQL (404) / introspection refused.
    graphiql: bool = True
    introspection: bool = True

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("sqlite://", "postgres://", "postgresql://")):
            raise ValueError("must start with sqlite://, postgres:// or postgresql://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _known_redis(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("redis_cluster")
    @classmethod
    def _cluster_has_seed(cls, value: bool, info: ValidationInfo) -> bool:
        if value and not info.data.get("redis_url"):
            raise ValueError("needs LAUREL_REDIS_URL, a node of the cluster")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError("must be an http(s) URL like https://rewards.shop.example.com")
        return value.rstrip("/")

    @field_validator("shop_domains")
    @classmethod
    def _domains(cls, value: str) -> str:
        for domain in (d.strip().lower() for d in value.split(",")):
            if domain and not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", domain):
                raise ValueError(f"{domain!r} is not a domain name like shop.example.com")
        return value

    @property
    def shop_domain_list(self) -> tuple[str, ...]:
        """Domains whose pages may be shared for points; empty: any."""
        found = (d.strip().lower().removeprefix("www.") for d in self.shop_domains.split(","))
        return tuple(d for d in found if d)

    @field_validator(
        "rate_limit_per_address",
        "rate_limit_per_shopper",
        "rate_limit_per_api_key",
        "rate_limit_failed_auth",
    )
    @classmethod
    def _rate(cls, value: str) -> str:
        try:
            if not parse_many(value):
                raise ValueError
        except ValueError:
            raise ValueError(
                f"{value[:40]!r} is no rate like 120/minute or 10/second;300/minute"
            ) from None
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        for cidr in (c.strip() for c in value.split(",")):
            try:
                if cidr:
                    ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise ValueError(f"{cidr[:50]!r} is no address or CIDR like 10.0.0.0/8") from None
        return value

    @property
    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """The networks of ``trusted_proxies``; empty: the TCP peer is the client."""
        found = (c.strip() for c in self.trusted_proxies.split(","))
        return tuple(ipaddress.ip_network(c, strict=False) for c in found if c)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.lower() not in {"critical", "error", "warning", "info", "debug"}:
            raise ValueError("must be one of critical, error, warning, info, debug")
        return value.lower()

    @property
    def resolved_database_url(self) -> str:
        """The database to use: the setting, or a SQLite file in DATA_DIR."""
        if self.database_url:
            return self.database_url
        return f"sqlite://{(self.data_dir / 'laurel.sqlite3').resolve()}"

    @property
    def resolved_photo_dir(self) -> Path:
        """Where review photos are kept: the setting, or ``photos`` in DATA_DIR."""
        return self.photo_dir if self.photo_dir is not None else self.data_dir / "photos"

    def resolved_jwt_secret(self) -> str:
        """The JWT signing secret: the setting, or one generated once into DATA_DIR.

        The generated file is created with O_EXCL so that several workers
        starting together agree on one secret.
        """
        if self.jwt_secret:
            return self.jwt_secret
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / _SECRET_FILE
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            secret = path.read_text().strip()
            if len(secret) < 32:
                raise SettingsError(
                    f"LAUREL_JWT_SECRET: the generated secret in {path} is damaged; "
                    "delete the file to make a new one"
                ) from None
            return secret
        secret = secrets.token_urlsafe(48)
        with os.fdopen(fd, "w") as handle:
            handle.write(secret + "\n")
        return secret


def load_settings() -> Settings:
    """Read the environment; raise ``SettingsError`` naming the first bad setting."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "LAUREL_" + str(first["loc"][0]).upper() if first["loc"] else "LAUREL_*"
        raise SettingsError(f"{name}: {first['msg']}") from None
