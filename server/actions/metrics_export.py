"""Program metrics as rows: for ``laurel report`` and ``GET /admin/metrics.csv``. One
row per interval, then the whole range; the columns are the figures' GraphQL names."""

from __future__ import annotations

import csv
import io
from typing import Any

from server.actions.metrics import Metrics

__all__ = ["COLUMNS", "as_csv", "rows"]

COLUMNS = (
    "start",
    "end",
    "activeMembers",
    "newMembers",
    "orders",
    "revenueCents",
    "averageOrderValueCents",
    "purchaseFrequency",
    "repeatPurchaseRate",
    "retentionRate",
    "secondPurchaseRate",
    "historicalClvCents",
    "predictedClv12mCents",
    "pointsIssued",
    "pointsReversed",
    "pointsRedeemed",
    "pointsExpired",
    "pointsOutstanding",
    "liabilityCents",
    "redemptionRate",
    "breakageRate",
)


def _row(m: Metrics) -> dict[str, Any]:
    r = m.raw
    return dict(
        zip(
            COLUMNS,
            (
                m.start.isoformat(),
                m.end.isoformat(),
                r.active_members,
                r.new_members,
                r.orders,
                m.revenue_cents,
                m.average_order_value_cents,
                round(m.purchase_frequency, 4),
                round(m.repeat_purchase_rate, 4),
                round(m.retention_rate, 4),
                round(m.second_purchase_rate, 4),
                m.historical_clv_cents,
                m.predicted_clv_12m_cents,
                r.points_issued,
                r.points_reversed,
                r.points_redeemed,
                r.points_expired,
                r.points_outstanding,
                m.liability_cents,
                round(m.redemption_rate, 4),
                round(m.breakage_rate, 4),
            ),
            strict=True,
        )
    )


def rows(metrics: Metrics) -> list[dict[str, Any]]:
    """Each interval's figures, then the whole range's."""
    return [*(_row(s) for s in metrics.series), _row(metrics)]


def as_csv(metrics: Metrics) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows(metrics))
    return out.getvalue()
