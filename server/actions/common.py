"""Small helpers the use cases share: role checks, idempotency, ids, pages and cursors."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from tortoise.models import Model

from badges import Grant, grants_of_activity
from server.actions.services import Services
from server.auth import Principal, Role
from server.rewards import validation as v
from server.rewards.activities import Activity
from server.rewards.errors import Conflict, Invalid, NotFound, PermissionDenied
from server.rewards.text import Text, msg

__all__ = [
    "Keyed",
    "Recorded",
    "activity_replay",
    "decode_cursor",
    "encode_cursor",
    "find_by_id",
    "page_size",
    "require",
    "same_request",
    "scoped_key",
    "stored_under",
]


M = TypeVar("M", bound=Model)


@dataclass(frozen=True, slots=True)
class Recorded:
    """An activity recorded or decided: the points it moved and the badge levels it granted."""

    activity: Activity
    points_awarded: int
    duplicate: bool
    badges: tuple[Grant, ...] = ()


def require(principal: Principal, *roles: Role) -> None:
    """``PermissionDenied`` unless the caller has one of ``roles``."""
    if principal.role not in roles:
        allowed: Text | str = roles[0].value
        for role in roles[1:]:
            allowed = msg("{left} or {right}", left=allowed, right=role.value)
        raise PermissionDenied(msg("This needs the {allowed} role.", allowed=allowed))


@dataclass(frozen=True, slots=True)
class Keyed(Generic[M]):
    """An idempotency key made unique for its caller (``scoped_key``) and, when finding
    it took a read, the row already stored under it (``looked``): a replay check then
    needs no read of its own. ``Keyed(key)`` is read again (after a concurrent request
    took the key)."""

    key: str
    looked: bool = False
    found: M | None = None


async def stored_under(model: type[M], keyed: Keyed[M]) -> M | None:
    """The row of ``model`` stored under the key: the one read with it, else read now."""
    if keyed.looked:
        return keyed.found
    return await model.get_or_none(idempotency_key=keyed.key)


async def scoped_key(
    operation: str, principal: Principal, key: str, stored_in: type[M]
) -> Keyed[M]:
    """The caller's idempotency key made unique per operation and caller: one shopper, one
    API key, or the scope keys were explicitly made to share (docs/decisions/0022).

    Before that, every staff caller shared ``staff``: a key an API key used then, found
    in ``stored_in``, keeps replaying its first result. Looking for it reads the rows
    under both keys at once, so the replay check that follows reads nothing more.
    """
    clean = v.idempotency_key(key)
    scoped = f"{operation}:{principal.idempotency_scope}:{clean}"
    if not principal.is_staff or principal.idempotency_scope == "staff":
        return Keyed(scoped)
    legacy = f"{operation}:staff:{clean}"
    rows = await stored_in.filter(idempotency_key__in=[legacy, scoped])
    by_key = {cast(Any, row).idempotency_key: row for row in rows}
    if legacy in by_key:
        return Keyed(legacy, looked=True, found=by_key[legacy])
    return Keyed(scoped, looked=True, found=by_key.get(scoped))


def same_request(stored_hash: str, request_hash: str) -> None:
    """``Conflict`` when a reused idempotency key comes with different input."""
    if stored_hash != request_hash:
        raise Conflict(msg("This idempotency key was already used with different input."))


async def activity_replay(keyed: Keyed[Activity], request_hash: str) -> Recorded | None:
    """The first result of an activity already recorded under the key; None if there is none."""
    activity = await stored_under(Activity, keyed)
    if activity is None:
        return None
    same_request(activity.request_hash, request_hash)
    return Recorded(
        activity=activity,
        points_awarded=activity.points_awarded,
        duplicate=True,
        badges=tuple(await grants_of_activity(activity.id)),
    )


def _no_such(noun: str, raw_id: str) -> Text:
    """ "No member with id '7'." in the caller's words: one message per kind of thing."""
    known = {
        "member": msg("No member with id {id!r}.", id=raw_id),
        "activity": msg("No activity with id {id!r}.", id=raw_id),
        "contest": msg("No contest with id {id!r}.", id=raw_id),
        "prize": msg("No prize with id {id!r}.", id=raw_id),
        "redemption": msg("No redemption with id {id!r}.", id=raw_id),
        "integration": msg("No integration with id {id!r}.", id=raw_id),
        "API key": msg("No API key with id {id!r}.", id=raw_id),
        "webhook endpoint": msg("No webhook endpoint with id {id!r}.", id=raw_id),
        "webhook message": msg("No webhook message with id {id!r}.", id=raw_id),
    }
    return known.get(noun) or msg("No {noun} with id {id!r}.", noun=noun, id=raw_id)


async def find_by_id(model: type[M], field: str, raw_id: str, noun: str) -> M:
    """The row with the id a client gave in ``field``; ``NotFound`` when there is none."""
    pk = v.parse_id(field, raw_id)
    found = None if pk is None else await model.get_or_none(id=pk)
    if found is None:
        raise NotFound(_no_such(noun, raw_id))
    return found


def page_size(svc: Services, field: str, first: int) -> int:
    """``first`` when it is within the configured page size; else ``Invalid(field)``."""
    if not 1 <= first <= svc.max_page_size:
        raise Invalid(
            field, msg("{field} must be between 1 and {most}.", field=field, most=svc.max_page_size)
        )
    return first


def encode_cursor(kind: str, row_id: int) -> str:
    """An opaque cursor for the row ``row_id`` of a ``kind`` of list."""
    return base64.urlsafe_b64encode(f"{kind}:{row_id}".encode()).decode()


def decode_cursor(kind: str, after: str) -> int:
    """The row id in a cursor made by ``encode_cursor(kind, ...)``; else ``Invalid('after')``."""
    try:
        found, _, raw = base64.urlsafe_b64decode(after.encode()).decode().partition(":")
        row_id = v.parse_id("after", raw) if found == kind else None
        if row_id is not None:
            return row_id
    except ValueError:
        pass
    raise Invalid("after", msg("after is not a cursor from this list."))
