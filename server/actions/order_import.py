"""Importing a shop's past orders (``laurel import-orders``), so metrics and tiers start
from the shop's whole history. Each row goes through ``recordPurchase`` keyed by its
order id: importing a file again, or a file that overlaps an earlier one, records every
order once. A bad row is reported with its line number and skipped; the rest go in.

CSV columns (a header row first): ``member`` (the customer's external id), ``order``,
``amount`` (e.g. ``25.00``), ``time`` (ISO 8601; without an offset, UTC), ``products``
(product ids separated by ``;``, may be empty). A member not known yet is created
(display name: the external id) with the time of their first order as ``joinedAt``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from server.actions.members import upsert_member
from server.actions.purchases import record_purchase
from server.actions.services import Services
from server.auth import Principal, Role
from server.rewards.errors import RewardsError
from server.rewards.members import Member

__all__ = ["COLUMNS", "ImportReport", "import_orders"]

COLUMNS = ("member", "order", "amount", "time", "products")
_IMPORTER = Principal(role=Role.SERVICE, name="import-orders", shared_scope="import-orders")


@dataclass(slots=True)
class ImportReport:
    imported: int = 0
    already: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)  # (line, why)


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    member: str
    order: str
    cents: int
    at: datetime
    products: list[str]


def _parse(line: int, row: dict[str, str]) -> _Row:
    member, order = (row.get("member") or "").strip(), (row.get("order") or "").strip()
    if not member or not order:
        raise ValueError("member and order are required")
    try:
        amount = Decimal((row.get("amount") or "").strip())
    except InvalidOperation:
        raise ValueError(f"amount {row.get('amount')!r} is not a number like 25.00") from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"amount {row.get('amount')!r} is not an amount like 25.00")
    try:
        at = datetime.fromisoformat((row.get("time") or "").strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"time {row.get('time')!r} is not an ISO 8601 time") from None
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    products = [p.strip() for p in (row.get("products") or "").split(";") if p.strip()]
    return _Row(line, member, order, int(amount * 100), at, products)


def read_rows(text: str, report: ImportReport) -> list[_Row]:
    """The good rows of a CSV text; the bad ones (with their line) go to the report."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError("the header row must name " + ", ".join(COLUMNS))
    rows = []
    for row in reader:
        try:
            rows.append(_parse(reader.line_num, row))
        except ValueError as exc:
            report.bad.append((reader.line_num, str(exc)))
    return rows


async def import_orders(
    svc: Services,
    text: str,
    *,
    dry_run: bool = False,
    on_row: Callable[[], None] | None = None,
) -> ImportReport:
    """Record every good row's order (nothing with ``dry_run``); what happened."""
    report = ImportReport()
    rows = read_rows(text, report)
    for row in rows:
        try:
            if dry_run:
                continue
            if not await Member.exists(external_id=row.member):
                await upsert_member(
                    svc,
                    _IMPORTER,
                    external_id=row.member,
                    display_name=row.member,
                    joined_at=min(row.at, svc.clock()),
                )
            done = await record_purchase(
                svc,
                _IMPORTER,
                idempotency_key=f"import:{row.order}",
                member_external_id=row.member,
                order_id=row.order,
                amount_cents=row.cents,
                occurred_at=row.at,
                product_ids=row.products,
            )
            if done.duplicate:
                report.already += 1
            else:
                report.imported += 1
        except RewardsError as exc:
            report.bad.append((row.line, exc.message))
        finally:
            if on_row is not None:
                on_row()
    if dry_run:
        report.imported = len(rows)
    return report
