"""One runner for every resolver that calls a use case.

A mutation resolver is only "call the use case, map the success"; the use case
authorizes. ``mutation`` turns the expected failures (``RewardsError``) into the
member of the resolver's union result in this one place, the way Saleor's
``BaseMutation.mutate`` wraps every ``perform_mutation``. A failure whose error
type is not in the union is a bug: it is raised, so it is logged and masked.

``field`` does the same for query fields, which have no union: a failure becomes a
GraphQL error with ``extensions.code`` (``query_error``).
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import strawberry

from schema.context import Context, Info
from schema.errors import Error, as_error, query_error
from server.actions import BoardsUnavailable, Services
from server.auth import Principal
from server.rewards.errors import RewardsError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["arguments", "caller", "field", "mutation"]

Resolver = Callable[..., Awaitable[object]]


@functools.cache
def _union_members(resolver: Resolver) -> tuple[type, ...]:
    """The object types of the resolver's declared union result."""
    hint = typing.get_type_hints(resolver, include_extras=True)["return"]
    union = typing.get_args(hint)[0] if typing.get_origin(hint) is typing.Annotated else hint
    return tuple(t for t in typing.get_args(union) if isinstance(t, type))


def mutation(*, description: str) -> Callable[[Resolver], Any]:
    """``strawberry.mutation`` whose expected failures become union members."""

    def decorate(resolver: Resolver) -> Any:
        @functools.wraps(resolver)
        async def run(*args: Any, **kwargs: Any) -> object:
            _forget_reads([*args, *kwargs.values()])
            try:
                return await resolver(*args, **kwargs)
            except RewardsError as exc:
                error: Error = as_error(exc)
                # The union is read on the first failure: annotations resolve lazily.
                if not isinstance(error, _union_members(resolver)):
                    raise  # a failure the result type does not declare: a bug
                return error

        return strawberry.mutation(description=description)(run)

    return decorate


def _forget_reads(arguments: list[object]) -> None:
    """Mutations of one document run one after another: each starts with empty loaders,
    so its result never shows what a previous one read before it changed things."""
    for given in arguments:
        context = getattr(given, "context", None)
        if isinstance(context, Context):
            context.loaders.clear()


def field(*, description: str | None = None) -> Callable[[Resolver], Any]:
    """``strawberry.field`` whose bad input or unavailable boards become GraphQL errors."""

    def decorate(resolver: Resolver) -> Any:
        @functools.wraps(resolver)
        async def run(*args: Any, **kwargs: Any) -> object:
            try:
                return await resolver(*args, **kwargs)
            except (RewardsError, BoardsUnavailable) as exc:
                raise query_error(exc) from None

        return strawberry.field(description=description)(run)

    return decorate


def arguments(
    input: DataclassInstance, *, without: tuple[str, ...] = (), **changed: object
) -> dict[str, Any]:
    """An input object's fields as the use case's keyword arguments: the input types
    name their fields as the use cases name their parameters. ``changed`` replaces
    those that need converting (enums, decimals); ``without`` leaves some out."""
    values = {f.name: getattr(input, f.name) for f in dataclasses.fields(input)}
    values.update(changed)
    return {name: value for name, value in values.items() if name not in without}


def caller(info: Info) -> tuple[Services, Principal]:
    """The first two arguments of most use cases: the process's services and the caller."""
    return info.context.services, info.context.principal
