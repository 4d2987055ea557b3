"""Outgoing webhooks: endpoints (ADMIN), the messages the event log makes for them, and
redelivery. Sending is ``server.actions.webhook_sender``'s.

An endpoint's URL must be http(s) and, unless ``LAUREL_WEBHOOKS_ALLOW_PRIVATE``, reach
only public addresses: private, loopback, link-local, reserved and multicast ones are
refused when the endpoint is saved and again at every send (a name may change its
address).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from server.actions.common import find_by_id, page_size, require
from server.actions.hook_signatures import new_standard_secret, rotation
from server.actions.services import Services
from server.auth import Principal, Role
from server.rewards import validation as v
from server.rewards.errors import Invalid
from server.rewards.text import Text, msg
from server.rewards.webhooks import WEBHOOK_EVENTS, MessageStatus, WebhookEndpoint, WebhookMessage

__all__ = [
    "address_refused",
    "create_webhook_endpoint",
    "redeliver_webhook",
    "rotate_webhook_secret",
    "update_webhook_endpoint",
    "webhook_endpoints",
    "webhook_messages",
]


async def address_refused(url: str, *, allow_private: bool) -> Text | None:
    """Why Laurel will not send to ``url``, or None."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return msg("url must be an http:// or https:// address with a host.")
    try:
        port = parts.port
    except ValueError:  # not a number, or beyond 65535
        return msg("The address's port must be a number from 1 to 65535.")
    if allow_private:
        return None
    host = parts.hostname
    try:
        found = await asyncio.to_thread(socket.getaddrinfo, host, port or 443)
    except (OSError, UnicodeError):
        return msg("{host} does not resolve.", host=host)
    for *_, address in found:
        ip = ipaddress.ip_address(str(address[0]).split("%")[0])
        if not ip.is_global or ip.is_multicast:
            return msg(
                "{host} is a private, loopback or link-local address: not allowed "
                "(LAUREL_WEBHOOKS_ALLOW_PRIVATE=true allows it).",
                host=host,
            )
    return None


def _events(events: Sequence[str]) -> list[str]:
    wanted = sorted(set(events))
    unknown = [e for e in wanted if e not in WEBHOOK_EVENTS]
    if unknown or not wanted:
        names = ", ".join(WEBHOOK_EVENTS)
        raise Invalid("events", msg("events must name some of: {names}.", names=names))
    return wanted


async def _checked_url(svc: Services, url: str) -> str:
    url = v.clean_text("url", url, max_length=2000)
    refused = await address_refused(url, allow_private=svc.webhooks_allow_private)
    if refused:
        raise Invalid("url", refused)
    return url


async def _endpoint(endpoint_id: str) -> WebhookEndpoint:
    return await find_by_id(WebhookEndpoint, "endpointId", endpoint_id, "webhook endpoint")


async def create_webhook_endpoint(
    svc: Services, principal: Principal, url: str, events: Sequence[str]
) -> tuple[WebhookEndpoint, str]:
    """ADMIN: a new endpoint and its secret, shown this once. It receives the events
    committed from now on."""
    require(principal, Role.ADMIN)
    checked, wanted = await _checked_url(svc, url), _events(events)
    secret = new_standard_secret()
    row = await WebhookEndpoint.create(
        url=checked, events=wanted, secret=secret, created_by=principal.actor
    )
    return row, secret


async def update_webhook_endpoint(
    svc: Services,
    principal: Principal,
    endpoint_id: str,
    *,
    url: str | None = None,
    events: Sequence[str] | None = None,
    enabled: bool | None = None,
) -> WebhookEndpoint:
    """ADMIN: change the URL or the events, or disable and enable it again (messages
    wait while it is disabled and go out in order once it is enabled)."""
    require(principal, Role.ADMIN)
    row = await _endpoint(endpoint_id)
    changes: dict[str, Any] = {}
    if url is not None:
        changes["url"] = await _checked_url(svc, url)
    if events is not None:
        changes["events"] = _events(events)
    if enabled is not None:
        changes.update(
            enabled=enabled, disabled_reason=None if enabled else "Disabled by an admin."
        )
        if enabled:
            changes["failing_since"] = None
    if changes:
        await WebhookEndpoint.filter(id=row.id).update(**changes)
        await row.refresh_from_db()
    return row


async def rotate_webhook_secret(
    svc: Services, principal: Principal, endpoint_id: str, *, grace_hours: int = 24
) -> tuple[WebhookEndpoint, str]:
    """ADMIN: a new secret; messages carry signatures by both for ``grace_hours``."""
    require(principal, Role.ADMIN)
    row = await _endpoint(endpoint_id)
    secret = new_standard_secret()
    await WebhookEndpoint.filter(id=row.id).update(
        **rotation(secret, row.secret, svc.clock(), grace_hours)
    )
    await row.refresh_from_db()
    return row, secret


async def webhook_endpoints(principal: Principal) -> list[WebhookEndpoint]:
    require(principal, Role.ADMIN)
    return await WebhookEndpoint.all().order_by("id")


async def webhook_messages(
    svc: Services,
    principal: Principal,
    endpoint_id: str,
    *,
    status: MessageStatus | None = None,
    first: int = 50,
) -> list[WebhookMessage]:
    """ADMIN: the delivery log of an endpoint, newest first."""
    require(principal, Role.ADMIN)
    page_size(svc, "first", first)
    row = await _endpoint(endpoint_id)
    query = WebhookMessage.filter(endpoint_id=row.id)
    if status is not None:
        query = query.filter(status=status)
    return await query.order_by("-id").limit(first)


async def redeliver_webhook(svc: Services, principal: Principal, message_id: str) -> WebhookMessage:
    """ADMIN: send a message again now (same ``webhook-id``), delivered or failed."""
    require(principal, Role.ADMIN)
    row = await find_by_id(WebhookMessage, "id", message_id, "webhook message")
    await WebhookMessage.filter(id=row.id).update(
        status=MessageStatus.PENDING, next_attempt_at=svc.clock(), last_error=None
    )
    await row.refresh_from_db()
    return row
