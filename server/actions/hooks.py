"""Incoming shop webhooks: integrations (their secrets) and receiving a delivery.

A delivery is verified against the raw body before it is parsed, stored whole with an
event in the log in one transaction, and answered; it is applied right after the
answer by the worker that took it (``server.actions.hook_apply``) and, should that
worker die first, by the event log's ``hooks`` consumer. A wrong signature stores
nothing but a counter; a malformed body is stored as rejected, with the reason.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import orjson
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from server.actions.common import find_by_id, page_size, require
from server.actions.hook_signatures import (
    live_secrets,
    new_standard_secret,
    new_woocommerce_secret,
    platform_signature_valid,
    rotation,
    standard_signature_valid,
)
from server.actions.services import Services
from server.auth import Principal, Role
from server.rewards import snapshots
from server.rewards import validation as v
from server.rewards.errors import Invalid
from server.rewards.events import EventType, record
from server.rewards.integrations import DeliveryStatus, HookDelivery, Integration, IntegrationKind
from server.rewards.shop_formats import NotApplicable, Operation, Unusable, operations
from server.rewards.snapshots import Snapshot
from server.rewards.text import Text, msg

__all__ = [
    "HookRefused",
    "Received",
    "create_integration",
    "hook_deliveries",
    "integrations",
    "receive_hook",
    "rotate_integration_secret",
]

_SIGNATURE_HEADER = {
    IntegrationKind.SHOPIFY: "x-shopify-hmac-sha256",
    IntegrationKind.WOOCOMMERCE: "x-wc-webhook-signature",
}
_ID_HEADER = {
    IntegrationKind.SHOPIFY: "x-shopify-webhook-id",
    IntegrationKind.WOOCOMMERCE: "x-wc-webhook-delivery-id",
    IntegrationKind.LAUREL: "webhook-id",
}
_TOPIC_HEADER = {
    IntegrationKind.SHOPIFY: "x-shopify-topic",
    IntegrationKind.WOOCOMMERCE: "x-wc-webhook-topic",
}


_WOO_PING = re.compile(rb"webhook_id=\d{1,20}")


class HookRefused(Exception):
    """A delivery answered with a 4xx: ``status`` and a reason in plain words."""

    def __init__(self, status: int, text: Text) -> None:
        super().__init__(str(text))
        self.status = status
        self.text = text
        self.reason = str(text)


@dataclass(frozen=True, slots=True)
class Received:
    """How a delivery was taken: RECEIVED (applied next), or at once DUPLICATE (that
    delivery id was stored before), IGNORED or REJECTED (not applicable, with reason)."""

    delivery: int | None
    status: DeliveryStatus
    reason: str | None = None
    # What it was made of, for the worker that applies it right away.
    integration: Integration | None = None
    operations: list[Operation] = field(default_factory=list)


# Admin: integrations and their secrets


async def create_integration(
    principal: Principal, kind: IntegrationKind, name: str, secret: str | None = None
) -> tuple[Integration, str]:
    """ADMIN: a new source of deliveries and its secret, shown this once. Shopify signs
    with a key of its own (the app's client secret, or the one its admin shows under
    Notifications > Webhooks): pass it as ``secret``; for the others Laurel makes one."""
    require(principal, Role.ADMIN)
    name = v.clean_text("name", name, max_length=100, display=True)
    chosen = _secret(kind, secret)
    row = await Integration.create(kind=kind, name=name, secret=chosen, created_by=principal.actor)
    snapshots.changed()
    return row, chosen


async def rotate_integration_secret(
    svc: Services,
    principal: Principal,
    integration_id: str,
    *,
    secret: str | None = None,
    grace_hours: int = 24,
) -> tuple[Integration, str]:
    """ADMIN: a new secret; the old one stays valid for ``grace_hours`` (0 to 168), so
    deliveries signed while the platform's setting is changed still get in."""
    require(principal, Role.ADMIN)
    row = await find_by_id(Integration, "integrationId", integration_id, "integration")
    chosen = _secret(row.kind, secret)
    await Integration.filter(id=row.id).update(
        **rotation(chosen, row.secret, svc.clock(), grace_hours)
    )
    await row.refresh_from_db()
    snapshots.changed()
    return row, chosen


async def integrations(principal: Principal) -> list[Integration]:
    """ADMIN: every integration, oldest first (secrets are never shown again)."""
    require(principal, Role.ADMIN)
    return await Integration.all().order_by("id")


async def hook_deliveries(
    svc: Services,
    principal: Principal,
    integration_id: str,
    *,
    status: DeliveryStatus | None = None,
    first: int = 50,
) -> list[HookDelivery]:
    """ADMIN: an integration's deliveries, newest first (optionally of one status)."""
    require(principal, Role.ADMIN)
    page_size(svc, "first", first)
    row = await find_by_id(Integration, "integrationId", integration_id, "integration")
    query = HookDelivery.filter(integration_id=row.id)
    if status is not None:
        query = query.filter(status=status)
    return await query.order_by("-id").limit(first)


