"""Expected failures of the domain, raised by use cases and shown to callers as typed errors.

Each carries its message as a catalog ``Text`` (``server.rewards.text``): ``message`` is
the English, and the boundary that answers renders ``text`` in the caller's language.
"""

from __future__ import annotations

from server.rewards.text import Text, msg_n

__all__ = [
    "Conflict",
    "InsufficientPoints",
    "Invalid",
    "LimitReached",
    "NotFound",
    "OutOfStock",
    "PermissionDenied",
    "RewardsError",
]


class RewardsError(Exception):
    """An expected failure: the caller gets ``message`` as a typed error, in their language.

    A plain ``str`` is taken as a message id as it is (it is translated when the
    catalogs have it); use ``msg``/``msg_n`` so that ``make messages`` finds it."""

    def __init__(self, message: Text | str) -> None:
        self.text = message if isinstance(message, Text) else Text(message)
        self.message = str(self.text)
        super().__init__(self.message)


class Invalid(RewardsError):
    """An input is invalid; ``field`` names it as the client spelled it."""

    def __init__(self, field: str, message: Text | str) -> None:
        super().__init__(message)
        self.field = field


class NotFound(RewardsError):
    """The thing named does not exist (or is not visible to the caller)."""


class PermissionDenied(RewardsError):
    """The caller's role may not do this."""


class InsufficientPoints(RewardsError):
    """A debit would take the spendable balance below zero."""

    def __init__(self, balance: int, required: int) -> None:
        super().__init__(
            msg_n(
                "Not enough points: {balance} available, {required} required.",
                "Not enough points: {balance} available, {required} required.",
                required,
                balance=balance,
                required=required,
            )
        )
        self.balance = balance
        self.required = required


class Conflict(RewardsError):
    """The request conflicts with current state, or an idempotency key was reused."""


class LimitReached(RewardsError):
    """A cap was reached."""


class OutOfStock(RewardsError):
    """A prize has no stock (or no pool code) left."""
