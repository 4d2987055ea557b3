"""GET /shop/logo.png: the shop's logo, public like its name (thin)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.actions.shop import shop_logo
from server.responses import cached_png, problem
from server.rewards.errors import NotFound

__all__ = ["logo"]


async def logo(request: Request) -> Response:
    """The stored PNG with a strong ETag, 304 when unchanged; 404 JSON when there is none.
    The shop's logoUrl carries the logo's version (?v=...)."""
    try:
        found = await shop_logo()
    except NotFound as exc:
        return problem(404, exc.text)
    return cached_png(request, found.png, found.etag)
