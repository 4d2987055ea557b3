"""``Accept-Language`` to one of our languages (RFC 9110, section 12.5.4)."""

from __future__ import annotations

import functools
import math

from babel.core import negotiate_locale

from server.i18n.catalogs import LANGUAGES

__all__ = ["negotiate"]

# A header is a short list; a longer one is read no further than this.
_MAX_RANGES = 32


@functools.lru_cache(maxsize=256)  # a browser sends the same header with every request
def negotiate(header: str | None, available: tuple[str, ...] = LANGUAGES) -> str:
    """The language the header prefers most among ``available``: ranges by falling
    q-value (ties in the order given), a region falling back to its language
    (``ru-RU`` is ``ru``), ``q=0`` and ``*`` choosing nothing; else the first of
    ``available`` (English). Never raises, whatever the header holds."""
    if not header:
        return available[0]
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:_MAX_RANGES]):
        tag, *parameters = part.split(";")
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                quality = _quality(value)
        tag = tag.strip().replace("_", "-")
        if tag and tag != "*" and quality > 0 and tag.isascii() and len(tag) <= 35:
            ranked.append((-quality, position, tag))
    preferred = [tag for _, _, tag in sorted(ranked)]
    found = negotiate_locale(preferred, list(available), sep="-") if preferred else None
    return found.lower() if found else available[0]


def _quality(value: str) -> float:
    try:
        quality = float(value.strip())
    except ValueError:
        return 0.0
    return quality if math.isfinite(quality) and 0 <= quality <= 1 else 0.0
