"""Program metrics as rows: for ``laurel report`` and ``GET /admin/metrics.csv``. One
row per interval, then the whole range; the columns are the figures' GraphQL names."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from server.actions.metrics import Metrics

__all__ = ["as_csv", "rows"]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def _row(m: Metrics) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name, value in m.figures().items():
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, float):
            value = round(value, 4)
        row[_camel(name)] = value
    return row


def rows(metrics: Metrics) -> list[dict[str, Any]]:
    """Each interval's figures, then the whole range's."""
    return [*(_row(s) for s in metrics.series), _row(metrics)]


def as_csv(metrics: Metrics) -> str:
    every = rows(metrics)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(every[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(every)
    return out.getvalue()
