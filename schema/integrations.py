"""Integrations: the shop platforms that send orders, refunds and customers (ADMIN)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from schema.context import Info
from schema.errors import NotFoundError, PermissionDeniedError, ValidationError
from schema.runner import caller, field, mutation
from server import actions
from server.rewards.integrations import DeliveryStatus as StatusRow
from server.rewards.integrations import HookDelivery as DeliveryRow
from server.rewards.integrations import Integration as IntegrationRow
from server.rewards.integrations import IntegrationKind as KindRow

__all__ = ["IntegrationMutations", "IntegrationQueries"]


@strawberry.enum(description="Where deliveries come from, and so how they are signed.")
class IntegrationKind(Enum):
    SHOPIFY = "SHOPIFY"
    WOOCOMMERCE = "WOOCOMMERCE"
    LAUREL = "LAUREL"


@strawberry.enum(description="How a delivery ended (RECEIVED: stored, being applied).")
class DeliveryStatus(Enum):
    RECEIVED = "RECEIVED"
    APPLIED = "APPLIED"
    DUPLICATE = "DUPLICATE"
    HELD = "HELD"
    REJECTED = "REJECTED"
    IGNORED = "IGNORED"


@strawberry.type(description="A shop platform sending webhooks to /hooks/<kind>.")
class Integration:
    id: strawberry.ID
    kind: IntegrationKind
    name: str
    enabled: bool
    bad_signatures: int = strawberry.field(
        description="Deliveries refused for a wrong signature (nothing else is kept of them)."
    )
    previous_secret_valid_until: datetime | None = strawberry.field(
        description="After a rotation: until when the old secret is still accepted."
    )
    hook_path: str = strawberry.field(description="Where the platform sends its webhooks.")
    created_at: datetime

    @classmethod
    def of(cls, row: IntegrationRow) -> Integration:
        return cls(
            id=strawberry.ID(str(row.id)),
            kind=IntegrationKind(row.kind.value),
            name=row.name,
            enabled=row.enabled,
            bad_signatures=row.bad_signatures,
            previous_secret_valid_until=row.previous_until if row.previous_secret else None,
            hook_path=f"/hooks/{row.kind.value.lower()}",
            created_at=row.created_at,
        )


@strawberry.type(description="One delivery received from an integration.")
class HookDelivery:
    id: strawberry.ID
    delivery_id: str = strawberry.field(description="The platform's id of the delivery.")
    topic: str
    status: DeliveryStatus
    reason: str | None
    received_at: datetime
    applied_at: datetime | None

    @classmethod
    def of(cls, row: DeliveryRow) -> HookDelivery:
        return cls(
            id=strawberry.ID(str(row.id)),
            delivery_id=row.delivery_id,
            topic=row.topic,
            status=DeliveryStatus(row.status.value),
            reason=row.reason,
            received_at=row.received_at,
            applied_at=row.applied_at,
        )


@strawberry.type(description="The integration and its secret, shown this once.")
class IntegrationSecret:
    integration: Integration
    secret: str


IntegrationSecretResult = Annotated[
    IntegrationSecret | ValidationError | NotFoundError | PermissionDeniedError,
    strawberry.union("IntegrationSecretResult"),
]


@strawberry.input
class CreateIntegrationInput:
    kind: IntegrationKind
    name: str
    secret: str | None = strawberry.field(
        default=None,
        description="Shopify: the key Shopify signs with (required). Others: omit it and "
        "Laurel makes one.",
    )


@strawberry.input
class RotateIntegrationSecretInput:
    integration_id: strawberry.ID
    secret: str | None = None
    grace_hours: int = strawberry.field(
        default=24, description="How long the old secret stays valid (0 to 168)."
    )


@strawberry.type
class IntegrationQueries:
    @field(description="ADMIN: every integration (secrets are never shown again).")
    async def integrations(self, info: Info) -> list[Integration]:
        return [Integration.of(r) for r in await actions.integrations(info.context.principal)]

    @field(description="ADMIN: an integration's deliveries, newest first.")
    async def hook_deliveries(
        self,
        info: Info,
        integration_id: strawberry.ID,
        status: DeliveryStatus | None = None,
        first: int = 50,
    ) -> list[HookDelivery]:
        svc, principal = caller(info)
        rows = await actions.hook_deliveries(
            svc,
            principal,
            str(integration_id),
            status=None if status is None else StatusRow(status.value),
            first=first,
        )
        return [HookDelivery.of(r) for r in rows]


@strawberry.type
class IntegrationMutations:
    @mutation(description="ADMIN: a new integration; its secret is shown this once.")
    async def create_integration(
        self, info: Info, input: CreateIntegrationInput
    ) -> IntegrationSecretResult:
        row, secret = await actions.create_integration(
            info.context.principal, KindRow(input.kind.value), input.name, input.secret
        )
        return IntegrationSecret(integration=Integration.of(row), secret=secret)

    @mutation(description="ADMIN: a new secret; the old one stays valid for graceHours.")
    async def rotate_integration_secret(
        self, info: Info, input: RotateIntegrationSecretInput
    ) -> IntegrationSecretResult:
        svc, principal = caller(info)
        row, secret = await actions.rotate_integration_secret(
            svc,
            principal,
            str(input.integration_id),
            secret=input.secret,
            grace_hours=input.grace_hours,
        )
        return IntegrationSecret(integration=Integration.of(row), secret=secret)
