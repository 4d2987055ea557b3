"""Expected failures of the domain, raised by use cases and shown to callers as typed errors."""

from __future__ import annotations

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
    """An expected failure: the caller gets ``message`` as a typed error."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Invalid(RewardsError):
    """An input is invalid; ``field`` names it as the client spelled it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class NotFound(RewardsError):
    """The thing named does not exist (or is not visible to the caller)."""


class PermissionDenied(RewardsError):
    """The caller's role may not do this."""


class InsufficientPoints(RewardsError):
    """A debit would take the spendable balance below zero."""

    def __init__(self, balance: int, required: int) -> None:
        super().__init__(f"Not enough points: {balance} available, {required} required.")
        self.balance = balance
        self.required = required


class Conflict(RewardsError):
    """The request conflicts with current state, or an idempotency key was reused."""


class LimitReached(RewardsError):
    """A cap was reached."""


class OutOfStock(RewardsError):
    """A prize has no stock (or no pool code) left."""
