# The SQL below is put together from constant fragments only (the dialect's JSON
# expression); every value is a bound parameter.
# ruff: noqa: S608
"""An experiment's report: treatment against holdout over its period (README,
"Experiments").

The period is [started_at, ended_at or now); the period before is as long and ends at
the start. The arm members are the members who joined before the period's end, put in
their arm by ``arm_of``, which SQL cannot compute the same way on SQLite and
PostgreSQL: so each figure group is one grouped statement answering a row per member
(orders, refunds, points, earlier buyers), and the rows are split by arm here. Times
are the orders' ``occurred_at``, a refund's recording time, the ledger's time, as in
program metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.rewards.experiment_stats import METHOD, Comparison, Sample, compare
from server.rewards.experiments import Arm, Experiment, arm_of
from server.rewards.metrics_sql import Sql, tuned
from server.rewards.text import msg

__all__ = ["FIGURES", "Report", "experiment_report"]

FIGURES = (
    "retention_rate",
    "repeat_purchase_rate",
    "average_order_value_cents",
    "revenue_per_member_cents",
    "points_issued_per_member",
)
_ARMS = (Arm.TREATMENT, Arm.HOLDOUT)


@dataclass(frozen=True, slots=True)
class Report:
    start: datetime
    end: datetime
    members: dict[Arm, int]
    buyers: dict[Arm, int]  # arm members with an order in the period
    figures: dict[str, Comparison]
    method: str = METHOD


async def _per_member(sql: Sql, query: str, params: list[Any]) -> dict[int, dict[str, Any]]:
    return {int(r["m"]): r for r in await sql.rows(query, params)}


async def experiment_report(experiment: Experiment, now: datetime) -> Report:
    start = experiment.started_at
    end = experiment.ended_at or max(now, start)
    before = start - (end - start)
    async with tuned() as sql:
        joined = await sql.rows("SELECT id FROM members WHERE created_at < ?", [end])
        orders = await _per_member(
            sql,
            f"SELECT a.member_id AS m, COUNT(*) AS n, SUM({sql.amount}) AS cents, "
            f"SUM(1.0 * {sql.amount} * {sql.amount}) AS squares FROM activities a "
            "WHERE a.kind = 'PURCHASE' AND a.occurred_at >= ? AND a.occurred_at < ? "
            "GROUP BY a.member_id",
            [start, end],
        )
        earlier = await _per_member(
            sql,
            "SELECT a.member_id AS m FROM activities a WHERE a.kind = 'PURCHASE' "
            "AND a.occurred_at >= ? AND a.occurred_at < ? GROUP BY a.member_id",
            [before, start],
        )
        refunds = await _per_member(
            sql,
            "SELECT a.member_id AS m, SUM(r.amount_cents) AS cents FROM refunds r "
            "JOIN activities a ON a.id = r.purchase_id "
            "WHERE r.created_at >= ? AND r.created_at < ? GROUP BY a.member_id",
            [start, end],
        )
        points = await _per_member(
            sql,
            "SELECT e.member_id AS m, SUM(e.amount) AS points FROM ledger_entries e "
            "WHERE e.kind IN ('EARN', 'ADJUST') AND e.amount > 0 "
            "AND COALESCE(e.occurred_at, e.created_at) >= ? "
            "AND COALESCE(e.occurred_at, e.created_at) < ? GROUP BY e.member_id",
            [start, end],
        )
    arms: dict[Arm, list[int]] = {arm: [] for arm in _ARMS}
    for row in joined:
        member = int(row["id"])
        arms[arm_of(member, experiment.salt, experiment.holdout_percent)].append(member)
    samples = {arm: _samples(ids, orders, earlier, refunds, points) for arm, ids in arms.items()}
    few = {
        "retention_rate": msg("Fewer than 30 earlier buyers in an arm: the interval is rough."),
        "repeat_purchase_rate": msg("Fewer than 30 buyers in an arm: the interval is rough."),
        "average_order_value_cents": msg("Fewer than 30 buyers in an arm: the interval is rough."),
        "revenue_per_member_cents": msg("Fewer than 30 members in an arm: the interval is rough."),
        "points_issued_per_member": msg("Fewer than 30 members in an arm: the interval is rough."),
    }
    t, h = samples[Arm.TREATMENT], samples[Arm.HOLDOUT]
    buyers = {arm: sum(1 for m in ids if m in orders) for arm, ids in arms.items()}
    sizes = {"average_order_value_cents": (buyers[Arm.TREATMENT], buyers[Arm.HOLDOUT])}
    return Report(
        start=start,
        end=end,
        members={arm: len(ids) for arm, ids in arms.items()},
        buyers=buyers,
        figures={
            name: compare(t[name], h[name], few=few[name], sizes=sizes.get(name))
            for name in FIGURES
        },
    )


def _samples(
    ids: list[int],
    orders: dict[int, dict[str, Any]],
    earlier: dict[int, dict[str, Any]],
    refunds: dict[int, dict[str, Any]],
    points: dict[int, dict[str, Any]],
) -> dict[str, Sample]:
    """One arm's samples: per member (per earlier buyer, per buyer) and per order."""
    bought = [orders[m] for m in ids if m in orders]
    # Per-order values by their sums: an arm's orders are these buyers' orders.
    n = sum(int(o["n"]) for o in bought)
    total = sum(float(o["cents"] or 0) for o in bought)
    squares = sum(float(o["squares"] or 0) for o in bought)
    return {
        "retention_rate": Sample.of([1.0 if m in orders else 0.0 for m in ids if m in earlier]),
        "repeat_purchase_rate": Sample.of([1.0 if int(o["n"]) >= 2 else 0.0 for o in bought]),
        "average_order_value_cents": Sample.of_sums(n, total, squares),
        "revenue_per_member_cents": Sample.of(
            [_value(orders, m, "cents") - _value(refunds, m, "cents") for m in ids]
        ),
        "points_issued_per_member": Sample.of([_value(points, m, "points") for m in ids]),
    }


def _value(rows: dict[int, dict[str, Any]], member: int, column: str) -> float:
    """A member's sum, 0 without a row."""
    row = rows.get(member)
    return 0.0 if row is None else float(row[column] or 0)
