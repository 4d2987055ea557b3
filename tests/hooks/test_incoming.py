"""Incoming webhooks: Shopify, WooCommerce and the generic format, on the documented
payloads (tests/hooks/fixtures, SOURCES.md). Expected figures are worked out by hand:
one point per 1.00 of the merchandise after discounts (the default purchase rule)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from server import actions
from server.actions import Services
from server.events import HOOKS
from server.rewards.activities import Activity, ActivityStatus, PurchasedProduct, Refund
from server.rewards.integrations import DeliveryStatus, HookDelivery, Integration, IntegrationKind
from server.rewards.members import Member
from tests.conftest import Clock, GraphQL
from tests.hooks.conftest import (
    CREATE,
    DELIVERIES,
    SHOPIFY_SECRET,
    body_of,
    fixture,
    generic,
    platform_signature,
    shopify,
    woocommerce,
)

SHOPIFY_ORDER = "820982911946154508"
SHOPIFY_CUSTOMER = "115310627314723954"


async def _integration(
    gql: GraphQL, keys: dict[str, str], kind: str, secret: str | None = None
) -> tuple[str, str]:
    made = await gql(
        CREATE,
        {"input": {"kind": kind, "name": f"Our {kind.lower()}", "secret": secret}},
        auth=keys["ADMIN"],
    )
    done = made["createIntegration"]
    assert done["__typename"] == "IntegrationSecret", done
    assert done["integration"]["hookPath"] == f"/hooks/{kind.lower()}"
    return done["integration"]["id"], done["secret"]


async def test_a_paid_shopify_order_credits_its_customer_once(
    svc: Services, client: httpx.AsyncClient, gql: GraphQL, keys: dict[str, str]
) -> None:
    await _integration(gql, keys, "SHOPIFY", SHOPIFY_SECRET)
    order = fixture("shopify_orders_paid.json")
    answer = await shopify(client, "orders/paid", order, "b54557e4-1")
    assert answer.status_code == 200
    assert answer.json()["status"] == "received"

    member = await Member.get(external_id=SHOPIFY_CUSTOMER)
    assert (member.display_name, member.email) == ("John S.", "john@example.com")
    purchase = await Activity.get(dedupe_key=f"purchase:{SHOPIFY_ORDER}")
    # subtotal_price "404.95": 404 points; the three line items with a product id name one.
    assert (purchase.member_id, purchase.points_awarded) == (member.id, 404)
    assert purchase.payload["amountCents"] == 40495
    products = await PurchasedProduct.filter(purchase_id=purchase.id).values_list(
        "product_id", flat=True
    )
    assert list(products) == ["788032119674292922"]

    again = await shopify(client, "orders/paid", order, "b54557e4-1")  # Shopify retries
    assert again.json()["status"] == "duplicate"
    other = await shopify(client, "orders/paid", order, "b54557e4-2")  # the same order anew
    assert other.json()["status"] == "received"
    assert await Activity.filter(dedupe_key=f"purchase:{SHOPIFY_ORDER}").count() == 1
    statuses = await HookDelivery.all().order_by("id").values_list("status", flat=True)
    assert list(statuses) == [DeliveryStatus.APPLIED, DeliveryStatus.DUPLICATE]


async def test_a_wrong_signature_is_401_and_only_counted(
    svc: Services, client: httpx.AsyncClient, gql: GraphQL, keys: dict[str, str]
) -> None:
    await _integration(gql, keys, "SHOPIFY", SHOPIFY_SECRET)
    order = fixture("shopify_orders_paid.json")
    answer = await shopify(client, "orders/paid", order, "w-1", secret="not-the-secret-at-all")
    assert answer.status_code == 401
    assert "x-shopify-hmac-sha256" in answer.json()["error"]
    assert await HookDelivery.all().count() == 0
    assert not await Member.exists(external_id=SHOPIFY_CUSTOMER)
    assert (await Integration.get(kind="SHOPIFY")).bad_signatures == 1


async def test_a_refund_before_its_order_is_held_then_applied(
    svc: Services, client: httpx.AsyncClient, gql: GraphQL, keys: dict[str, str]
) -> None:
    integration, _ = await _integration(gql, keys, "SHOPIFY", SHOPIFY_SECRET)
    refund = fixture("shopify_refunds_create.json")
    held = await shopify(client, "refunds/create", refund, "r-1")
    assert held.status_code == 200
    log = await gql(DELIVERIES, {"id": integration}, auth=keys["ADMIN"])
    assert [d["status"] for d in log["hookDeliveries"]] == ["HELD"]
    assert SHOPIFY_ORDER in log["hookDeliveries"][0]["reason"]

    await shopify(client, "orders/paid", fixture("shopify_orders_paid.json"), "o-1")
    purchase = await Activity.get(dedupe_key=f"purchase:{SHOPIFY_ORDER}")
    # The refund lines' subtotals sum to 414.95, more than the 404.95 the order earned
    # on: the whole order is refunded, its 404 points taken back.
    refunds = await Refund.filter(purchase_id=purchase.id).values_list(
        "amount_cents", "points_taken"
    )
    assert list(refunds) == [(40495, 404)]
    assert purchase.status is ActivityStatus.REVERSED
    log = await gql(DELIVERIES, {"id": integration}, auth=keys["ADMIN"])
    assert [d["status"] for d in log["hookDeliveries"]] == ["APPLIED", "APPLIED"]


async def test_a_malformed_order_is_400_with_the_reason_and_recorded(
    svc: Services, client: httpx.AsyncClient, gql: GraphQL, keys: dict[str, str]
) -> None:
    integration, _ = await _integration(gql, keys, "SHOPIFY", SHOPIFY_SECRET)
    order = fixture("shopify_orders_paid.json")
    del order["subtotal_price"]
    answer = await shopify(client, "orders/paid", order, "m-1")
    assert answer.status_code == 400
    assert "subtotal_price" in answer.json()["error"]
    log = await gql(DELIVERIES, {"id": integration}, auth=keys["ADMIN"])
    assert [(d["status"], d["topic"]) for d in log["hookDeliveries"]] == [
        ("REJECTED", "orders/paid")
    ]
    assert not await Activity.exists(dedupe_key=f"purchase:{SHOPIFY_ORDER}")


async def test_shopify_customers_become_members(
    svc: Services, client: httpx.AsyncClient, gql: GraphQL, keys: dict[str, str]
) -> None:
    await _integration(gql, keys, "SHOPIFY", SHOPIFY_SECRET)
    await shopify(client, "customers/create", fixture("shopify_customers_create.json"), "c-1")
    member = await Member.get(external_id="706405506930370084")
    assert (member.display_name, member.email) == ("Bob B.", "bob@biller.com")
    changed = fixture("shopify_customers_update.json") | {"first_name": "Robert"}
    await shopify(client, "customers/update", changed, "c-2")
    await member.refresh_from_db()
    assert member.display_name == "Robert B."


async def test_woocommerce_orders_refunds_and_the_secret_rotation(
    svc: Services, client: httpx.AsyncClient, gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    integration, secret = await _integration(gql, keys, "WOOCOMMERCE")
    completed = fixture("woocommerce_order_refunded.json") | {"status": "completed", "refunds": []}
    answer = await woocommerce(client, "order.updated", completed, "1001", secret)
    assert answer.status_code == 200
    purchase = await Activity.get(dedupe_key="purchase:723")
    member = await Member.get(external_id="26")
    # total 39.00 - shipping 10.00 - tax 0.00 = 29.00: 29 points.
    assert (purchase.member_id, purchase.points_awarded) == (member.id, 29)
    assert member.email == "joao.silva@example.com"

    rotated = await gql(
        """mutation($i: ID!) { rotateIntegrationSecret(input: {integrationId: $i}) {
             ... on IntegrationSecret { secret } } }""",
        {"i": integration},
        auth=keys["ADMIN"],
    )
    new_secret = rotated["rotateIntegrationSecret"]["secret"]
    assert new_secret != secret
    # Refunds of 10.00 and 9.00, then the status "refunded" takes back what is left:
    # 29 x 1000 // 2900 = 10, 29 x 1900 // 2900 - 10 = 9, 29 - 19 = 10. Signed with the
    # old secret, still valid during the grace period.
    refunded = fixture("woocommerce_order_refunded.json")
    assert (await woocommerce(client, "order.updated", refunded, "1002", secret)).status_code == 200
    taken = (
        await Refund.filter(purchase_id=purchase.id)
        .order_by("id")
        .values_list("amount_cents", "points_taken")
    )
    assert list(taken) == [(1000, 10), (900, 9), (1000, 10)]
    # After the grace period only the new secret works.
    clock.advance(hours=25)
    late = await woocommerce(client, "order.updated", refunded, "1003", secret)
    assert late.status_code == 401
    fresh = await woocommerce(client, "order.updated", refunded, "1004", new_secret)
    assert fresh.json()["status"] == "received"
    assert await Refund.filter(purchase_id=purchase.id).count() == 3  # nothing twice


async def test_a_woocommerce_guest_order_is_taken_but_credits_no_one(
    svc: Services, client: httpx.AsyncClient, gql: GraphQL, keys: dict[str, str]
) -> None:
    _, secret = await _integration(gql, keys, "WOOCOMMERCE")
    guest = fixture("woocommerce_order_updated.json")  # the documented example: customer_id 0
    answer = await woocommerce(client, "order.created", guest, "2001", secret)
    assert answer.status_code == 200
    assert answer.json()["status"] == "rejected"
    assert "guest" in answer.json()["reason"]
    assert not await Activity.exists(dedupe_key="purchase:727")


async def test_the_generic_format_signed_per_standard_webhooks(
    svc: Services, client: httpx.AsyncClient, gql: GraphQL, keys: dict[str, str]
) -> None:
    _, secret = await _integration(gql, keys, "LAUREL")
    assert secret.startswith("whsec_")
    paid = {
        "type": "order.paid",
        "data": {
            "orderId": "A-100",
            "customer": {"id": "cust-7", "email": "ana@example.com", "name": "Ana"},
            "amountCents": 12_345,
            "productIds": ["mug", "tea"],
        },
    }
    assert (await generic(client, paid, "msg_1", secret)).status_code == 200
    purchase = await Activity.get(dedupe_key="purchase:A-100")
    assert purchase.points_awarded == 123
    old = datetime.now(UTC) - timedelta(minutes=6)
    stale = await generic(client, paid, "msg_2", secret, at=old)
    assert stale.status_code == 401
    unknown = await generic(client, {"type": "order.shipped", "data": {}}, "msg_3", secret)
    assert unknown.status_code == 400
    assert "order.paid" in unknown.json()["error"]
    refund = {
        "type": "order.refunded",
        "data": {"orderId": "A-100", "refundId": "R1", "amountCents": 2_345},
    }
    assert (await generic(client, refund, "msg_4", secret)).status_code == 200
    # 123 x 2345 // 12345 = 23 points back.
    assert await Refund.filter(purchase_id=purchase.id).values_list("points_taken", flat=True) == [
        23
    ]


async def test_a_delivery_its_worker_did_not_apply_is_applied_from_the_log(
    svc: Services, gql: GraphQL, keys: dict[str, str]
) -> None:
    """Stored and answered, then the worker died before applying it: the hooks consumer
    of the event log applies it."""
    await _integration(gql, keys, "SHOPIFY", SHOPIFY_SECRET)
    body = body_of(fixture("shopify_orders_paid.json"))
    headers = {
        "x-shopify-topic": "orders/paid",
        "x-shopify-hmac-sha256": platform_signature(SHOPIFY_SECRET, body),
        "x-shopify-webhook-id": "k-1",
    }
    taken = await actions.receive_hook(svc, IntegrationKind.SHOPIFY, headers, body)
    assert taken.status is DeliveryStatus.RECEIVED
    assert not await Activity.exists(dedupe_key=f"purchase:{SHOPIFY_ORDER}")
    await svc.events.drain([HOOKS], grace=False)
    assert (await Activity.get(dedupe_key=f"purchase:{SHOPIFY_ORDER}")).points_awarded == 404
    assert (await HookDelivery.get(id=taken.delivery)).status is DeliveryStatus.APPLIED
