"""Outgoing webhooks: the shop's endpoints (a CRM, an e-mail tool) and every message
sent them. A message is made from one event of the log for each endpoint that wants
its type, once (unique per endpoint and event), and delivered at least once, in order
per endpoint, signed per the Standard Webhooks spec; its ``message_id`` stays the same
over retries and redeliveries, so a receiver can drop what it has seen.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

__all__ = ["WEBHOOK_EVENTS", "MessageStatus", "WebhookEndpoint", "WebhookMessage"]

# The event types an endpoint may subscribe to (README, "Connect your shop").
WEBHOOK_EVENTS = (
    "member.created",
    "points.earned",
    "points.spent",
    "points.expiring",
    "points.expired",
    "badge.awarded",
    "badge.revoked",
    "tier.changed",
    "redemption.created",
    "redemption.cancelled",
    "contest.finalized",
    "activity.flagged",
)


class MessageStatus(StrEnum):
    PENDING = "PENDING"  # to send (again) at ``next_attempt_at``
    DELIVERED = "DELIVERED"  # the endpoint answered 2xx
    FAILED = "FAILED"  # retried for a day without success; ``redeliverWebhook`` tries again


class WebhookEndpoint(Model):
    id = fields.BigIntField(primary_key=True)
    url = fields.CharField(max_length=2000)
    events: Any = fields.JSONField(default=list)  # names from WEBHOOK_EVENTS
    secret = fields.CharField(max_length=200)
    # After a rotation messages carry a signature by the old secret too, until then.
    previous_secret = fields.CharField(max_length=200, null=True)
    previous_until = fields.DatetimeField(null=True)
    enabled = fields.BooleanField(default=True)
    disabled_reason = fields.TextField(null=True)
    failing_since = fields.DatetimeField(null=True)  # the first failure of a failing run
    created_by = fields.CharField(max_length=120)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "webhook_endpoints"


class WebhookMessage(Model):
    id = fields.BigIntField(primary_key=True)
    endpoint: fields.ForeignKeyRelation[WebhookEndpoint] = fields.ForeignKeyField(
        "laurel.WebhookEndpoint", related_name="messages", on_delete=fields.RESTRICT
    )
    endpoint_id: int
    event_id = fields.BigIntField()
    message_id = fields.CharField(max_length=64)  # the webhook-id header
    type = fields.CharField(max_length=32)
    payload: Any = fields.JSONField()
    status = fields.CharEnumField(MessageStatus, max_length=16, default=MessageStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    last_status = fields.IntField(null=True)  # the endpoint's last HTTP status
    last_error = fields.TextField(null=True)
    created_at = fields.DatetimeField()
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_messages"
        unique_together = (("endpoint", "event_id", "type"),)
        indexes = (("endpoint_id", "status", "id"),)
