"""Webhook signatures: Shopify's and WooCommerce's (base64 HMAC-SHA256 of the raw body)
and the Standard Webhooks spec's (``webhook-id``, ``webhook-timestamp``,
``webhook-signature: v1,<base64>``), which Laurel's generic format and its outgoing
webhooks use. Every comparison is constant-time and over the raw bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta

from server.rewards.errors import Invalid
from server.rewards.text import msg

__all__ = [
    "TOLERANCE_SECONDS",
    "live_secrets",
    "new_standard_secret",
    "new_woocommerce_secret",
    "platform_signature_valid",
    "rotation",
    "sign_standard",
    "standard_signature_valid",
]

TOLERANCE_SECONDS = 300  # the spec's 5 minutes either way
_PREFIX = "whsec_"


def _digest(key: bytes, content: bytes) -> bytes:
    return hmac.new(key, content, hashlib.sha256).digest()


def rotation(new: str, old: str, now: datetime, grace_hours: int) -> dict[str, object]:
    """The columns of a secret rotation: ``new`` from now on, ``old`` still valid for
    ``grace_hours`` (0 to 168, else ``Invalid``)."""
    if not 0 <= grace_hours <= 168:
        raise Invalid("graceHours", msg("graceHours must be 0 to 168."))
    return {
        "secret": new,
        "previous_secret": old,
        "previous_until": now + timedelta(hours=grace_hours),
    }


def live_secrets(
    secret: str, previous: str | None, until: datetime | None, now: datetime
) -> list[str]:
    """The secrets that sign or verify now: the current one, and the previous one while
    its rotation's grace lasts."""
    if previous and until and until > now:
        return [secret, previous]
    return [secret]


def platform_signature_valid(secret: str, body: bytes, signature: str | None) -> bool:
    """Shopify's ``X-Shopify-Hmac-Sha256`` and WooCommerce's ``X-WC-Webhook-Signature``:
    the base64 HMAC-SHA256 of the body, keyed by the secret as UTF-8 text."""
    if not signature:
        return False
    expected = base64.b64encode(_digest(secret.encode(), body))
    return hmac.compare_digest(expected, signature.strip().encode("ascii", "replace"))


def new_standard_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return _PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def new_woocommerce_secret() -> str:
    """A secret to paste into WooCommerce's webhook form (any text works there)."""
    return secrets.token_urlsafe(32)


def _standard_key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(_PREFIX), validate=True)
    except binascii.Error:
        return secret.encode()  # a secret pasted in another shape: used as text


def sign_standard(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header of a message."""
    content = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(_digest(_standard_key(secret), content)).decode()


def standard_signature_valid(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: float
) -> str | None:
    """None when the headers sign the body within the tolerance; else why not."""
    message_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not (message_id and stamp and signatures):
        return "webhook-id, webhook-timestamp and webhook-signature are required."
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        return "webhook-timestamp must be seconds since 1970."
    if abs(now - int(stamp)) > TOLERANCE_SECONDS:
        return "webhook-timestamp is more than 5 minutes away from now."
    expected = sign_standard(secret, message_id, int(stamp), body).encode()
    for given in signatures.split():
        if given.startswith("v1,") and hmac.compare_digest(
            expected, given.encode("ascii", "replace")
        ):
            return None
    return "webhook-signature does not match."
