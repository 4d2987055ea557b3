"""The rules engine: what a rule, a tier or a badge decides, as pure functions of values.

Production (``server.actions`` recording activities, ``server.rewards.standings`` and
``expiry``, the badge granter) and the backtest (``server.rewards.backtest``, which
replays history under draft rules) both decide through these functions, so a draft
is judged by the very code that would apply it. Nothing here reads or writes storage.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, Decimal
from typing import Protocol, TypeVar

__all__ = [
    "Rung",
    "activity_points",
    "book",
    "levels_reached",
    "multiplied",
    "multiplier_for",
    "purchase_points",
    "refund_take",
    "take_oldest",
    "tier_for",
]


class Rung(Protocol):
    """A tier as the engine needs it (a stored ``Tier`` or a draft's ``TierValues``)."""

    @property
    def threshold(self) -> int: ...

    @property
    def multiplier(self) -> Decimal: ...


R = TypeVar("R", bound=Rung)


class _Rule(Protocol):
    @property
    def points(self) -> int: ...

    @property
    def points_per_currency_unit(self) -> Decimal | None: ...

    @property
    def active(self) -> bool: ...


class _Lot(Protocol):
    points: int


L = TypeVar("L", bound=_Lot)


def purchase_points(rate: Decimal, amount_cents: int) -> int:
    """Points for an order: ``rate`` per 1.00, rounded down."""
    return int((Decimal(amount_cents) * rate / 100).to_integral_value(rounding=ROUND_FLOOR))


def multiplied(points: int, multiplier: Decimal | None) -> int:
    """Points earned at a tier's multiplier (None: x1), rounded down."""
    if multiplier is None or points <= 0:
        return points
    return int((Decimal(points) * multiplier).to_integral_value(rounding=ROUND_FLOOR))


def activity_points(
    rule: _Rule,
    multiplier: Decimal | None,
    *,
    purchase_cents: int | None = None,
    default_rate: Decimal = Decimal(1),
) -> int:
    """What one activity earns under ``rule`` at a tier's ``multiplier``: the rule's fixed
    points, or for an order (``purchase_cents``) its rate per currency unit (the
    setting's ``default_rate`` when the rule has none); 0 while the rule is inactive."""
    if not rule.active:
        return 0
    if purchase_cents is None:
        return multiplied(rule.points, multiplier)
    rate = default_rate if rule.points_per_currency_unit is None else rule.points_per_currency_unit
    return multiplied(purchase_points(rate, purchase_cents), multiplier)


def multiplier_for(kind: str, multiplier: Decimal | None = None) -> Decimal | None:
    """The tier multiplier an activity of ``kind`` earns at: a referral pays its rule's
    points as they are (it is priced at the friend's sign-up, paid at their first order)."""
    return None if kind == "REFERRAL" else multiplier


def tier_for(ladder: Sequence[R], points: int) -> R | None:
    """The highest tier of ``ladder`` (lowest first) that ``points`` reach."""
    reached = [t for t in ladder if t.threshold <= points]
    return reached[-1] if reached else None


def refund_take(points: int, refunded_cents: int, order_cents: int, taken_before: int) -> int:
    """The points a refund takes back: the order's points in proportion to all that has
    been refunded of it, less what earlier refunds took; a full refund takes the rest."""
    if refunded_cents >= order_cents:
        return points - taken_before
    return points * refunded_cents // order_cents - taken_before


def levels_reached(thresholds: Sequence[int], value: int) -> int:
    """How many of a badge's levels (thresholds lowest first) a metric value reaches."""
    return sum(1 for threshold in thresholds if value >= threshold)


def book(
    lots: list[L], by_id: dict[int, L], entry: int, change: L, *, kind: str, source: int | None
) -> None:
    """How one ledger entry moves a member's lots, oldest first. ``change`` is the entry
    as a lot: its points are what it makes spendable, negative for a debit. A credit
    opens it; an expiry takes what is left of its own credit (``source``); any other
    debit takes from the oldest lots."""
    if change.points > 0:
        lots.append(change)
        by_id[entry] = change
    elif change.points < 0 and kind == "EXPIRE" and source in by_id:
        by_id[source].points += change.points
    elif change.points < 0:
        take_oldest(lots, -change.points)


def take_oldest(lots: Sequence[_Lot], points: int) -> None:
    """Take ``points`` from the oldest lots first (spending, reversals, settlements)."""
    for lot in lots:
        if points <= 0:
            return
        taken = min(lot.points, points)
        lot.points -= taken
        points -= taken
