"""Badge PNGs rendered once per (slug, level, size, art version) and kept in memory."""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from dataclasses import dataclass

from badges.art import MAX_SIZE, MIN_SIZE, render_png
from badges.models import BadgeDefinition
from badges.spec import Art

__all__ = ["DEFAULT_SIZE", "BadgeImage", "ImageCache", "draw"]

DEFAULT_SIZE = 256


@dataclass(frozen=True, slots=True)
class BadgeImage:
    png: bytes
    etag: str  # strong: a hash of the bytes, quoted


async def draw(art: Art, level: int, levels: int, size: int) -> BadgeImage:
    """A badge with ``levels`` levels drawn from its art spec at ``level``: what its image
    URL serves and what an admin's preview of a design shows, byte for byte."""
    # Drawing takes a few milliseconds of CPU: keep the event loop free meanwhile.
    png = await asyncio.to_thread(
        render_png, art.shape, art.glyph, art.primary, art.secondary, level, levels, size
    )
    return BadgeImage(png=png, etag='"' + hashlib.sha256(png).hexdigest()[:32] + '"')


class ImageCache:
    """An LRU of rendered images; a changed art spec bumps the version and misses."""

    def __init__(self, capacity: int = 512) -> None:
        self._capacity = capacity
        self._items: OrderedDict[tuple[str, int, int, int], BadgeImage] = OrderedDict()

    async def get(self, badge: BadgeDefinition, level: int, size: int) -> BadgeImage:
        if not 1 <= level <= len(badge.thresholds):
            raise ValueError(f"{badge.slug} has no level {level}")
        if not MIN_SIZE <= size <= MAX_SIZE:
            raise ValueError(f"size must be {MIN_SIZE} to {MAX_SIZE}")
        key = (badge.slug, level, size, badge.art_version)
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
            return found
        image = await draw(Art(**badge.art), level, len(badge.thresholds), size)
        self._items[key] = image
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)
        return image