def _secret(kind: IntegrationKind, given: str | None) -> str:
    if given is not None:
        given = given.strip()
        if not 16 <= len(given) <= 200 or not given.isprintable():
            raise Invalid("secret", msg("secret must be 16 to 200 printable characters."))
        return given
    if kind is IntegrationKind.SHOPIFY:
        raise Invalid(
            "secret", msg("Shopify signs with its own key: paste the secret Shopify shows.")
        )
    return (
        new_woocommerce_secret() if kind is IntegrationKind.WOOCOMMERCE else new_standard_secret()
    )


# Receiving


def _signed_by(
    svc: Services, row: Integration, kind: IntegrationKind, headers: Mapping[str, str], body: bytes
) -> bool:
    for key in live_secrets(row.secret, row.previous_secret, row.previous_until, svc.clock()):
        if kind is IntegrationKind.LAUREL:
            if standard_signature_valid(key, headers, body, now=time.time()) is None:
                return True
        elif platform_signature_valid(key, body, headers.get(_SIGNATURE_HEADER[kind])):
            return True
    return False


async def _enabled() -> list[Integration]:
    return await Integration.filter(enabled=True).order_by("id")


# Read by every delivery; a new or rotated secret is seen by the other workers within a
# second (the previous secret stays valid for hours after a rotation anyway).
_ENABLED = Snapshot(_enabled)


async def _verified(
    svc: Services, kind: IntegrationKind, headers: Mapping[str, str], body: bytes
) -> Integration:
    for row in await _ENABLED.get():
        if row.kind is not kind:
            continue
        if _signed_by(svc, row, kind, headers, body):
            return row
    await Integration.filter(kind=kind).update(bad_signatures=F("bad_signatures") + 1)
    if kind is IntegrationKind.LAUREL:
        why = msg("webhook-signature does not match, or webhook-timestamp is over 5 minutes old.")
    else:
        why = msg(
            "{header} matches no {kind} integration's secret.",
            header=_SIGNATURE_HEADER[kind],
            kind=kind.lower(),
        )
    raise HookRefused(401, why)


def _topic(kind: IntegrationKind, headers: Mapping[str, str], parsed: object) -> str:
    if kind is IntegrationKind.LAUREL:
        topic = parsed.get("type") if isinstance(parsed, dict) else None
        return str(topic or "")[:64]
    return headers.get(_TOPIC_HEADER[kind], "")[:64]


async def receive_hook(
    svc: Services, kind: IntegrationKind, headers: Mapping[str, str], body: bytes
) -> Received:
    """Verify, store and log one delivery (``headers`` with lower-case names)."""
    if kind is IntegrationKind.WOOCOMMERCE and _WOO_PING.fullmatch(body):
        # Sent when a hook is saved, before any secret matters: nothing to keep.
        return Received(None, DeliveryStatus.IGNORED, "WooCommerce's ping on saving a hook.")
    integration = await _verified(svc, kind, headers, body)
    delivery_id = headers.get(_ID_HEADER[kind], "").strip()[:200]
    if not delivery_id:
        raise HookRefused(400, msg("The {header} header is missing.", header=_ID_HEADER[kind]))
    parsed: object = None
    with contextlib.suppress(orjson.JSONDecodeError):
        parsed = orjson.loads(body)
    topic = _topic(kind, headers, parsed)
    status, reason = DeliveryStatus.RECEIVED, None
    stored: object = body if parsed is None else parsed
    ops: list[Operation] = []
    try:
        if parsed is None:
            raise Unusable("The body is not JSON.")
        ops = operations(kind, topic, parsed)
        if not ops:
            status, reason = DeliveryStatus.IGNORED, f"Nothing to do for {topic or 'this topic'}."
    except NotApplicable as exc:
        status, reason = DeliveryStatus.REJECTED, exc.reason
    except Unusable as exc:
        status, reason = DeliveryStatus.REJECTED, exc.reason
        await _store(svc, integration, delivery_id, topic, stored, status, reason)
        raise HookRefused(400, Text(exc.reason)) from None
    taken = await _store(svc, integration, delivery_id, topic, stored, status, reason)
    if taken.status is DeliveryStatus.RECEIVED:
        return Received(taken.delivery, taken.status, None, integration, ops)
    return taken


async def _store(
    svc: Services,
    integration: Integration,
    delivery_id: str,
    topic: str,
    body: object,
    status: DeliveryStatus,
    reason: str | None,
) -> Received:
    if isinstance(body, bytes):  # kept as text, for the delivery log
        body = {"raw": body[:10_000].decode("utf-8", "replace")}
    try:
        async with in_transaction():
            row = await HookDelivery.create(
                integration_id=integration.id,
                delivery_id=delivery_id,
                topic=topic,
                body=body,
                status=status,
                reason=reason,
                received_at=svc.clock(),
            )
            if status is DeliveryStatus.RECEIVED:
                await record(EventType.HOOK_RECEIVED, None, {"delivery": row.id})
    except IntegrityError:
        return Received(None, DeliveryStatus.DUPLICATE, "This delivery id was received before.")
    return Received(row.id, status, reason)
