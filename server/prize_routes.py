"""GET /prizes/{prize_id}/image.png: a prize's picture, public like the prizes (thin)."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response

from server.actions.prize_images import prize_image
from server.rewards.errors import NotFound

__all__ = ["image"]

# The prize's imageUrl carries the picture's version (?v=...): a new picture is a new URL.
_IMAGE_CACHE = "public, max-age=86400"


def _problem(status: int, message: str) -> Response:
    return Response(
        orjson.dumps({"error": message}), status_code=status, media_type="application/json"
    )


async def image(request: Request) -> Response:
    """The stored PNG with a strong ETag, 304 when unchanged; 404 JSON when there is none."""
    try:
        found = await prize_image(request.path_params["prize_id"])
    except NotFound as exc:
        return _problem(404, exc.message)
    headers = {"ETag": found.etag, "Cache-Control": _IMAGE_CACHE}
    asked = request.headers.get("if-none-match", "")
    if found.etag in (tag.strip() for tag in asked.split(",")) or asked.strip() == "*":
        return Response(status_code=304, headers=headers)
    return Response(found.png, media_type="image/png", headers=headers)
