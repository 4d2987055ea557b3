"""Responses the plain HTTP routes share: a JSON error body (in the caller's language),
and a PNG whose URL carries its version, so that browsers keep it for a day and ask again
with its ETag."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response

from server.i18n import render
from server.rewards.text import Text

__all__ = ["cached_png", "problem"]

# Image URLs carry the picture's version (?v=...): a new picture is a new URL.
_IMAGE_CACHE = "public, max-age=86400"


def problem(status: int, message: Text) -> Response:
    """``{"error": message}`` with ``status``, the message in the request's language."""
    return Response(
        orjson.dumps({"error": render(message)}),
        status_code=status,
        media_type="application/json",
    )


def cached_png(request: Request, png: bytes, etag: str) -> Response:
    """The PNG with its strong ETag, or 304 when the request's If-None-Match has it."""
    headers = {"ETag": etag, "Cache-Control": _IMAGE_CACHE}
    asked = request.headers.get("if-none-match", "")
    if etag in (tag.strip() for tag in asked.split(",")) or asked.strip() == "*":
        return Response(status_code=304, headers=headers)
    return Response(png, media_type="image/png", headers=headers)
