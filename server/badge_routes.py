"""HTTP endpoints for badge images and Open Badges 2.0 documents (thin: parse, call, shape)."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response

from badges import openbadges as ob
from badges.art import MAX_SIZE, MIN_SIZE
from server import actions
from server.actions import Services
from server.responses import cached_png, problem
from server.rewards.errors import Invalid, NotFound
from server.rewards.text import msg
from server.rewards.validation import excerpt

__all__ = ["assertion", "badge_class", "image", "issuer"]

_JSON_LD = "application/ld+json"
_DOCUMENT_CACHE = "public, max-age=300"


def _json(body: object, status: int = 200, cache: str = _DOCUMENT_CACHE) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type=_JSON_LD,
        headers={"Cache-Control": cache if status == 200 else "no-store"},
    )


def _size(request: Request) -> int | None:
    """``?size=``: absent is the default size; anything given, 0 included, must be in range."""
    raw = request.query_params.get("size")
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 4 and MIN_SIZE <= int(raw) <= MAX_SIZE):
        raise Invalid(
            "size",
            msg(
                "size must be a whole number of pixels, {least} to {most}.",
                least=MIN_SIZE,
                most=MAX_SIZE,
            ),
        )
    return int(raw)


def _level(request: Request) -> int | None:
    """The level in the path, or None when it names none (a level is 1 to a few)."""
    raw: str = request.path_params["level"]
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 4 else None


async def image(svc: Services, request: Request) -> Response:
    """GET /badges/{slug}/{level}.png[?size=64..512]: strong ETag, 304 when unchanged."""
    try:
        level = _level(request)
        if level is None:
            raise NotFound(msg("No such badge level."))
        found = await actions.badge_image(svc, request.path_params["slug"], level, _size(request))
    except NotFound as exc:
        return problem(404, exc.text)
    except Invalid as exc:
        return problem(400, exc.text)
    return cached_png(request, found.png, found.etag)


def issuer(svc: Services, base_url: str) -> Response:
    return _json(ob.issuer(base_url, svc.shop_name))


async def badge_class(base_url: str, request: Request) -> Response:
    slug, level = request.path_params["slug"], _level(request)
    badge = (await actions.badges_by_slug([slug])).get(slug)
    if badge is None or level is None or not 1 <= level <= len(badge.thresholds):
        return problem(
            404,
            msg(
                "No badge {slug} with level {level}.",
                slug=excerpt(slug),
                level=excerpt(str(request.path_params["level"])),
            ),
        )
    return _json(ob.badge_class(base_url, badge, level))


async def assertion(svc: Services, base_url: str, request: Request) -> Response:
    """The hosted assertion (JSON), or with ``.png`` the badge image with it baked in.

    A revoked assertion answers 410 Gone with ``revoked: true``, as Open Badges asks.
    """
    token: str = request.path_params["token"]
    baked = token.endswith(".png")
    token = token.removesuffix(".png")
    try:
        found = await actions.hosted_assertion(svc, base_url, token)
    except NotFound as exc:
        return problem(404, exc.text)
    if found.revoked:
        return _json(found.document, status=410)
    if not baked:
        return _json(found.document)
    picture = await actions.badge_image(svc, found.badge.slug, found.award.level, None)
    png = ob.bake(picture.png, orjson.dumps(found.document).decode())
    return Response(png, media_type="image/png", headers={"Cache-Control": _DOCUMENT_CACHE})
