"""The static pages (community page, moderator console, owner's console) and, with
`laurel serve --demo`, the dev-only endpoints that hand out demo credentials."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from importlib.resources import files

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from server.actions import Services
from server.auth import create_api_key, issue_member_token
from server.page_board import with_board
from server.responses import problem
from server.rewards.members import Member
from server.rewards.staff import StaffRole
from server.rewards.text import msg

__all__ = ["page_routes"]

_TYPES = {".css": "text/css", ".js": "text/javascript"}
# The pages' message catalogs (frontend_stub/locales/<lang>.json).
_CATALOG_TYPES = {".json": "application/json"}
# The shipped files' names; anything else (a NUL, a path, a percent sign) names none.
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")


def _not_found() -> Response:
    return problem(404, msg("No such file."))


def _read(name: str) -> str:
    return files("frontend_stub").joinpath(name).read_text(encoding="utf-8")


async def _static(request: Request) -> Response:
    return _shipped(request.path_params["name"], "")


async def _chart_library(request: Request) -> Response:
    return _shipped(request.path_params["name"], "vendor/uplot/")


async def _catalog(request: Request) -> Response:
    return _shipped(request.path_params["name"], "locales/", _CATALOG_TYPES)


def _shipped(name: str, folder: str, types: dict[str, str] = _TYPES) -> Response:
    kind = types.get(name[name.rfind(".") :] if "." in name else "")
    if kind is None or not _NAME.fullmatch(name) or name.startswith("."):
        return _not_found()
    try:
        body = _read(folder + name)
    except (FileNotFoundError, IsADirectoryError):
        return _not_found()
    return Response(body, media_type=kind, headers={"Cache-Control": "no-cache"})


def page_routes(
    *, demo: bool, secret: str, services: Callable[[], Services | None] = lambda: None
) -> list[Route]:
    """The pages; ``services`` gives the running app's (None before its lifespan), from
    which the community page draws its first leaderboard rows."""

    async def index(request: Request) -> Response:
        return HTMLResponse(await with_board(_read("index.html"), services()))

    async def moderate(request: Request) -> Response:
        return HTMLResponse(_read("moderate.html"))

    async def admin(request: Request) -> Response:
        return HTMLResponse(_read("admin.html"))

    routes = [
        Route("/", index),
        Route("/moderate", moderate),
        Route("/admin", admin),
        Route("/static/{name}", _static),
        Route("/static/vendor/uplot/{name}", _chart_library),
        Route("/static/locales/{name}", _catalog),
    ]
    if not demo:
        return routes

    async def members(request: Request) -> Response:
        rows = await Member.all().order_by("-lifetime_points", "id").limit(50)
        body = [{"externalId": m.external_id, "displayName": m.display_name} for m in rows]
        return JSONResponse(body)

    async def token(request: Request) -> Response:
        try:
            asked = (await request.json())["externalId"]
        except (ValueError, KeyError, TypeError):
            return problem(400, msg('send {{"externalId": ...}}'))
        if not await Member.exists(external_id=str(asked)):
            return problem(404, msg("no such demo member"))
        made = await issue_member_token(str(asked), secret, ttl=timedelta(hours=8))
        return JSONResponse({"token": made})

    def staff_key(role: StaffRole, name: str) -> Callable[[Request], Awaitable[Response]]:
        async def handout(request: Request) -> Response:
            if request.method == "HEAD":
                return Response(status_code=200)
            return JSONResponse({"key": await create_api_key(role, name)})

        return handout

    return [
        *routes,
        Route("/demo/members", members),
        Route("/demo/token", token, methods=["POST"]),
        Route(
            "/demo/moderator-key",
            staff_key(StaffRole.MODERATOR, "demo console"),
            methods=["POST", "HEAD"],
        ),
        Route(
            "/demo/admin-key",
            staff_key(StaffRole.ADMIN, "demo owner console"),
            methods=["POST", "HEAD"],
        ),
    ]
