"""What a shop platform's webhook body means for the program: customers, paid orders,
and refunds, read from Shopify's, WooCommerce's and Laurel's generic format.

The amount an order earns on is the merchandise after discounts, without shipping,
taxes and tips: Shopify's ``subtotal_price``; WooCommerce's ``total`` minus
``shipping_total`` and ``total_tax``; the generic format's ``amountCents``. A refund
takes back its merchandise too: Shopify's refund lines' ``subtotal``, WooCommerce's
refund ``total``, the generic ``amountCents``; a cancellation (or WooCommerce's
``refunded``/``cancelled`` status) takes back whatever is left. A member's external id
is the platform's customer id, as the shop's own pages know it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from server.rewards.integrations import IntegrationKind

__all__ = [
    "Customer",
    "NotApplicable",
    "Operation",
    "Order",
    "OrderRefund",
    "Unusable",
    "operations",
]


@dataclass(frozen=True, slots=True)
class Customer:
    external_id: str
    display_name: str
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    customer: Customer
    amount_cents: int
    occurred_at: datetime | None = None
    product_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class OrderRefund:
    order_id: str
    refund_id: str
    amount_cents: int | None  # None: everything not refunded yet (a cancellation)


Operation = Customer | Order | OrderRefund


class Unusable(Exception):
    """The body cannot be applied; ``reason`` says why in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotApplicable(Unusable):
    """Well formed, but nothing Laurel can apply (a guest order): answered 2xx, so the
    platform does not send it again, and kept as rejected with the reason."""


def operations(kind: IntegrationKind, topic: str, body: Any) -> list[Operation]:
    """What to apply, in order; empty for a topic or status Laurel does not act on."""
    if not isinstance(body, Mapping):
        raise Unusable("The body must be a JSON object.")
    try:
        if kind is IntegrationKind.SHOPIFY:
            return _shopify(topic, body)
        if kind is IntegrationKind.WOOCOMMERCE:
            return _woocommerce(topic, body)
        return _generic(topic, body)
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise Unusable(f"A field is missing or malformed: {_describe(exc)}.") from None


def _describe(exc: Exception) -> str:
    return f"{exc.args[0]!r}" if isinstance(exc, KeyError) else str(exc)[:200]


def _cents(value: Any, name: str) -> int:
    amount = Decimal(str(value))
    if not amount.is_finite():
        raise ValueError(f"{name} is not a number")
    return int((amount * 100).to_integral_value(rounding=ROUND_HALF_UP))


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _name(first: Any, last: Any, email: str | None, fallback: str) -> str:
    first, last = str(first or "").strip(), str(last or "").strip()
    if first:
        return f"{first} {last[:1]}." if last else first
    if email:
        return email.partition("@")[0]
    return fallback


def _id(value: Any, name: str) -> str:
    if value is None or isinstance(value, bool) or str(value).strip() in {"", "0"}:
        raise ValueError(f"{name} is missing")
    return str(value).strip()


def _products(items: Sequence[Mapping[str, Any]]) -> list[str]:
    return sorted({str(i["product_id"]) for i in items if i.get("product_id")})


# Shopify: X-Shopify-Topic names the topic; ids are numbers.


def _shopify_customer(c: Mapping[str, Any]) -> Customer:
    external = _id(c.get("id"), "customer.id")
    email = c.get("email") or None
    name = _name(c.get("first_name"), c.get("last_name"), email, f"Customer {external}")
    return Customer(external, name, email)


def _shopify(topic: str, body: Mapping[str, Any]) -> list[Operation]:
    if topic in {"customers/create", "customers/update"}:
        return [_shopify_customer(body)]
    if topic == "orders/paid":
        if not body.get("customer"):
            raise NotApplicable("A guest order (no customer): there is no member to credit.")
        return [
            Order(
                order_id=_id(body["id"], "id"),
                customer=_shopify_customer(body["customer"]),
                amount_cents=_cents(body["subtotal_price"], "subtotal_price"),
                occurred_at=_when(body.get("processed_at") or body.get("created_at")),
                product_ids=_products(body.get("line_items") or []),
            )
        ]
    if topic == "orders/cancelled":
        return [OrderRefund(_id(body["id"], "id"), "cancelled", None)]
    if topic == "refunds/create":
        lines = body.get("refund_line_items") or []
        amount = sum(Decimal(str(line["subtotal"])) for line in lines)
        return [
            OrderRefund(
                _id(body["order_id"], "order_id"),
                _id(body["id"], "id"),
                _cents(amount, "refund_line_items.subtotal"),
            )
        ]
    return []


