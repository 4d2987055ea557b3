"""Rules of community activities that are not numbers: share platforms and URLs,
review content, and e-mail normalization for self-referral checks."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from server.rewards.errors import Invalid
from server.rewards.text import msg, msg_n
from server.rewards.validation import clean_text

__all__ = [
    "SHARE_PLATFORMS",
    "normalize_email",
    "review_text",
    "share_platform",
    "share_url",
]

SHARE_PLATFORMS = frozenset(
    {
        "facebook",
        "x",
        "instagram",
        "pinterest",
        "whatsapp",
        "linkedin",
        "tiktok",
        "reddit",
        "threads",
        "bluesky",
        "email",
    }
)
REVIEW_TEXT_MIN = 20
REVIEW_TEXT_MAX = 5_000
_GMAIL = frozenset({"gmail.com", "googlemail.com"})


def share_platform(value: str) -> str:
    platform = value.strip().lower()
    if platform == "twitter":
        platform = "x"
    if platform not in SHARE_PLATFORMS:
        known = ", ".join(sorted(SHARE_PLATFORMS))
        raise Invalid("platform", msg("platform must be one of {known}.", known=known))
    return platform


def share_url(value: str, shop_domains: tuple[str, ...]) -> str:
    """The shared URL in a canonical form (one share per page, whatever the tracking tags).

    It must be http(s) and, when shop domains are configured, on one of them or
    a subdomain.
    """
    text = clean_text("url", value, max_length=500)
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower().rstrip(".")
        given_port = parts.port
    except ValueError:  # a bracketed host that is no IPv6 address, a port out of range
        raise Invalid("url", msg("url must be an http(s) address.")) from None
    if parts.scheme.lower() not in {"http", "https"} or not host:
        raise Invalid("url", msg("url must be an http(s) address."))
    if shop_domains and not any(host == d or host.endswith("." + d) for d in shop_domains):
        domains = ", ".join(shop_domains)
        raise Invalid(
            "url", msg("url must be on the shop's own site ({domains}).", domains=domains)
        )
    query = [(k, v) for k, v in parse_qsl(parts.query) if not k.lower().startswith("utm_")]
    path = parts.path.rstrip("/") or "/"
    port = f":{given_port}" if given_port and given_port not in (80, 443) else ""
    return urlunsplit(
        ("https", host.removeprefix("www.") + port, path, urlencode(sorted(query)), "")
    )


def review_text(value: str) -> str:
    text = clean_text("text", value, max_length=REVIEW_TEXT_MAX, multiline=True, allow_empty=True)
    if not REVIEW_TEXT_MIN <= len(text) <= REVIEW_TEXT_MAX:
        raise Invalid(
            "text",
            msg_n(
                "text must be {least} to {most} characters long.",
                "text must be {least} to {most} characters long.",
                REVIEW_TEXT_MAX,
                least=REVIEW_TEXT_MIN,
                most=REVIEW_TEXT_MAX,
            ),
        )
    return text


def normalize_email(value: str | None) -> str | None:
    """Lowercase, +tags removed, and Gmail's ignored dots removed: one person, one address."""
    if not value or "@" not in value:
        return None
    local, _, domain = value.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in _GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"
