"""History from day one (joinedAt, importing past orders) and the metrics outside
GraphQL: ``laurel import-orders``, ``laurel report`` and ``/admin/metrics.csv``."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from server.actions import Services
from server.actions.order_import import import_orders
from server.rewards.activities import Activity
from server.rewards.members import Member
from tests.conftest import GraphQL
from tests.helpers import UPSERT
from tests.test_cli import laurel

ORDERS = """member,order,amount,time,products
ann,1001,25.00,2025-06-01T10:00:00Z,mug;tea
ann,1002,10.50,2025-07-15T09:30:00,
bob,1003,99.99,2025-07-20T12:00:00+02:00,scarf
bob,1004,ten,2025-07-21T12:00:00Z,
,1005,5.00,2025-07-22T12:00:00Z,
cat,1006,5.00,not-a-time,
"""


async def test_past_orders_are_imported_once_and_bad_rows_named(svc: Services) -> None:
    checked = await import_orders(svc, ORDERS, dry_run=True)
    assert (checked.imported, await Activity.all().count()) == (3, 0)  # nothing recorded
    report = await import_orders(svc, ORDERS)
    assert (report.imported, report.already) == (3, 0)
    assert [line for line, _ in report.bad] == [5, 6, 7]
    assert "amount 'ten'" in report.bad[0][1]
    assert "time 'not-a-time'" in report.bad[2][1]
    again = await import_orders(svc, ORDERS)  # idempotent by order id
    assert (again.imported, again.already) == (0, 3)
    ann = await Member.get(external_id="ann")
    assert ann.created_at == datetime(2025, 6, 1, 10, tzinfo=UTC)  # joined at her first order
    amounts = (
        await Activity.filter(kind="PURCHASE").order_by("target").values_list("target", "payload")
    )
    assert [(t, p["amountCents"], p["productIds"]) for t, p in amounts] == [
        ("1001", 2500, ["mug", "tea"]),
        ("1002", 1050, []),
        ("1003", 9999, ["scarf"]),
    ]


async def test_joined_at_sets_when_a_member_joined_but_not_in_the_future(
    svc: Services, gql: GraphQL, keys: dict[str, str]
) -> None:
    given = {"externalId": "old", "displayName": "Old", "joinedAt": "2019-05-01T00:00:00Z"}
    await gql(UPSERT, {"input": given}, auth=keys["SERVICE"])
    assert (await Member.get(external_id="old")).created_at == datetime(2019, 5, 1, tzinfo=UTC)
    future = {**given, "joinedAt": "2999-01-01T00:00:00Z"}
    answer = await gql(
        """mutation($input: UpsertMemberInput!) { upsertMember(input: $input) {
             __typename ... on ValidationError { field message } } }""",
        {"input": future},
        auth=keys["SERVICE"],
    )
    assert answer["upsertMember"] == {
        "__typename": "ValidationError",
        "field": "joinedAt",
        "message": "joinedAt must not be in the future.",
    }


async def test_the_csv_for_admins(
    svc: Services, client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    await import_orders(svc, ORDERS)
    url = "/admin/metrics.csv?from=2025-06-01&to=2025-08-01&interval=MONTH"
    denied = await client.get(url, headers={"Authorization": f"Bearer {keys['SERVICE']}"})
    assert denied.status_code == 403
    assert (await client.get(url)).status_code == 403  # anonymous
    answer = await client.get(url, headers={"Authorization": f"Bearer {keys['ADMIN']}"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(answer.text)))
    # June: ann's 25.00; July: ann's 10.50 and bob's 99.99; then the whole range.
    assert [(r["start"][:10], r["orders"], r["revenueCents"]) for r in table] == [
        ("2025-06-01", "1", "2500"),
        ("2025-07-01", "2", "11049"),
        ("2025-06-01", "3", "13549"),
    ]
    bad = await client.get(
        "/admin/metrics.csv?from=soon&to=later",
        headers={"Authorization": f"Bearer {keys['ADMIN']}"},
    )
    assert bad.status_code == 400


@pytest.mark.embedded_only
def test_import_orders_and_report_on_the_command_line(tmp_path: Path) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text(ORDERS)
    dry = laurel(tmp_path, "import-orders", str(orders), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would import 3 orders" in dry.stdout
    done = laurel(tmp_path, "import-orders", str(orders))
    assert done.returncode == 0, done.stderr
    assert "imported 3 orders; 0 were there already; 3 bad rows skipped" in done.stdout
    assert "line 5: amount 'ten'" in done.stderr
    shown = laurel(
        tmp_path, "report", "--from", "2025-06-01", "--to", "2025-08-01", "--format", "json"
    )
    assert shown.returncode == 0, shown.stderr
    rows = json.loads(shown.stdout)
    assert [(r["orders"], r["revenueCents"]) for r in rows] == [(1, 2500), (2, 11049), (3, 13549)]
    table = laurel(tmp_path, "report", "--from", "2025-06-01", "--to", "2025-08-01")
    assert table.returncode == 0, table.stderr
    assert "whole range" in table.stdout
