"""100 concurrent deliveries of one Shopify order over 4 workers on PostgreSQL: one
purchase, one member, one credit (SQLite serializes writes and would hide the race)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from server.rewards.activities import Activity
from server.rewards.integrations import DeliveryStatus, HookDelivery
from server.rewards.ledger import LedgerEntry
from server.rewards.members import Member
from tests.conftest import Backend, on_postgres
from tests.hooks.conftest import (
    CREATE,
    SHOPIFY_SECRET,
    body_of,
    fixture,
    platform_signature,
)
from tests.servers import serving

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not on_postgres(), reason="needs PostgreSQL: SQLite serializes writes"),
]

ORDER = "820982911946154508"


async def test_one_order_delivered_100_times_at_once_is_one_purchase(
    database: Backend, svc: object, keys: dict[str, str], tmp_path: Path
) -> None:
    body = body_of(fixture("shopify_orders_paid.json"))
    signature = platform_signature(SHOPIFY_SECRET, body)
    with serving(database, tmp_path / "server", workers=4) as base:
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            made = await http.post(
                "/graphql",
                json={
                    "query": CREATE,
                    "variables": {
                        "input": {"kind": "SHOPIFY", "name": "Store", "secret": SHOPIFY_SECRET}
                    },
                },
                headers={"Authorization": f"Bearer {keys['ADMIN']}"},
            )
            assert made.json()["data"]["createIntegration"]["__typename"] == "IntegrationSecret"

            async def deliver(n: int) -> int:
                answer = await http.post(
                    "/hooks/shopify",
                    content=body,
                    headers={
                        "Content-Type": "application/json",
                        "X-Shopify-Topic": "orders/paid",
                        "X-Shopify-Hmac-Sha256": signature,
                        # Half are retries of one delivery, half new deliveries of the order.
                        "X-Shopify-Webhook-Id": "same" if n % 2 else f"new-{n}",
                    },
                )
                return answer.status_code

            codes = Counter(await asyncio.gather(*(deliver(n) for n in range(100))))
            assert codes == {200: 100}
            deadline = time.monotonic() + 30
            while await HookDelivery.filter(status=DeliveryStatus.RECEIVED).exists():
                assert time.monotonic() < deadline, "deliveries still open"
                await asyncio.sleep(0.1)
    assert await Activity.filter(dedupe_key=f"purchase:{ORDER}").count() == 1
    assert await Member.filter(external_id="115310627314723954").count() == 1
    purchase = await Activity.get(dedupe_key=f"purchase:{ORDER}")
    credits = await LedgerEntry.filter(activity_id=purchase.id).count()
    assert credits == 1
    statuses = Counter(await HookDelivery.all().values_list("status", flat=True))
    # 51 stored deliveries ("same" once, 50 new): one applied, the rest duplicates.
    assert statuses == {DeliveryStatus.APPLIED: 1, DeliveryStatus.DUPLICATE: 50}
