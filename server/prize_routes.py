"""GET /prizes/{prize_id}/image.png: a prize's picture, public like the prizes (thin)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.actions.prize_images import prize_image
from server.responses import cached_png, problem
from server.rewards.errors import NotFound

__all__ = ["image"]


async def image(request: Request) -> Response:
    """The stored PNG with a strong ETag, 304 when unchanged; 404 JSON when there is none.
    The prize's imageUrl carries the picture's version (?v=...)."""
    try:
        found = await prize_image(request.path_params["prize_id"])
    except NotFound as exc:
        return problem(404, exc.text)
    return cached_png(request, found.png, found.etag)
