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
import functools
import logging
from collections.abc import AsyncIterator
from typing import Any, cast

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.http.ides import GraphQL_IDE
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from leaderboards import EmbeddedValkey, Leaderboards, RateLimiter, connect
from schema import MAX_TOKENS, Context, build_schema, request_context
from server import badge_routes, request_json
from server.actions import Services, services_for, status
from server.auth import AuthError, Principal, Role, authenticate
from server.db import orm
from server.failures import ErrorsAsJSON, http_error_as_json
from server.graphiql import GRAPHIQL_STYLE_HASHES, graphiql_page, vendor_routes
from server.headers import SecurityHeaders
from server.limits_http import (
    BodyLimit,
    operation_kind,
    several_operations_without_name,
    shorten_errors,
)
from server.pages import page_routes
from server.rate_limits import RateLimits, refuse
from server.response_cache import PersistedQueries, PersistedQueryError, ResponseCache
from server.settings import Settings

__all__ = ["app_from_environment", "create_app"]

_log = logging.getLogger("laurel.app")
_ACK = cast(UnsetType, UNSET)  # a plain connection_ack, no payload


class _GraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with our typed context and orjson responses."""

    def __init__(
        self, services: Services | None, secret: str, settings: Settings, **kwargs: Any
    ) -> None:
        schema = build_schema(
            settings.max_query_cost, settings.max_page_size, introspection=settings.introspection
        )
        ide: GraphQL_IDE | None = "graphiql" if settings.graphiql else None
        super().__init__(schema, graphql_ide=ide, **kwargs)
        self.services = services
        self.secret = secret
        self.persisted = PersistedQueries()
        self.response_cache = settings.response_cache

    @functools.cached_property
    def responses(self) -> ResponseCache:
        """Anonymous answers, kept as long as the board pages (LAUREL_LEADERBOARD_CACHE_SECONDS
        in a server; none for services a test builds itself)."""
        if self.services is None:
            raise RuntimeError("the app's lifespan has not started")
        return ResponseCache(self.services.board_cache.ttl if self.response_cache else 0)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        if self.services is None:
            raise RuntimeError("the app's lifespan has not started")
        principal: Principal = request.scope["laurel.principal"]
        sub_response = response if isinstance(response, Response) else None
        return request_context(principal, self.services, request, sub_response)

    def encode_json(self, data: object) -> bytes:
        try:
            return orjson.dumps(data)
        except TypeError:
            return request_json.encode_fallback(data)

    def decode_json(self, data: str | bytes) -> object:
        """WebSocket messages: anything malformed closes the socket (4400)."""
        return request_json.decode(data)

    def parse_json(self, data: str | bytes) -> Any:
        """A request body or ``variables``/``extensions`` in a URL: 400 naming the problem."""
        try:
            return request_json.decode(data)
        except request_json.BadJSON as exc:
            raise HTTPException(400, exc.reason) from None

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        """Not for a persisted query sent by GET, which has no ``query`` either."""
        return "extensions" not in request.query_params and super().should_render_graphql_ide(
            request
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        """Our GraphiQL page: the shipped assets, no CDN, no inline script (CSP)."""
        return graphiql_page()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Strawberry answers a request it refuses (HTTPException) in plain text; JSON here."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as exc:
            body = {"errors": [{"message": exc.reason, "extensions": {"code": "BAD_REQUEST"}}]}
            response = JSONResponse(body, status_code=exc.status_code)
        except PersistedQueryError as exc:
            body = {"errors": [{"message": exc.message, "extensions": {"code": exc.code}}]}
            response = JSONResponse(body, status_code=exc.status)
        await response(scope, receive, send)

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        if not isinstance(data, GraphQLRequestData):
            return data
        document = self.persisted.document(data.query, data.extensions)
        if isinstance(document, str) or document is None:
            data.query = document
        if several_operations_without_name(data.query, data.operation_name, MAX_TOKENS):
            raise HTTPException(
                400, "The document has several operations: say which one in operationName."
            )
        return data

    async def execute_single(  # strawberry's signature
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """An anonymous query may be answered from the response cache (server/response_cache)."""
        run = functools.partial(
            super().execute_single,
            request=request,
            request_adapter=request_adapter,
            sub_response=sub_response,
            context=context,
            root_value=root_value,
            request_data=request_data,
        )
        query, name = request_data.query, request_data.operation_name
        if (
            self.responses.enabled
            and context.principal.role is Role.ANONYMOUS
            and isinstance(query, str)
            and operation_kind(query, name, MAX_TOKENS) == "query"
        ):
            key = ResponseCache.key(query, name, request_data.variables)
            if key is not None:
                return await self.responses.answer(key, run)
        return await run()

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        processed = await super().process_result(request, result)
        shorten_errors(cast(list[dict[str, Any]], processed.get("errors") or []))
        return processed

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

    def __init__(self, inner: _GraphQL, secret: str, limits: RateLimits) -> None:
        self.inner = inner
        self.secret = secret
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        given = [v for k, v in scope.get("headers") or [] if k == b"authorization"]
        raw = given[0] if len(given) == 1 else None
        address = self.limits.address(scope)
        try:
            if len(given) > 1:  # never pick one of several credentials
                raise AuthError("Send one Authorization header, not several.")
            scope["laurel.principal"] = await authenticate(
                raw.decode("latin-1") if raw is not None else None, self.secret
            )
        except AuthError as exc:
            given_text = given[0].decode("latin-1") if given else None
            verdict = await self.limits.failed_auth(address, given_text)
            if not verdict.allowed:  # guessing: 429 instead of 401 (server/rate_limits.py)
                await refuse(scope, receive, send, verdict)
                return
            if scope["type"] == "websocket":
                await WebSocket(scope, receive, send).close(code=4401, reason=str(exc))
                return
            body = {"errors": [{"message": str(exc), "extensions": {"code": "UNAUTHENTICATED"}}]}
            response = JSONResponse(
                body, status_code=401, headers={"WWW-Authenticate": 'Bearer realm="laurel"'}
            )
            await response(scope, receive, send)
            return
        principal = scope["laurel.principal"]
        verdict = await self.limits.request(address, principal)
        if not verdict.allowed:
            await refuse(scope, receive, send, verdict)
            return
        if scope["type"] == "websocket":  # every message counts too
            receive = self.limits.counted_receive(receive, send, address, principal)
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
    redis = connect(redis_url, cluster=settings.redis_cluster)
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
    settings: Settings,
    *,
    services: Services | None = None,
    jwt_secret: str | None = None,
    rate_limiter: RateLimiter | None = None,
) -> Starlette:
    """The app. With ``services`` given, the caller owns ORM and Redis (tests).
    ``rate_limiter``: where the rate limits count; default: the boards' Redis."""
    secret = jwt_secret or settings.resolved_jwt_secret()
    graphql = _GraphQL(
        services,
        secret,
        settings,
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
    )
    rate_limits = RateLimits(settings, rate_limiter)
    if services is not None:
        rate_limits.use(services.boards)
    endpoint = _Authenticated(graphql, secret, rate_limits)

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
            Route("/openbadges/issuer", issuer),
            Route("/openbadges/badges/{slug}/{level}", badge_class),
            Route("/openbadges/assertions/{token}", assertion),
            *page_routes(demo=settings.demo, secret=secret),
            *(vendor_routes() if settings.graphiql else []),
        ],
        # A database failure anywhere in a request answers JSON (503 + Retry-After).
        middleware=[
            Middleware(
                SecurityHeaders,
                public_url=settings.public_url,
                style_hashes={"/graphql": GRAPHIQL_STYLE_HASHES},
            ),
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
