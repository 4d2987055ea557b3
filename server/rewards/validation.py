"""Input rules shared by the use cases. Each failure names the field as the client spells it."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import UTC, datetime, timedelta

import orjson

from server.rewards.errors import Invalid

__all__ = [
    "MAX_POINTS_PER_CALL",
    "clean_text",
    "fingerprint",
    "idempotency_key",
    "optional_email",
    "optional_slug",
    "parse_id",
    "points_amount",
    "when",
]

MAX_POINTS_PER_CALL = 1_000_000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")
_CLOCK_SKEW = timedelta(minutes=5)


def clean_text(field: str, value: str, *, max_length: int) -> str:
    """Stripped text of 1..max_length characters without control characters."""
    text = value.strip()
    if not text:
        raise Invalid(field, f"{field} must not be empty.")
    if len(text) > max_length:
        raise Invalid(field, f"{field} must be at most {max_length} characters.")
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise Invalid(field, f"{field} must not contain control characters.")
    return text


def idempotency_key(value: str) -> str:
    """1..128 printable ASCII characters, no spaces."""
    if not _KEY.match(value):
        raise Invalid(
            "idempotencyKey", "idempotencyKey must be 1 to 128 printable characters, no spaces."
        )
    return value


def optional_email(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    email = value.strip()
    if len(email) > 254 or not _EMAIL.match(email):
        raise Invalid("email", "email is not a valid address.")
    return email


def optional_slug(field: str, value: str | None) -> str | None:
    """A lowercase name like ``north-europe``; None when absent or blank."""
    if value is None or not value.strip():
        return None
    slug = value.strip().lower()
    if not _SLUG.match(slug):
        raise Invalid(
            field, f"{field} must be 1 to 64 of a-z, 0-9, '-' and '_', starting alphanumeric."
        )
    return slug


def parse_id(field: str, value: str) -> int | None:
    """A numeric id, or None when it cannot name anything (the caller says not found)."""
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    return int(text)


def points_amount(field: str, value: int, *, allow_negative: bool) -> int:
    if value == 0:
        raise Invalid(field, f"{field} must not be zero.")
    if value < 0 and not allow_negative:
        raise Invalid(field, f"{field} must be positive.")
    if abs(value) > MAX_POINTS_PER_CALL:
        raise Invalid(field, f"{field} must be at most {MAX_POINTS_PER_CALL} in size.")
    return value


def when(field: str, value: datetime | None, *, now: datetime) -> datetime:
    """A moment not in the future (a few minutes of clock skew allowed); now when absent."""
    if value is None:
        return now
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    if moment > now + _CLOCK_SKEW:
        raise Invalid(field, f"{field} must not be in the future.")
    return moment


def fingerprint(**fields: object) -> str:
    """A stable hash of a request's input, to tell a retry from a reuse of its key."""
    data = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(data).hexdigest()
