"""API keys of the shop's backend and its staff, managed by an ADMIN: list, create, revoke.

A key's secret is shown once, by ``create_api_key``, and never again: only its hash is
stored. Revoking sets ``revoked_at`` with one conditional UPDATE, so revoking twice (or
two admins at once) keeps the first time; every request looks its key up in the
database (``server.auth``), so a revoked key is refused by every worker at its next
request, and an open WebSocket at its next operation. An ADMIN may revoke the key they
are calling with, even the last ADMIN key: ``laurel create-api-key`` on the server
makes a new one (docs/decisions/0033).
"""

from __future__ import annotations

from server.actions.common import find_by_id, require
from server.actions.services import Services
from server.auth import Principal, Role, issue_api_key, lookup_prefix
from server.rewards import validation as v
from server.rewards.errors import NotFound
from server.rewards.staff import ApiKey, StaffRole
from server.rewards.text import msg

__all__ = ["api_keys", "create_api_key", "revoke_api_key", "revoke_api_key_by_prefix"]


async def api_keys(principal: Principal) -> list[ApiKey]:
    """ADMIN: every key, revoked ones too, newest first (secrets are never shown again)."""
    require(principal, Role.ADMIN)
    return await ApiKey.all().order_by("-id")


async def create_api_key(
    principal: Principal, role: StaffRole, name: str, *, idempotency_scope: str | None = None
) -> tuple[ApiKey, str]:
    """ADMIN: a new key (its row, and the key itself, shown this once)."""
    require(principal, Role.ADMIN)
    return await issue_api_key(role, name, idempotency_scope=idempotency_scope)


async def revoke_api_key(svc: Services, principal: Principal, key_id: str) -> tuple[ApiKey, bool]:
    """ADMIN: the key with id ``key_id`` revoked, and whether this call revoked it (False:
    it already was, and keeps its first ``revoked_at``)."""
    require(principal, Role.ADMIN)
    row = await find_by_id(ApiKey, "id", key_id, "API key")
    return await _revoke(svc, row)


async def revoke_api_key_by_prefix(
    svc: Services, principal: Principal, given: str
) -> tuple[ApiKey, bool]:
    """ADMIN: ``revoke_api_key`` for the key a prefix names, as lists show it
    (``lrl_<prefix>``), bare, or the whole key."""
    require(principal, Role.ADMIN)
    prefix = lookup_prefix(given)
    row = None if prefix is None else await ApiKey.get_or_none(prefix=prefix)
    if row is None:
        raise NotFound(msg("No API key starts with {given}.", given=v.excerpt(given.strip(), 16)))
    return await _revoke(svc, row)


async def _revoke(svc: Services, row: ApiKey) -> tuple[ApiKey, bool]:
    changed = await ApiKey.filter(id=row.id, revoked_at__isnull=True).update(revoked_at=svc.clock())
    await row.refresh_from_db()
    return row, bool(changed)
