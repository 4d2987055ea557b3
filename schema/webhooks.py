"""Outgoing webhooks: the shop's endpoints and their delivery log (ADMIN)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from schema.context import Info
from schema.errors import NotFoundError, PermissionDeniedError, ValidationError
from schema.runner import caller, field, mutation
from server import actions
from server.rewards.webhooks import MessageStatus as StatusRow
from server.rewards.webhooks import WebhookEndpoint as EndpointRow
from server.rewards.webhooks import WebhookMessage as MessageRow

__all__ = ["WebhookMutations", "WebhookQueries"]


@strawberry.enum(description="Where a webhook message stands.")
class WebhookMessageStatus(Enum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


@strawberry.type(description="A URL of the shop's that receives events, signed.")
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    events: list[str]
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    previous_secret_valid_until: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, row: EndpointRow) -> WebhookEndpoint:
        return cls(
            id=strawberry.ID(str(row.id)),
            url=row.url,
            events=list(row.events),
            enabled=row.enabled,
            disabled_reason=row.disabled_reason,
            failing_since=row.failing_since,
            previous_secret_valid_until=row.previous_until if row.previous_secret else None,
            created_at=row.created_at,
        )


@strawberry.type(description="One event sent (or to send) to one endpoint.")
class WebhookMessage:
    id: strawberry.ID
    message_id: str = strawberry.field(description="Its webhook-id header, the same on retries.")
    type: str
    payload: JSON
    status: WebhookMessageStatus
    attempts: int
    next_attempt_at: datetime
    last_status: int | None = strawberry.field(description="The endpoint's last HTTP status.")
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, row: MessageRow) -> WebhookMessage:
        return cls(
            id=strawberry.ID(str(row.id)),
            message_id=row.message_id,
            type=row.type,
            payload=row.payload,
            status=WebhookMessageStatus(row.status.value),
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at,
            last_status=row.last_status,
            last_error=row.last_error,
            created_at=row.created_at,
            delivered_at=row.delivered_at,
        )


@strawberry.type(description="The endpoint and its signing secret, shown this once.")
class WebhookEndpointSecret:
    endpoint: WebhookEndpoint
    secret: str


@strawberry.type
class WebhookEndpointSaved:
    endpoint: WebhookEndpoint


@strawberry.type
class WebhookRedelivered:
    message: WebhookMessage


_Failures = ValidationError | NotFoundError | PermissionDeniedError
WebhookSecretResult = Annotated[
    WebhookEndpointSecret | _Failures, strawberry.union("WebhookSecretResult")
]
WebhookEndpointResult = Annotated[
    WebhookEndpointSaved | _Failures, strawberry.union("WebhookEndpointResult")
]
RedeliverWebhookResult = Annotated[
    WebhookRedelivered | _Failures, strawberry.union("RedeliverWebhookResult")
]


@strawberry.input
class CreateWebhookEndpointInput:
    url: str
    events: list[str] = strawberry.field(
        description="Any of member.created, points.earned, points.spent, points.expiring, "
        "points.expired, badge.awarded, badge.revoked, tier.changed, redemption.created, "
        "redemption.cancelled, contest.finalized, activity.flagged."
    )


@strawberry.input
class UpdateWebhookEndpointInput:
    endpoint_id: strawberry.ID
    url: str | None = None
    events: list[str] | None = None
    enabled: bool | None = None


@strawberry.input
class RotateWebhookSecretInput:
    endpoint_id: strawberry.ID
    grace_hours: int = 24


@strawberry.type
class WebhookQueries:
    @field(description="ADMIN: the webhook endpoints (secrets are never shown again).")
    async def webhook_endpoints(self, info: Info) -> list[WebhookEndpoint]:
        rows = await actions.webhook_endpoints(info.context.principal)
        return [WebhookEndpoint.of(r) for r in rows]

    @field(description="ADMIN: an endpoint's messages, newest first.")
    async def webhook_messages(
        self,
        info: Info,
        endpoint_id: strawberry.ID,
        status: WebhookMessageStatus | None = None,
        first: int = 50,
    ) -> list[WebhookMessage]:
        svc, principal = caller(info)
        rows = await actions.webhook_messages(
            svc,
            principal,
            str(endpoint_id),
            status=None if status is None else StatusRow(status.value),
            first=first,
        )
        return [WebhookMessage.of(r) for r in rows]


@strawberry.type
class WebhookMutations:
    @mutation(description="ADMIN: a new endpoint; its secret is shown this once.")
    async def create_webhook_endpoint(
        self, info: Info, input: CreateWebhookEndpointInput
    ) -> WebhookSecretResult:
        row, secret = await actions.create_webhook_endpoint(*caller(info), input.url, input.events)
        return WebhookEndpointSecret(endpoint=WebhookEndpoint.of(row), secret=secret)

    @mutation(description="ADMIN: change an endpoint's URL or events, or disable/enable it.")
    async def update_webhook_endpoint(
        self, info: Info, input: UpdateWebhookEndpointInput
    ) -> WebhookEndpointResult:
        row = await actions.update_webhook_endpoint(
            *caller(info),
            str(input.endpoint_id),
            url=input.url,
            events=input.events,
            enabled=input.enabled,
        )
        return WebhookEndpointSaved(endpoint=WebhookEndpoint.of(row))

    @mutation(description="ADMIN: a new secret; both sign messages for graceHours.")
    async def rotate_webhook_secret(
        self, info: Info, input: RotateWebhookSecretInput
    ) -> WebhookSecretResult:
        row, secret = await actions.rotate_webhook_secret(
            *caller(info), str(input.endpoint_id), grace_hours=input.grace_hours
        )
        return WebhookEndpointSecret(endpoint=WebhookEndpoint.of(row), secret=secret)

    @mutation(description="ADMIN: send a message again now, with the same webhook-id.")
    async def redeliver_webhook(self, info: Info, id: strawberry.ID) -> RedeliverWebhookResult:
        row = await actions.redeliver_webhook(*caller(info), str(id))
        return WebhookRedelivered(message=WebhookMessage.of(row))
