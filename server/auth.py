"""Who is calling: API keys (hashed, role-scoped) and shopper JWTs -> ``Principal``.

API keys look like ``lrl_<prefix>_<secret>``; only the prefix (for lookup) and
a SHA-256 of the whole key are stored. The key has 192 bits of randomness, so a
fast hash is enough. Every request looks its key up in the database (no copy is
kept in a process), so a key revoked on one worker is refused by all of them at
the next request. Shopper tokens are HS256 JWTs whose ``sub`` is the member's
external id.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import jwt

from server.rewards import validation as v
from server.rewards.errors import Invalid, NotFound
from server.rewards.members import Member
from server.rewards.staff import ApiKey, StaffRole
from server.rewards.text import Text, msg

__all__ = [
    "ANONYMOUS",
    "AuthError",
    "Principal",
    "Role",
    "authenticate",
    "create_api_key",
    "issue_api_key",
    "issue_member_token",
    "key_still_valid",
    "lookup_prefix",
    "public_prefix",
]

_KEY_PREFIX = "lrl_"
_LOOKUP_PREFIX = re.compile(r"[0-9a-f]{12}")  # what keys are made with (the column's length)
_JWT_ALGORITHM = "HS256"
_JWT_AUDIENCE = "laurel:shopper"


class Role(StrEnum):
    ANONYMOUS = "ANONYMOUS"
    SHOPPER = "SHOPPER"
    SERVICE = "SERVICE"
    MODERATOR = "MODERATOR"
    ADMIN = "ADMIN"


STAFF_ROLES = frozenset({Role.SERVICE, Role.MODERATOR, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller. ``member_id`` is set for shoppers; ``name`` identifies staff keys.

    ``key_id`` and ``shared_scope`` come from the API key; staff principals made in
    code (CLI jobs, the demo seed) have neither.
    """

    role: Role
    member_id: int | None = None
    name: str = ""
    key_id: int | None = None
    shared_scope: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def actor(self) -> str:
        """How the ledger records who did it."""
        if self.role is Role.SHOPPER:
            return f"member:{self.member_id}"
        return f"{self.role.value.lower()}:{self.name}"

    @property
    def idempotency_scope(self) -> str:
        """Whose idempotency keys these are: one shopper, one API key, or a scope that
        API keys were explicitly given to share. Staff without a key (CLI jobs) share
        ``staff``, the scope every staff caller had before keys were scoped per key."""
        if self.role is Role.SHOPPER:
            return f"m{self.member_id}"
        if self.shared_scope:
            return f"s-{self.shared_scope}"
        if self.key_id is not None:
            return f"k{self.key_id}"
        return "staff"


ANONYMOUS = Principal(role=Role.ANONYMOUS)


class AuthError(Exception):
    """Credentials were given but are wrong or expired (HTTP 401); ``text`` says which."""

    def __init__(self, text: Text) -> None:
        super().__init__(str(text))
        self.text = text


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def public_prefix(prefix: str) -> str:
    """What lists show of a key with the stored ``prefix``: ``lrl_<prefix>``, the key's
    first 16 characters, so that its holder can tell which one it is."""
    return f"{_KEY_PREFIX}{prefix}"


def lookup_prefix(given: str) -> str | None:
    """The stored prefix that a key names: given whole (``lrl_<prefix>_<secret>``), as
    lists show it (``lrl_<prefix>``, with or without a trailing ellipsis) or bare; None
    when it cannot name one."""
    text = given.strip().rstrip("\u2026")
    text = text.removeprefix(_KEY_PREFIX)
    prefix = text.split("_", 1)[0]
    return prefix if _LOOKUP_PREFIX.fullmatch(prefix) else None


async def issue_api_key(
    role: StaffRole, name: str, *, idempotency_scope: str | None = None
) -> tuple[ApiKey, str]:
    """Create a key: its row and the key itself, which is never shown again.

    Keys created with the same ``idempotency_scope`` see each other's idempotency keys
    (a retry through another key replays); without one, a key sees only its own.
    """
    name = v.clean_text("name", name, max_length=100, display=True)
    if idempotency_scope is not None and not re.fullmatch(r"[a-z0-9-]{1,64}", idempotency_scope):
        raise Invalid("idempotencyScope", msg("An idempotency scope is 1 to 64 of a-z, 0-9 and -."))
    prefix = secrets.token_hex(6)
    key = f"{_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(24)}"
    row = await ApiKey.create(
        name=name,
        role=role,
        prefix=prefix,
        key_hash=_hash_key(key),
        idempotency_scope=idempotency_scope,
    )
    return row, key


async def create_api_key(
    role: StaffRole, name: str, *, idempotency_scope: str | None = None
) -> str:
    """``issue_api_key``, for callers that only hand the key on (CLI, tests, the demo)."""
    _, key = await issue_api_key(role, name, idempotency_scope=idempotency_scope)
    return key


async def issue_member_token(
    external_id: str, secret: str, *, ttl: timedelta, now: datetime | None = None
) -> str:
    """A shopper token for an existing member."""
    if not await Member.filter(external_id=external_id).exists():
        raise NotFound(msg("No member with external id {external_id!r}.", external_id=external_id))
    issued = now or datetime.now(UTC)
    claims = {
        "sub": external_id,
        "aud": _JWT_AUDIENCE,
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=_JWT_ALGORITHM)


async def authenticate(authorization: str | None, secret: str) -> Principal:
    """The principal for an ``Authorization`` header value; ANONYMOUS when absent.

    Raises ``AuthError`` for anything given that does not check out, so that a
    request with bad credentials never runs as anonymous.
    """
    if authorization is None or not authorization.strip():
        return ANONYMOUS
    scheme, _, credential = authorization.strip().partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        raise AuthError(msg("Use 'Authorization: Bearer <API key or member token>'."))
    if credential.startswith(_KEY_PREFIX):
        return await _api_key_principal(credential)
    return await _token_principal(credential, secret)


async def key_still_valid(principal: Principal) -> bool:
    """Whether the API key a principal was made from is still unrevoked (True for any
    other principal). For connections that outlive the request that authenticated them
    (a WebSocket): they ask again before each operation."""
    if principal.key_id is None:
        return True
    found = ApiKey.filter(id=principal.key_id, revoked_at__isnull=True)
    return bool(await found.exists())


async def _api_key_principal(key: str) -> Principal:
    # Always from the table, never from a copy: a revocation holds at the next request.
    prefix = lookup_prefix(key)
    row = (
        None
        if prefix is None
        else await ApiKey.filter(prefix=prefix, revoked_at__isnull=True).first()
    )
    if row is None or not hmac.compare_digest(row.key_hash, _hash_key(key)):
        raise AuthError(msg("Unknown or revoked API key."))
    return Principal(
        role=Role(row.role.value),
        name=row.name,
        key_id=row.id,
        shared_scope=row.idempotency_scope,
    )


async def _token_principal(token: str, secret: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[_JWT_ALGORITHM],
            audience=_JWT_AUDIENCE,
            options={"require": ["sub", "exp", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise AuthError(msg("The member token has expired.")) from None
    except jwt.InvalidTokenError:
        raise AuthError(msg("The member token is not valid.")) from None
    found = await Member.get_or_none(external_id=str(claims["sub"]))
    if found is None:
        raise AuthError(msg("The member token names no member."))
    return Principal(role=Role.SHOPPER, member_id=found.id, name=found.external_id)
