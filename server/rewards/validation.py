"""Input rules shared by the use cases. Each failure names the field as the client spells it."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import UTC, datetime, timedelta

import orjson

from server.rewards.errors import Invalid
from server.rewards.text import Text, msg, msg_n

__all__ = [
    "MAX_ARGUMENT_CHARS",
    "MAX_POINTS_PER_CALL",
    "MAX_POINT_TOTAL",
    "amount_cents",
    "argument_text",
    "clean_text",
    "code",
    "excerpt",
    "fingerprint",
    "idempotency_key",
    "optional_email",
    "optional_slug",
    "optional_text",
    "parse_id",
    "points_amount",
    "when",
]

MAX_POINTS_PER_CALL = 1_000_000
# Balances, lifetime totals and board scores are GraphQL Ints (32-bit signed).
MAX_POINT_TOTAL = 2**31 - 1
# No string argument is longer (the longest field, a review's text, takes 5,000).
MAX_ARGUMENT_CHARS = 10_000
# Characters of a bad value an error message or a log line may quote.
_EXCERPT = 40
# Leading and trailing whitespace a value may carry beyond its field's length.
_PADDING = 64
# Bidirectional overrides/isolates/marks and zero-width characters: they make a display
# name read differently from what it is ("evil\u202egnp.exe"), or look like another's.
_INVISIBLE = frozenset(
    "\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
# Embeddings and overrides reorder everything after them, in any text: a description
# with "\u202e" reads backwards. Isolates and marks (which mixed right-to-left text
# needs) and zero-width joiners (Persian needs ZWNJ) stay allowed in long texts.
_OVERRIDES = frozenset("\u202a\u202b\u202c\u202d\u202e")
_ZWJ = "\u200d"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")
_CLOCK_SKEW = timedelta(minutes=5)


def excerpt(value: str, limit: int = _EXCERPT) -> str:
    """At most ``limit`` characters of ``value``, printable, for messages and logs."""
    short = value[:limit].encode("utf-8", "backslashreplace").decode("utf-8")
    return repr(short) + ("..." if len(value) > limit else "")


def _surrogate_free(field: str, value: str) -> None:
    # A lone surrogate (JSON "\ud800") is no character: no database or encoder takes it.
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise Invalid(
            field, msg("{field} must be valid Unicode (it has a lone surrogate).", field=field)
        )


def argument_text(field: str, value: str) -> None:
    """What every string argument must be, whatever field it is for: at most
    ``MAX_ARGUMENT_CHARS`` long, valid Unicode, and no control characters other than
    tab and line breaks. Checked before any other work; each field's own rule
    (``clean_text`` and friends) then says more."""
    if len(value) > MAX_ARGUMENT_CHARS:
        raise Invalid(field, _at_most(field, MAX_ARGUMENT_CHARS))
    _surrogate_free(field, value)
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in value):
        raise Invalid(field, msg("{field} must not contain control characters.", field=field))


def clean_text(
    field: str,
    value: str,
    *,
    max_length: int,
    multiline: bool = False,
    display: bool = False,
    allow_empty: bool = False,
) -> str:
    """Stripped, NFC-normalized text of 1..max_length characters.

    Refused: lone surrogates and control characters; ``multiline`` texts (a review,
    a description) may hold line breaks (CRLF becomes LF) and tabs. ``display`` names
    (members, prizes, contests, badges, tiers) refuse bidirectional controls and
    zero-width characters, except a joiner inside an emoji sequence; every text
    refuses direction embeddings and overrides. The length is
    checked before anything else is done with the value.
    """
    if len(value) > max_length + _PADDING:
        raise Invalid(field, _at_most(field, max_length))
    _surrogate_free(field, value)
    text = unicodedata.normalize("NFC", value).strip()
    if multiline:
        text = text.replace("\r\n", "\n")
    if not text:
        if allow_empty:
            return ""
        raise Invalid(field, msg("{field} must not be empty.", field=field))
    if len(text) > max_length:
        raise Invalid(field, _at_most(field, max_length))
    allowed = "\n\t" if multiline else ""
    if any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in text):
        raise Invalid(
            field,
            msg("{field} must not contain control characters other than line breaks.", field=field)
            if multiline
            else msg("{field} must not contain control characters.", field=field),
        )
    if display and _has_invisible(text):
        raise Invalid(
            field,
            msg(
                "{field} must not contain direction overrides or zero-width characters.",
                field=field,
            ),
        )
    if any(ch in _OVERRIDES for ch in text):
        raise Invalid(
            field,
            msg(
                "{field} must not contain direction overrides (U+202A to U+202E);"
                " use isolates (U+2066 to U+2069) for mixed-direction text.",
                field=field,
            ),
        )
    return text


def _at_most(field: str, most: int) -> Text:
    return msg_n(
        "{field} must be at most {most} characters.",
        "{field} must be at most {most} characters.",
        most,
        field=field,
        most=most,
    )


def _has_invisible(text: str) -> bool:
    for i, ch in enumerate(text):
        if ch not in _INVISIBLE:
            continue
        if ch == _ZWJ and 0 < i < len(text) - 1 and _emoji_join(text[i - 1], text[i + 1]):
            continue  # 👩‍💻: a joiner between two symbols
        return True
    return False


def _emoji_join(before: str, after: str) -> bool:
    symbol = ("So", "Sk")
    return (before == "\ufe0f" or unicodedata.category(before) in symbol) and (
        unicodedata.category(after) in symbol
    )


def optional_text(
    field: str, value: str | None, *, max_length: int, multiline: bool = True
) -> str | None:
    """``clean_text`` for an optional text that may be empty (a description); None stays None."""
    if value is None:
        return None
    return clean_text(field, value, max_length=max_length, multiline=multiline, allow_empty=True)


def code(field: str, value: str, *, max_length: int, pattern: re.Pattern[str]) -> str | None:
    """A machine-made token (a referral code, an assertion id) or None when it cannot be
    one: the caller answers "not found" without asking the database about a value longer
    than its column."""
    if len(value) > max_length + _PADDING:
        return None
    text = value.strip()
    if len(text) > max_length or not pattern.fullmatch(text):
        return None
    return text


def idempotency_key(value: str) -> str:
    """1..128 printable ASCII characters, no spaces."""
    if not _KEY.match(value):
        raise Invalid(
            "idempotencyKey",
            msg("idempotencyKey must be 1 to 128 printable characters, no spaces."),
        )
    return value


def optional_email(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    email = value.strip()
    if len(email) > 254 or not email.isprintable() or not _EMAIL.match(email):
        raise Invalid("email", msg("email is not a valid address."))
    return email


def optional_slug(field: str, value: str | None) -> str | None:
    """A lowercase name like ``north-europe``; None when absent or blank."""
    if value is None or not value.strip():
        return None
    slug = value.strip().lower()
    if not _SLUG.match(slug):
        raise Invalid(
            field,
            msg(
                "{field} must be 1 to 64 of a-z, 0-9, '-' and '_', starting alphanumeric.",
                field=field,
            ),
        )
    return slug


def parse_id(field: str, value: str) -> int | None:
    """A numeric id, or None when it cannot name anything (the caller says not found)."""
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    return int(text)


def points_amount(
    field: str, value: int, *, allow_negative: bool, maximum: int = MAX_POINTS_PER_CALL
) -> int:
    """A non-zero amount of at most ``maximum`` in size (``LAUREL_MAX_POINTS_PER_CALL``)."""
    if value == 0:
        raise Invalid(field, msg("{field} must not be zero.", field=field))
    if value < 0 and not allow_negative:
        raise Invalid(field, msg("{field} must be positive.", field=field))
    if abs(value) > maximum:
        raise Invalid(
            field, msg("{field} must be at most {maximum} in size.", field=field, maximum=maximum)
        )
    return value


def amount_cents(field: str, value: int, *, maximum: int) -> int:
    """A positive amount of money in cents of at most ``maximum`` (``LAUREL_MAX_AMOUNT_CENTS``)."""
    if value <= 0:
        raise Invalid(field, msg("{field} must be positive.", field=field))
    if value > maximum:
        raise Invalid(
            field, msg("{field} must be at most {maximum}.", field=field, maximum=maximum)
        )
    return value


def when(field: str, value: datetime | None, *, now: datetime) -> datetime:
    """A moment not in the future (a few minutes of clock skew allowed); now when absent."""
    if value is None:
        return now
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    if moment > now + _CLOCK_SKEW:
        raise Invalid(field, msg("{field} must not be in the future.", field=field))
    return moment


def fingerprint(**fields: object) -> str:
    """A stable hash of a request's input, to tell a retry from a reuse of its key."""
    data = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(data).hexdigest()
