"""Typed errors: expected failures are values in union results, not exceptions.

``as_error`` turns a domain failure into its GraphQL type; ``query_error``
turns one met by a query field (no union there) into a GraphQL error with
``extensions.code``, which MaskErrors lets through. Both write the message in the
caller's language (``Accept-Language``, ``server.i18n``); ``field`` stays the API's name.
"""

from __future__ import annotations

import strawberry
from graphql import GraphQLError

from server.actions import BoardsUnavailable
from server.i18n import render
from server.rewards import errors as domain

__all__ = [
    "ConflictError",
    "Error",
    "InsufficientPointsError",
    "LimitReachedError",
    "NotFoundError",
    "OutOfStockError",
    "PermissionDeniedError",
    "ValidationError",
    "as_error",
    "query_error",
]


@strawberry.interface
class Error:
    message: str


@strawberry.type
class ValidationError(Error):
    message: str
    field: str | None = strawberry.field(
        default=None, description="The input field at fault, as the client spelled it."
    )


@strawberry.type
class NotFoundError(Error):
    message: str


@strawberry.type
class PermissionDeniedError(Error):
    message: str


@strawberry.type
class InsufficientPointsError(Error):
    message: str
    balance: int
    required: int


@strawberry.type
class OutOfStockError(Error):
    message: str


@strawberry.type(
    description="A cap was reached: a daily earning cap, a per-member prize limit, "
    "a referral limit."
)
class LimitReachedError(Error):
    message: str


@strawberry.type(
    description="The operation conflicts with current state, or an idempotency key was "
    "reused with different input."
)
class ConflictError(Error):
    message: str


def as_error(exc: domain.RewardsError) -> Error:
    """The typed error for a domain failure."""
    message = render(exc.text)
    if isinstance(exc, domain.Invalid):
        return ValidationError(message=message, field=exc.field)
    if isinstance(exc, domain.InsufficientPoints):
        return InsufficientPointsError(message=message, balance=exc.balance, required=exc.required)
    kinds: dict[type[domain.RewardsError], type[Error]] = {
        domain.NotFound: NotFoundError,
        domain.PermissionDenied: PermissionDeniedError,
        domain.Conflict: ConflictError,
        domain.LimitReached: LimitReachedError,
        domain.OutOfStock: OutOfStockError,
    }
    return kinds[type(exc)](message=message)


def query_error(exc: domain.RewardsError | BoardsUnavailable) -> GraphQLError:
    """A GraphQL error for a query field's bad input or a dependency that is down."""
    if isinstance(exc, BoardsUnavailable):
        return GraphQLError(render(exc.text), extensions={"code": "SERVICE_UNAVAILABLE"})
    if isinstance(exc, domain.PermissionDenied):
        return GraphQLError(render(exc.text), extensions={"code": "FORBIDDEN"})
    extensions: dict[str, object] = {"code": "BAD_USER_INPUT"}
    if isinstance(exc, domain.Invalid):
        extensions["field"] = exc.field
    return GraphQLError(render(exc.text), extensions=extensions)
