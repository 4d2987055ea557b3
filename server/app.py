"""The Starlette app: /graphql (HTTP + graphql-transport-ws), /healthz, badge images,
Open Badges documents and the static pages.

``create_app`` owns the process's resources (ORM, Redis client, the event
log's consumers) in its lifespan unless the caller passes ready ``Services`` (tests).
Credentials are checked before any GraphQL runs: wrong or expired ones get a
401 JSON response and nothing is executed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any, cast

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from leaderboards import EmbeddedValkey, Leaderboards, connect
from schema import Context, build_schema, request_context
from server import badge_routes
from server.actions import Services, services_for, status
from server.auth import AuthError, Principal, authenticate
from server.db import orm
from server.failures import ErrorsAsJSON
from server.pages import page_routes
from server.settings import Settings

__all__ = ["app_from_environment", "create_app"]

_log = logging.getLogger("laurel.app")
_ACK = cast(UnsetType, UNSET)  # a plain connection_ack, no payload


class _GraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with our typed context and orjson responses."""

    def __init__(
        self, services: Services | None, secret: str, settings: Settings, **kwargs: Any
    ) -> None:
        super().__init__(build_schema(settings.max_query_cost, settings.max_page_size), **kwargs)
        self.services = services
        self.secret = secret

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        if self.services is None:
            raise RuntimeError("the app's lifespan has not started")
        principal: Principal = request.scope["laurel.principal"]
        sub_response = response if isinstance(response, Response) else None
        return request_context(principal, self.services, request, sub_response)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Browsers cannot set headers on a WebSocket: they may send ``Authorization``
        in the connection_init payload instead. Wrong credentials close the socket."""
        params = context.connection_params or {}
        raw = params.get("Authorization", params.get("authorization"))
        if raw is None:
            return _ACK
        try:
            context.principal = await authenticate(str(raw), self.secret)
        except AuthError:
            raise ConnectionRejectionError({"message": "invalid credentials"}) from None
        return _ACK


class _Authenticated:
    """ASGI wrapper: resolve the principal first; bad credentials never reach the schema."""

    def __init__(self, inner: _GraphQL, secret: str) -> None:
        self.inner = inner
        self.secret = secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or [])
        raw = headers.get(b"authorization")
        try:
            scope["laurel.principal"] = await authenticate(
                raw.decode("latin-1") if raw is not None else None, self.secret
            )
        except AuthError as exc:
            if scope["type"] == "websocket":
                await WebSocket(scope, receive, send).close(code=4401, reason=str(exc))
                return
            body = {"errors": [{"message": str(exc), "extensions": {"code": "UNAUTHENTICATED"}}]}
            response = JSONResponse(
                body, status_code=401, headers={"WWW-Authenticate": 'Bearer realm="laurel"'}
            )
            await response(scope, receive, send)
            return
        await self.inner(scope, receive, send)


@contextlib.asynccontextmanager
async def _resources(settings: Settings) -> AsyncIterator[Services]:
    """ORM, Redis client and the event log's consumers of one process."""
    embedded: EmbeddedValkey | None = None
    redis_url = settings.redis_url
    if redis_url is None:
        # Run without `laurel serve` (e.g. a bare uvicorn): bring our own Valkey.
        embedded = EmbeddedValkey(settings.data_dir)
        redis_url = embedded.start()
    redis = connect(redis_url)
    boards = Leaderboards(redis)
    svc = services_for(settings, boards)
    try:
        async with orm(settings.resolved_database_url):
            consumers = asyncio.create_task(svc.events.run_forever(), name="laurel-consumers")
            try:
                yield svc
            finally:
                svc.events.stop()
                with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                    await asyncio.wait_for(consumers, timeout=5)
                await svc.events.release()  # another worker takes over at once
    finally:
        await redis.aclose()
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)


def create_app(
    settings: Settings, *, services: Services | None = None, jwt_secret: str | None = None
) -> Starlette:
    """The app. With ``services`` given, the caller owns ORM and Redis (tests)."""
    secret = jwt_secret or settings.resolved_jwt_secret()
    graphql = _GraphQL(
        services,
        secret,
        settings,
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
    )
    endpoint = _Authenticated(graphql, secret)

    async def healthz(request: Request) -> Response:
        if graphql.services is None:
            raise RuntimeError("the app's lifespan has not started")
        state = await status(graphql.services)
        return JSONResponse(state.as_json(), status_code=200 if state.database else 503)

    def svc() -> Services:
        if graphql.services is None:
            raise RuntimeError("the app's lifespan has not started")
        return graphql.services

    def base_url(request: Request) -> str:
        return svc().public_url or str(request.base_url).rstrip("/")

    async def badge_image(request: Request) -> Response:
        return await badge_routes.image(svc(), request)

    async def issuer(request: Request) -> Response:
        return badge_routes.issuer(svc(), base_url(request))

    async def badge_class(request: Request) -> Response:
        return await badge_routes.badge_class(base_url(request), request)

    async def assertion(request: Request) -> Response:
        return await badge_routes.assertion(svc(), base_url(request), request)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if services is not None:
            yield
            return
        async with _resources(settings) as svc:
            graphql.services = svc
            yield

    return Starlette(
        routes=[
            Route("/graphql", endpoint, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", endpoint),
            Route("/healthz", healthz),
            Route("/badges/{slug}/{level:int}.png", badge_image),
            Route("/openbadges/issuer", issuer),
            Route("/openbadges/badges/{slug}/{level:int}", badge_class),
            Route("/openbadges/assertions/{token}", assertion),
            *page_routes(demo=settings.demo, secret=secret),
        ],
        # A database failure anywhere in a request answers JSON (503 + Retry-After).
        middleware=[Middleware(ErrorsAsJSON)],
        lifespan=lifespan,
    )


def app_from_environment() -> Starlette:
    """Factory for uvicorn workers (``laurel serve`` passes settings through the environment)."""
    from server.settings import load_settings

    return create_app(load_settings())
