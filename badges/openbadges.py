"""Open Badges 2.0 documents (hosted verification) and PNG baking.

An exported grant gets an unguessable assertion id; its JSON, the badge class
and the issuer profile are served by the app under ``/openbadges/``. A baked
PNG carries the assertion JSON in an ``iTXt`` chunk with keyword
``openbadges``, as the baking specification asks.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

from PIL import Image, PngImagePlugin

from badges.art import METAL_NAMES, metal_index
from badges.models import BadgeAward, BadgeDefinition

__all__ = ["CONTEXT", "assertion", "badge_class", "bake", "issuer", "level_name", "revoked"]

CONTEXT = "https://w3id.org/openbadges/v2"


def level_name(level: int, levels: int) -> str:
    """The metal of a level as drawn on the badge; empty for a single-level badge."""
    return "" if levels == 1 else METAL_NAMES[metal_index(level, levels)]


def issuer(base_url: str, name: str) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "type": "Profile",
        "id": f"{base_url}/openbadges/issuer",
        "name": name,
        "url": f"{base_url}/",
    }


def badge_class(base_url: str, badge: BadgeDefinition, level: int) -> dict[str, Any]:
    levels = len(badge.thresholds)
    suffix = level_name(level, levels)
    return {
        "@context": CONTEXT,
        "type": "BadgeClass",
        "id": f"{base_url}/openbadges/badges/{badge.slug}/{level}",
        "name": f"{badge.name} ({suffix})" if suffix else badge.name,
        "description": badge.description,
        "image": f"{base_url}/badges/{badge.slug}/{level}.png",
        "criteria": {
            "narrative": f"{badge.description} Level {level} of {levels}: "
            f"{badge.thresholds[level - 1]} {badge.metric.lower().replace('_', ' ')}."
        },
        "issuer": f"{base_url}/openbadges/issuer",
    }


def assertion(
    base_url: str, token: str, award: BadgeAward, badge: BadgeDefinition, identity: str
) -> dict[str, Any]:
    """A hosted assertion; the recipient is the member's email (or id), salted and hashed."""
    salt = hashlib.sha256(f"{token}:salt".encode()).hexdigest()[:16]
    hashed = hashlib.sha256((identity.lower() + salt).encode()).hexdigest()
    return {
        "@context": CONTEXT,
        "type": "Assertion",
        "id": f"{base_url}/openbadges/assertions/{token}",
        "recipient": {
            "type": "email" if "@" in identity else "id",
            "hashed": True,
            "salt": salt,
            "identity": f"sha256${hashed}",
        },
        "badge": f"{base_url}/openbadges/badges/{badge.slug}/{award.level}",
        "verification": {"type": "HostedBadge"},
        "issuedOn": award.awarded_at.isoformat(),
        "image": f"{base_url}/openbadges/assertions/{token}.png",
    }


def revoked(base_url: str, token: str, reason: str | None) -> dict[str, Any]:
    """What a hosted assertion answers once revoked (served with HTTP 410)."""
    return {
        "@context": CONTEXT,
        "type": "Assertion",
        "id": f"{base_url}/openbadges/assertions/{token}",
        "revoked": True,
        "revocationReason": reason or "Revoked",
    }


def bake(png: bytes, text: str) -> bytes:
    """``png`` with ``text`` in an iTXt chunk ``openbadges`` (uncompressed)."""
    image = Image.open(io.BytesIO(png))
    info = PngImagePlugin.PngInfo()
    info.add_itxt("openbadges", text, zip=False)
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()
