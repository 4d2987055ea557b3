"""Signed deliveries as the platforms send them, built from their documented payloads."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

FIXTURES = Path(__file__).parent / "fixtures"
SHOPIFY_SECRET = "shpss_" + "s" * 32
CREATE = """
mutation($input: CreateIntegrationInput!) {
  createIntegration(input: $input) {
    __typename
    ... on IntegrationSecret { secret integration { id kind hookPath } }
    ... on Error { message }
  }
}"""
DELIVERIES = """
query($id: ID!) { hookDeliveries(integrationId: $id) { deliveryId topic status reason } }"""


def fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return loaded


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def platform_signature(secret: str, body: bytes) -> str:
    """Shopify's and WooCommerce's: base64 HMAC-SHA256 of the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


async def shopify(
    client: httpx.AsyncClient,
    topic: str,
    payload: dict[str, Any],
    webhook_id: str,
    secret: str = SHOPIFY_SECRET,
) -> httpx.Response:
    body = body_of(payload)
    return await client.post(
        "/hooks/shopify",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": platform_signature(secret, body),
            "X-Shopify-Webhook-Id": webhook_id,
            "X-Shopify-Shop-Domain": "laurel-test.myshopify.com",
        },
    )


async def woocommerce(
    client: httpx.AsyncClient, topic: str, payload: dict[str, Any], delivery: str, secret: str
) -> httpx.Response:
    body = body_of(payload)
    return await client.post(
        "/hooks/woocommerce",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Signature": platform_signature(secret, body),
            "X-WC-Webhook-Delivery-ID": delivery,
            "X-WC-Webhook-Source": "https://shop.example/",
        },
    )


async def generic(
    client: httpx.AsyncClient,
    payload: dict[str, Any],
    message_id: str,
    secret: str,
    at: datetime | None = None,
) -> httpx.Response:
    """Signed by the standardwebhooks package, not by Laurel's code."""
    body = json.dumps(payload)
    moment = at or datetime.now(UTC)
    signature = Webhook(secret).sign(message_id, moment, body)
    return await client.post(
        "/hooks/laurel",
        content=body.encode(),
        headers={
            "Content-Type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(int(moment.timestamp())),
            "webhook-signature": signature,
        },
    )
