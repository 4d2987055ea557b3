"""The Starlette app: /graphql (HTTP + graphql-transport-ws), /healthz, badge and prize
images, Open Badges documents and the static pages.

``create_app`` owns the process's resources (ORM, Redis client, the event
log's consumers) in its lifespan unless the caller passes ready ``Services`` (tests).
Credentials are checked before any GraphQL runs (``server.graphql_view.Authenticated``):
wrong or expired ones get a 401 JSON response and nothing is executed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from leaderboards import EmbeddedValkey, Leaderboards, RateLimiter, connect
from server import (
    badge_routes,
    hook_routes,
    metrics_routes,
    photo_routes,
    prize_routes,
    shop_routes,
)
from server.actions import Services, services_for, status
from server.actions.webhook_sender import WebhookSender
from server.db import orm
from server.failures import ErrorsAsJSON, http_error_as_json
from server.graphiql import GRAPHIQL_STYLE_HASHES, vendor_routes
from server.graphql_view import Authenticated, GraphQLView
from server.headers import SecurityHeaders
from server.i18n import Localized, load_catalogs
from server.limits_http import BodyLimit
from server.pages import page_routes
from server.rate_limits import RateLimits
from server.settings import Settings

__all__ = ["app_from_environment", "create_app"]


@contextlib.asynccontextmanager
async def _resources(settings: Settings) -> AsyncIterator[Services]:
    """ORM, Redis client and the event log's consumers of one process."""
    embedded: EmbeddedValkey | None = None
    redis_url = settings.redis_url
    if redis_url is None:
        # Run without `laurel serve` (e.g. a bare uvicorn): bring our own Valkey.
        embedded = EmbeddedValkey(settings.data_dir)
        redis_url = embedded.start()
    redis = connect(redis_url, cluster=settings.redis_cluster)
    boards = Leaderboards(redis)
    svc = services_for(settings, boards)
    sender = WebhookSender(svc, svc.events.owner)
    try:
        async with orm(settings.resolved_database_url):
            consumers = asyncio.create_task(svc.events.run_forever(), name="laurel-consumers")
            sending = (
                asyncio.create_task(sender.run_forever(), name="laurel-webhooks")
                if settings.run_consumers
                else None
            )
            try:
                yield svc
            finally:
                svc.events.stop()
                sender.stop()
                with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                    await asyncio.wait_for(consumers, timeout=5)
                if sending is not None:
                    sending.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await sending
                await svc.events.release()  # another worker takes over at once
                await sender.aclose()
    finally:
        await redis.aclose()
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)


def create_app(
    settings: Settings,
    *,
    services: Services | None = None,
    jwt_secret: str | None = None,
    rate_limiter: RateLimiter | None = None,
) -> Starlette:
    """The app. With ``services`` given, the caller owns ORM and Redis (tests).
    ``rate_limiter``: where the rate limits count; default: the boards' Redis."""
    secret = jwt_secret or settings.resolved_jwt_secret()
    load_catalogs()  # a broken catalog stops start-up, not a request
    graphql = GraphQLView(
        services,
        secret,
        settings,
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
    )
    rate_limits = RateLimits(settings, rate_limiter)
    if services is not None:
        rate_limits.use(services.boards)
    endpoint = Authenticated(graphql, secret, rate_limits)

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

    async def hook(request: Request) -> Response:
        return await hook_routes.receive(svc(), request)

    async def metrics_csv(request: Request) -> Response:
        return await metrics_routes.metrics_csv(svc(), secret, request)

    photos = settings.resolved_photo_dir

    async def upload_photo(request: Request) -> Response:
        return await photo_routes.upload(photos, secret, request)

    async def photo(request: Request) -> Response:
        return await photo_routes.photo(photos, request, thumb=False)

    async def photo_thumb(request: Request) -> Response:
        return await photo_routes.photo(photos, request, thumb=True)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if services is not None:
            yield
            return
        async with _resources(settings) as svc:
            graphql.services = svc
            rate_limits.use(svc.boards)
            try:
                yield
            finally:
                await rate_limits.aclose()

    return Starlette(
        routes=[
            Route("/graphql", endpoint, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", endpoint),
            Route("/healthz", healthz),
            Route("/badges/{slug}/{level}.png", badge_image),
            Route("/prizes/{prize_id}/image.png", prize_routes.image),
            Route("/photos", upload_photo, methods=["POST"]),
            Route("/photos/{photo_id}.jpg", photo),
            Route("/photos/{photo_id}/thumb.jpg", photo_thumb),
            Route("/shop/logo.png", shop_routes.logo),
            Route("/openbadges/issuer", issuer),
            Route("/openbadges/badges/{slug}/{level}", badge_class),
            Route("/openbadges/assertions/{token}", assertion),
            Route("/hooks/{source}", hook, methods=["POST"]),
            Route("/admin/metrics.csv", metrics_csv),
            *page_routes(demo=settings.demo, secret=secret, services=lambda: graphql.services),
            *(vendor_routes() if settings.graphiql else []),
        ],
        # A database failure anywhere in a request answers JSON (503 + Retry-After).
        middleware=[
            Middleware(
                SecurityHeaders,
                public_url=settings.public_url,
                style_hashes={"/graphql": GRAPHIQL_STYLE_HASHES},
            ),
            # Every answer below, its errors included, in the language the request asks for.
            Middleware(Localized),
            Middleware(
                BodyLimit,
                max_bytes=settings.max_body_bytes,
                timeout=settings.body_timeout_seconds,
            ),
            Middleware(ErrorsAsJSON),
        ],
        # No such route (404) or method (405): JSON too, not Starlette's plain text.
        exception_handlers={StarletteHTTPException: http_error_as_json},
        lifespan=lifespan,
    )


def app_from_environment() -> Starlette:
    """Factory for uvicorn workers (``laurel serve`` passes settings through the environment)."""
    from server.settings import load_settings

    return create_app(load_settings())
