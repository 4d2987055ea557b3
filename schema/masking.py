"""Which errors a client reads as "Unexpected error.", and which as what they are.

Our own ``GraphQLError``s (bad input, limits, a dependency down) pass as they are. An
unexpected exception is masked and logged, except one because the database went away
(``is_transient``), in any resolver, a nested field's too: a committed mutation whose
answer needed one more read (``activity { member }``) must not read as a bug. It becomes
the ``SERVICE_UNAVAILABLE`` error, and the response a 503 with ``Retry-After``, so that
the client retries with the same idempotency key and gets the replay (``duplicate``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from server.actions import RETRY_AFTER_SECONDS, UNAVAILABLE, UNAVAILABLE_CODE, is_transient
from server.i18n import render
from server.rewards.text import msg

__all__ = ["Masking", "transient", "unexpected"]

_log = logging.getLogger("laurel.schema")
UNEXPECTED = msg("Unexpected error.")


def transient(error: GraphQLError) -> bool:
    """An error from the database going away, not from a bug."""
    original = error.original_error
    return original is not None and is_transient(original)


def unexpected(error: GraphQLError) -> bool:
    """An error from an unexpected exception, not one of our own GraphQLErrors: only
    these are masked (transient ones become ``SERVICE_UNAVAILABLE``) and logged."""
    original = error.original_error
    if isinstance(original, ValueError) and error.path is None:
        return False  # validation met a literal no scalar reads (an Int of 5,000 digits)
    return original is not None and not isinstance(original, GraphQLError)


class Masking(MaskErrors):
    """``MaskErrors`` that tells a lost database from a bug."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=unexpected)
        self._unavailable = False

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        if not transient(error):
            self.error_message = render(UNEXPECTED)  # in the caller's language
            return super().anonymise_error(error)
        self._unavailable = True
        _log.warning("database unavailable during %s: %r", error.path, error.original_error)
        return GraphQLError(
            render(UNAVAILABLE),
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": UNAVAILABLE_CODE},
        )

    def on_operation(self) -> Iterator[None]:
        self._unavailable = False
        yield from super().on_operation()
        response = getattr(self.execution_context.context, "response", None)
        if self._unavailable and response is not None:
            response.status_code = 503
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
