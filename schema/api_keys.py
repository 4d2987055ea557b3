"""API keys of the shop's backend and its staff (ADMIN): list, create, revoke."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from schema.context import Info
from schema.errors import NotFoundError, PermissionDeniedError, ValidationError
from schema.runner import caller, field, mutation
from server.actions import staff_keys
from server.auth import public_prefix
from server.rewards.staff import ApiKey as ApiKeyRow
from server.rewards.staff import StaffRole as StaffRoleRow

__all__ = ["ApiKeyMutations", "ApiKeyQueries"]


@strawberry.enum(description="What a key may do: the role table in the README.")
class StaffRole(Enum):
    SERVICE = "SERVICE"
    MODERATOR = "MODERATOR"
    ADMIN = "ADMIN"


@strawberry.type(description="A key of the shop's backend or of staff; its secret is not kept.")
class ApiKey:
    id: strawberry.ID
    name: str
    role: StaffRole
    prefix: str = strawberry.field(
        description="The key's first characters (lrl_ and 12 hex digits), to tell it apart."
    )
    idempotency_scope: str | None = strawberry.field(
        description="Keys given one scope replay each other's idempotency keys."
    )
    created_at: datetime
    revoked_at: datetime | None = strawberry.field(
        description="Since when the key is refused (401); null while it works."
    )

    @classmethod
    def of(cls, row: ApiKeyRow) -> ApiKey:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            role=StaffRole(row.role.value),
            prefix=public_prefix(row.prefix),
            idempotency_scope=row.idempotency_scope,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
        )


@strawberry.type(description="The new key, and its secret: shown this once, never again.")
class ApiKeyCreated:
    api_key: ApiKey
    secret: str = strawberry.field(description="The whole key, for Authorization: Bearer.")


@strawberry.type(description="The key, revoked (revoking it again changes nothing).")
class ApiKeyRevoked:
    api_key: ApiKey


CreateApiKeyResult = Annotated[
    ApiKeyCreated | ValidationError | PermissionDeniedError,
    strawberry.union("CreateApiKeyResult"),
]
RevokeApiKeyResult = Annotated[
    ApiKeyRevoked | ValidationError | NotFoundError | PermissionDeniedError,
    strawberry.union("RevokeApiKeyResult"),
]


@strawberry.input
class CreateApiKeyInput:
    name: str = strawberry.field(description="Who uses it, e.g. 'shop backend' (1 to 100).")
    role: StaffRole
    idempotency_scope: str | None = strawberry.field(
        default=None,
        description="Share idempotency keys with the keys given this scope (a-z, 0-9, -): "
        "the old and the new key of a rotation.",
    )


@strawberry.input
class RevokeApiKeyInput:
    id: strawberry.ID


@strawberry.type
class ApiKeyQueries:
    @field(description="ADMIN: every API key, revoked ones too, newest first.")
    async def api_keys(self, info: Info) -> list[ApiKey]:
        return [ApiKey.of(r) for r in await staff_keys.api_keys(info.context.principal)]


@strawberry.type
class ApiKeyMutations:
    @mutation(description="ADMIN: a new API key; its secret is shown this once.")
    async def create_api_key(self, info: Info, input: CreateApiKeyInput) -> CreateApiKeyResult:
        row, secret = await staff_keys.create_api_key(
            info.context.principal,
            StaffRoleRow(input.role.value),
            input.name,
            idempotency_scope=input.idempotency_scope,
        )
        return ApiKeyCreated(api_key=ApiKey.of(row), secret=secret)

    @mutation(
        description="ADMIN: refuse the key from the next request on, on every worker "
        "(your own key too). Revoking a revoked key answers it unchanged."
    )
    async def revoke_api_key(self, info: Info, input: RevokeApiKeyInput) -> RevokeApiKeyResult:
        svc, principal = caller(info)
        row, _ = await staff_keys.revoke_api_key(svc, principal, str(input.id))
        return ApiKeyRevoked(api_key=ApiKey.of(row))
