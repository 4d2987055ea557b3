"""One runner for every resolver that calls a use case.

A mutation resolver is only "call the use case, map the success"; the use case
authorizes. ``mutation`` turns the expected failures (``RewardsError``) into the
member of the resolver's union result in this one place, the way Saleor's
``BaseMutation.mutate`` wraps every ``perform_mutation``. A failure whose error
type is not in the union is a bug: it is raised, so it is logged and masked.

``field`` does the same for query fields, which have no union: a failure becomes a
GraphQL error with ``extensions.code`` (``query_error``).

In both, a failure because the database is away (``is_transient``) is no bug and no
value of the result type: it is raised, and ``schema.masking`` (for every field alike)
makes it the ``SERVICE_UNAVAILABLE`` error and the response a ``503`` with
``Retry-After``. A keyed mutation is first run once more with the same key: if the
first attempt committed before the connection went, that answers its replay.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import typing
from collections.abc import Awaitable, Callable, Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.utils.str_converters import to_camel_case

from schema.context import Context, Info
from schema.errors import Error, as_error, query_error
from server.actions import (
    BoardsUnavailable,
    Services,
    inline_effects,
    is_transient,
)
from server.auth import Principal
from server.rewards.errors import RewardsError
from server.rewards.validation import argument_text

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["OWN_TEXT_RULES", "arguments", "caller", "field", "mutation"]

Resolver = Callable[..., Awaitable[object]]

_log = logging.getLogger("laurel.schema")

# ``strawberry.field(metadata=OWN_TEXT_RULES)``: an input field whose strings its use case
# checks itself, first thing and more strictly than ``argument_text`` (codes named by their
# position in the list, a base64 picture of a megabyte).
OWN_TEXT_RULES: Mapping[str, bool] = MappingProxyType({"own_text_rules": True})


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
            context = _context([*args, *kwargs.values()])
            if context is not None:
                # Mutations of one document run one after another: each starts with empty
                # loaders, so its result never shows what a previous one read before it
                # changed things.
                context.loaders.clear()
            for attempt in (1, 2):
                try:
                    _check_strings(kwargs)
                    async with inline_effects():
                        return await resolver(*args, **kwargs)
                except RewardsError as exc:
                    error: Error = as_error(exc)
                    # The union is read on the first failure: annotations resolve lazily.
                    if not isinstance(error, _union_members(resolver)):
                        raise  # a failure the result type does not declare: a bug
                    return error
                except Exception as exc:
                    if not is_transient(exc):
                        raise
                    if attempt == 1 and _keyed(kwargs.values()):
                        # Once more with the same key: if the first attempt committed
                        # before the connection went, this answers its replay.
                        _log.warning("database lost during a mutation, retrying: %r", exc)
                        if context is not None:
                            context.loaders.clear()
                        continue
                    raise  # schema.masking: SERVICE_UNAVAILABLE, 503
            raise AssertionError("unreachable")

        return strawberry.mutation(description=description)(run)

    return decorate


def _check_strings(arguments: dict[str, Any]) -> None:
    """Every string in the arguments, in input objects and lists too, passes
    ``validation.argument_text`` (length, lone surrogates, control characters) before the
    resolver does any work; the field is named as the client spells it. Fields marked
    ``OWN_TEXT_RULES`` are left to their use case."""
    pending: list[tuple[str, object]] = [(to_camel_case(k), v) for k, v in arguments.items()]
    while pending:
        name, value = pending.pop()
        if isinstance(value, str):
            argument_text(name, value)
        elif isinstance(value, list):
            pending.extend((name, item) for item in value)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            definition = getattr(type(value), "__strawberry_definition__", None)
            if definition is None:
                continue
            for f in definition.fields:
                if f.metadata.get("own_text_rules"):
                    continue
                label = f.graphql_name or to_camel_case(f.python_name)
                pending.append((label, getattr(value, f.python_name, None)))


def _keyed(arguments: Iterable[object]) -> bool:
    """Whether the mutation's input carries an idempotency key (so a retry is safe)."""
    return any(getattr(given, "idempotency_key", None) for given in arguments)


def _context(arguments: list[object]) -> Context | None:
    """The request context, from the resolver's ``info`` argument (if it takes one)."""
    for given in arguments:
        context = getattr(given, "context", None)
        if isinstance(context, Context):
            return context
    return None


def field(*, description: str | None = None) -> Callable[[Resolver], Any]:
    """``strawberry.field`` whose bad input or unavailable boards become GraphQL errors
    (an unavailable database: ``schema.masking``)."""

    def decorate(resolver: Resolver) -> Any:
        @functools.wraps(resolver)
        async def run(*args: Any, **kwargs: Any) -> object:
            try:
                _check_strings(kwargs)
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
