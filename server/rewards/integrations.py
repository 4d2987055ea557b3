"""The shop's platforms sending orders, refunds and customers: one integration per
source (a Shopify store, a WooCommerce site, any other shop speaking Laurel's generic
format), each with its signing secret, and every delivery it made.

A delivery is stored whole before anything is done with it (its body verbatim) and
applied from the event log; its status says how it ended. The platform's own delivery
id is unique per integration, so a redelivery is recognised before any work.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

__all__ = ["DeliveryStatus", "HookDelivery", "Integration", "IntegrationKind"]


class IntegrationKind(StrEnum):
    SHOPIFY = "SHOPIFY"
    WOOCOMMERCE = "WOOCOMMERCE"
    LAUREL = "LAUREL"  # the generic format, signed per the Standard Webhooks spec


class DeliveryStatus(StrEnum):
    RECEIVED = "RECEIVED"  # stored and verified, not applied yet
    APPLIED = "APPLIED"  # its orders, refunds or customers are in the ledger
    DUPLICATE = "DUPLICATE"  # everything in it had been applied already (another delivery)
    HELD = "HELD"  # a refund or cancellation of an order not received yet
    REJECTED = "REJECTED"  # not applicable: the reason says why
    IGNORED = "IGNORED"  # a topic or status Laurel does not act on


class Integration(Model):
    id = fields.BigIntField(primary_key=True)
    kind = fields.CharEnumField(IntegrationKind, max_length=16)
    name = fields.CharField(max_length=100)
    secret = fields.CharField(max_length=200)
    # After a rotation the old secret stays valid until ``previous_until``.
    previous_secret = fields.CharField(max_length=200, null=True)
    previous_until = fields.DatetimeField(null=True)
    enabled = fields.BooleanField(default=True)
    bad_signatures = fields.BigIntField(default=0)  # deliveries refused: nothing else kept
    created_by = fields.CharField(max_length=120)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "integrations"


class HookDelivery(Model):
    id = fields.BigIntField(primary_key=True)
    integration: fields.ForeignKeyRelation[Integration] = fields.ForeignKeyField(
        "laurel.Integration", related_name="deliveries", on_delete=fields.RESTRICT
    )
    integration_id: int
    delivery_id = fields.CharField(max_length=200)  # the platform's
    topic = fields.CharField(max_length=64)
    body: Any = fields.JSONField()
    status = fields.CharEnumField(DeliveryStatus, max_length=16, default=DeliveryStatus.RECEIVED)
    reason = fields.TextField(null=True)
    # The order a held refund waits for (applied when that order arrives).
    order_ref = fields.CharField(max_length=128, null=True, db_index=True)
    received_at = fields.DatetimeField()
    applied_at = fields.DatetimeField(null=True)

    class Meta:
        table = "hook_deliveries"
        unique_together = (("integration", "delivery_id"),)
        indexes = (("status", "id"),)
