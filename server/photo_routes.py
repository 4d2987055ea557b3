"""POST /photos (a shopper's photo for a review) and GET /photos/{id}.jpg and
/photos/{id}/thumb.jpg (thin: authenticate, call the use case, shape the answer).

The upload is the file's raw bytes as the request body (any Content-Type; Pillow decides
what it is), with the shopper's token as ``Authorization: Bearer``. Errors are
``{"error": ...}`` JSON in the request's language, with ``field`` for a bad photo.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
from starlette.requests import Request
from starlette.responses import Response

from server.actions.photos import photo_file, photo_urls, upload_photo
from server.auth import AuthError, authenticate
from server.i18n import render
from server.responses import problem
from server.rewards.errors import Invalid, LimitReached, NotFound, PermissionDenied

__all__ = ["photo", "upload"]

# A photo's id is random and its bytes never change: keep it long, but only privately
# (a pending review's photo should not sit in a shared cache).
_CACHE = "private, max-age=604800, immutable"


async def upload(directory: Path, secret: str, request: Request) -> Response:
    """201 ``{"id", "url", "thumbnailUrl", "width", "height"}``; 400 for what is no
    picture, 401/403 without a shopper's token, 429 over the daily number."""
    try:
        principal = await authenticate(request.headers.get("authorization"), secret)
    except AuthError as exc:
        return problem(401, exc.text)
    try:
        stored = await upload_photo(principal, await request.body(), directory)
    except PermissionDenied as exc:
        return problem(403, exc.text)
    except LimitReached as exc:
        return problem(429, exc.text)
    except Invalid as exc:
        body = {"error": render(exc.text), "field": exc.field}
        return Response(orjson.dumps(body), status_code=400, media_type="application/json")
    url, thumbnail = photo_urls(stored.id)
    answer = {
        "id": stored.id,
        "url": url,
        "thumbnailUrl": thumbnail,
        "width": stored.width,
        "height": stored.height,
    }
    return Response(
        orjson.dumps(answer),
        status_code=201,
        media_type="application/json",
        headers={"Location": url},
    )


async def photo(directory: Path, request: Request, *, thumb: bool) -> Response:
    """The JPEG with its strong ETag, 304 when the request's If-None-Match has it."""
    try:
        found = await photo_file(request.path_params["photo_id"], directory, thumb=thumb)
    except NotFound as exc:
        return problem(404, exc.text)
    headers = {"ETag": found.etag, "Cache-Control": _CACHE}
    asked = request.headers.get("if-none-match", "")
    if found.etag in (tag.strip() for tag in asked.split(",")) or asked.strip() == "*":
        return Response(status_code=304, headers=headers)
    data = await asyncio.to_thread(found.path.read_bytes)
    return Response(data, media_type="image/jpeg", headers=headers)
