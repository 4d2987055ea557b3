"""The consistency check: every member's cached balances against the sums of the ledger.

``laurel check-consistency`` runs it; the tests run it after every scenario.
The ledger is the truth, so a mismatch is a bug in ``post`` or a write around it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.functions import Sum

from server.rewards.ledger import LedgerEntry
from server.rewards.members import Member

__all__ = ["Mismatch", "find_mismatches"]


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A member whose cached columns differ from the sums of their ledger."""

    member_id: int
    cached: tuple[int, int, int, int]
    ledger: tuple[int, int, int, int]


async def find_mismatches() -> list[Mismatch]:
    """Compare every member's (balance, pending, lifetime, debt) with the ledger sums.

    Also reports a negative balance or pending amount as a mismatch with itself.
    """
    sums = await (
        LedgerEntry.all()
        .group_by("member_id")
        .annotate(
            total=Sum("amount"),
            pending=Sum("pending_delta"),
            life=Sum("lifetime_delta"),
            debt=Sum("debt_delta"),
        )
        .values_list("member_id", "total", "pending", "life", "debt")
    )
    by_member = {
        int(m): (int(t or 0) - int(p or 0), int(p or 0), int(lf or 0), int(d or 0))
        for m, t, p, lf, d in sums
    }
    found: list[Mismatch] = []
    rows = await Member.all().values_list(
        "id", "points_balance", "pending_points", "lifetime_points", "debt_points"
    )
    for member_id, balance, pending, lifetime, debt in rows:
        cached = (int(balance), int(pending), int(lifetime), int(debt))
        expected = by_member.get(int(member_id), (0, 0, 0, 0))
        if cached != expected or min(cached) < 0:
            found.append(Mismatch(member_id=int(member_id), cached=cached, ledger=expected))
    return found