# WooCommerce: X-WC-Webhook-Topic names the topic (order.created, order.updated, ...).

_WOO_PAID = {"processing", "completed"}
_WOO_UNDONE = {"refunded", "cancelled"}


def _woo_customer(customer_id: Any, billing: Mapping[str, Any]) -> Customer:
    external = _id(customer_id, "customer_id")
    email = billing.get("email") or None
    name = _name(billing.get("first_name"), billing.get("last_name"), email, f"Customer {external}")
    return Customer(external, name, email)


def _woocommerce(topic: str, body: Mapping[str, Any]) -> list[Operation]:
    if topic in {"customer.created", "customer.updated"}:
        billing = dict(body.get("billing") or {})
        if not billing.get("first_name") and body.get("first_name"):
            billing.update(first_name=body["first_name"], last_name=body.get("last_name"))
        billing["email"] = body.get("email") or billing.get("email")
        return [_woo_customer(body.get("id"), billing)]
    if topic not in {"order.created", "order.updated"}:
        return []
    status = str(body.get("status", ""))
    order_id = _id(body["id"], "id")
    refunds: list[Operation] = [
        OrderRefund(order_id, _id(r["id"], "refunds.id"), abs(_cents(r["total"], "refunds.total")))
        for r in body.get("refunds") or []
    ]
    if status in _WOO_UNDONE:
        return [*refunds, OrderRefund(order_id, status, None)]
    if status not in _WOO_PAID:
        return []  # pending, on-hold, failed: not paid (yet)
    if not body.get("customer_id"):
        raise NotApplicable("A guest order (customer_id 0): there is no member to credit.")
    amount = (
        Decimal(str(body["total"]))
        - Decimal(str(body.get("shipping_total") or 0))
        - Decimal(str(body.get("total_tax") or 0))
    )
    order = Order(
        order_id=order_id,
        customer=_woo_customer(body["customer_id"], body.get("billing") or {}),
        amount_cents=_cents(amount, "total"),
        occurred_at=_when(_utc(body.get("date_paid_gmt") or body.get("date_created_gmt"))),
        product_ids=_products(body.get("line_items") or []),
    )
    return [order, *refunds]


def _utc(value: Any) -> str | None:
    """WooCommerce's ``*_gmt`` times carry no offset: they are UTC."""
    return f"{value}+00:00" if value and "+" not in str(value) else value


# Laurel's generic format: {"type": ..., "data": {...}} (README, "Connect your shop").


def _generic_customer(c: Mapping[str, Any]) -> Customer:
    external = _id(c.get("id"), "customer.id")
    email = c.get("email") or None
    return Customer(
        external,
        str(c.get("name") or "").strip() or _name(None, None, email, f"Customer {external}"),
        email,
    )


def _whole_cents(data: Mapping[str, Any]) -> int:
    cents = data["amountCents"]
    if not isinstance(cents, int) or isinstance(cents, bool):
        raise ValueError("data.amountCents must be a whole number of cents")
    return cents


def _generic(topic: str, body: Mapping[str, Any]) -> list[Operation]:
    data = body["data"]
    if topic == "customer.upserted":
        return [_generic_customer(data)]
    if topic == "order.paid":
        cents = _whole_cents(data)  # checked first, as before
        return [
            Order(
                order_id=_id(data["orderId"], "data.orderId"),
                customer=_generic_customer(data["customer"]),
                amount_cents=cents,
                occurred_at=_when(data.get("occurredAt")),
                product_ids=sorted({str(p) for p in data.get("productIds") or []}),
            )
        ]
    if topic == "order.refunded":
        cents = _whole_cents(data)
        order_id = _id(data["orderId"], "data.orderId")
        return [OrderRefund(order_id, _id(data["refundId"], "data.refundId"), cents)]
    if topic == "order.cancelled":
        return [OrderRefund(_id(data["orderId"], "data.orderId"), "cancelled", None)]
    raise Unusable(
        f"Unknown type {topic[:64]!r}: customer.upserted, order.paid, order.refunded or "
        "order.cancelled."
    )
