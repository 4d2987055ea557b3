"""Metrics over a member's history, computed in SQL, and which activity moves which.

``metric_values`` reads every metric asked for in one statement (a scalar subquery
each), inside the granter's transaction after the member's row lock, so it sees every
activity committed before the lock was taken.
"""
# The SQL below is built from the models' table names and the enums' values only;
# the member id is always a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from badges.spec import Metric
from server.rewards.activities import Activity, ActivityKind, ActivityStatus, Refund
from server.rewards.contests import Placement
from server.rewards.members import Member
from server.rewards.metrics_sql import Sql

__all__ = ["ALL_METRICS", "CAUSES", "metric_values"]

_ACTIVITY = (Metric.ACTIVE_DAYS, Metric.ACTIVE_DAY_STREAK, Metric.LIFETIME_POINTS)

# The metrics an activity of each kind can change (when recorded, decided, reversed or refunded).
CAUSES: dict[ActivityKind, frozenset[Metric]] = {
    ActivityKind.REVIEW: frozenset({Metric.REVIEWS, Metric.PHOTO_REVIEWS, *_ACTIVITY}),
    ActivityKind.PHOTO_REVIEW: frozenset({Metric.REVIEWS, Metric.PHOTO_REVIEWS, *_ACTIVITY}),
    ActivityKind.SOCIAL_SHARE: frozenset({Metric.SHARES, *_ACTIVITY}),
    ActivityKind.REFERRAL: frozenset({Metric.REFERRALS, Metric.LIFETIME_POINTS}),
    ActivityKind.PURCHASE: frozenset({Metric.PURCHASES, Metric.AMOUNT_SPENT, *_ACTIVITY}),
}
ALL_METRICS = frozenset(Metric)

_A = Activity._meta.db_table
_APPROVED = f"'{ActivityStatus.APPROVED.value}'"
_PURCHASE = f"'{ActivityKind.PURCHASE.value}'"
# The member's orders not reversed (``a`` is the activities table).
_KEPT = (
    f"a.member_id = ? AND a.kind = {_PURCHASE} AND a.status <> '{ActivityStatus.REVERSED.value}'"
)


def _approved(*kinds: ActivityKind) -> str:
    names = ", ".join(f"'{k.value}'" for k in kinds)
    return (
        f"SELECT COUNT(*) FROM {_A} a WHERE a.member_id = ? AND a.status = {_APPROVED} "
        f"AND a.kind IN ({names})"
    )


# Each metric's scalar subqueries (each takes the member id once), by output column.
_PARTS: dict[Metric, dict[str, str]] = {
    Metric.REVIEWS: {"reviews": _approved(ActivityKind.REVIEW, ActivityKind.PHOTO_REVIEW)},
    Metric.PHOTO_REVIEWS: {"photo_reviews": _approved(ActivityKind.PHOTO_REVIEW)},
    Metric.SHARES: {"shares": _approved(ActivityKind.SOCIAL_SHARE)},
    Metric.REFERRALS: {"referrals": _approved(ActivityKind.REFERRAL)},
    Metric.PURCHASES: {"purchases": f"SELECT COUNT(*) FROM {_A} a WHERE {_KEPT}"},
    Metric.LIFETIME_POINTS: {
        "lifetime": f"SELECT lifetime_points FROM {Member._meta.db_table} WHERE id = ?"
    },
    Metric.CONTESTS_WON: {
        "won": f"SELECT COUNT(*) FROM {Placement._meta.db_table} WHERE member_id = ? AND rank = 1"
    },
}


def _amount_parts(sql: Sql) -> dict[str, str]:
    """Order cents kept and the refunds of those orders (whole units are taken after)."""
    return {
        "cents": f"SELECT SUM({sql.amount}) FROM {_A} a WHERE {_KEPT}",
        "refunded": (
            f"SELECT SUM(r.amount_cents) FROM {Refund._meta.db_table} r "
            f"JOIN {_A} a ON a.id = r.purchase_id WHERE {_KEPT}"
        ),
    }


def _days(sql: Sql) -> str:
    """The member's UTC days with an approved activity or an order (pending or not), as
    day numbers: one row per day."""
    day = (
        "((a.occurred_at AT TIME ZONE 'UTC')::date - DATE '2000-01-01')"
        if sql.postgres
        else "CAST(julianday(date(a.occurred_at)) AS INTEGER)"
    )
    counted = (
        f"(a.status = {_APPROVED} OR (a.kind = {_PURCHASE} "
        f"AND a.status = '{ActivityStatus.PENDING.value}'))"
    )
    return f"SELECT DISTINCT {day} AS d FROM {_A} a WHERE a.member_id = ? AND {counted}"


def _day_parts(sql: Sql) -> dict[str, str]:
    """Active days, and the longest run of consecutive ones (a run is the days whose
    number minus their rank is the same: gaps and islands)."""
    days = _days(sql)
    return {
        "active_days": f"SELECT COUNT(*) FROM ({days}) k",
        "streak": (
            "SELECT COALESCE(MAX(n), 0) FROM (SELECT COUNT(*) AS n FROM "
            f"(SELECT d - ROW_NUMBER() OVER (ORDER BY d) AS g FROM ({days}) k) r GROUP BY g) s"
        ),
    }


def _value(metric: Metric, row: dict[str, Any]) -> int:
    if metric is Metric.AMOUNT_SPENT:
        return max(0, int(row["cents"]) - int(row["refunded"])) // 100
    if metric is Metric.ACTIVE_DAYS:
        return int(row["active_days"])
    if metric is Metric.ACTIVE_DAY_STREAK:
        return int(row["streak"])
    (column,) = _PARTS[metric]
    return int(row[column])


async def metric_values(member_id: int, metrics: Iterable[Metric]) -> dict[Metric, int]:
    """The member's value of each metric, all in one statement."""
    wanted = set(metrics)
    if not wanted:
        return {}
    sql = Sql()
    parts: dict[str, str] = {}
    for metric in wanted:
        if metric is Metric.AMOUNT_SPENT:
            parts |= _amount_parts(sql)
        elif metric in (Metric.ACTIVE_DAYS, Metric.ACTIVE_DAY_STREAK):
            parts |= _day_parts(sql)
        else:
            parts |= _PARTS[metric]
    select = ", ".join(f"({query}) AS {name}" for name, query in parts.items())
    row = await sql.one(f"SELECT {select}", [member_id] * len(parts))
    return {metric: _value(metric, row) for metric in wanted}
