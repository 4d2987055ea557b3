"""The /graphql endpoint: strawberry's ASGI view with our context, JSON and response
cache, behind the wrapper that checks credentials and rate limits before any GraphQL runs."""

from __future__ import annotations

import functools
import re
from typing import Any, cast

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.http.ides import GraphQL_IDE
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from schema import MAX_QUERY_CHARS, MAX_TOKENS, Context, build_schema, request_context
from server import request_json
from server.actions import Services
from server.auth import AuthError, Principal, Role, authenticate, key_still_valid
from server.graphiql import graphiql_page
from server.i18n import choose, render
from server.i18n.limits import localize_limits
from server.limits_http import operation_kind, several_operations_without_name, shorten_errors
from server.rate_limits import RateLimits, refuse
from server.response_cache import PersistedQueries, PersistedQueryError, ResponseCache
from server.rewards.text import msg, msg_n
from server.settings import Settings

__all__ = ["Authenticated", "GraphQLView"]

# A GraphQL name, as an operation's (the spec's Name), of a sane length; checked before
# graphql-core quotes it whole in "Unknown operation named ..." (or fails to encode it).
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,127}")
_ACK = cast(UnsetType, UNSET)  # a plain connection_ack, no payload
_TOO_LONG = msg_n(
    "The query is longer than {most:,} characters.",
    "The query is longer than {most:,} characters.",
    MAX_QUERY_CHARS,
    most=MAX_QUERY_CHARS,
)


class _KeyCheckingSocket(BaseGraphQLTransportWSHandler[Context, None]):
    """A WebSocket outlives the request that authenticated it, and may run queries and
    mutations too: each operation first asks whether its API key still stands, so a key
    revoked meanwhile closes the socket (4401) instead of running it."""

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not await key_still_valid(self.context.principal):
            await self.websocket.close(code=4401, reason="Unknown or revoked API key.")
            return
        await super().handle_subscribe(message)


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's ASGI view with our typed context and orjson responses."""

    graphql_transport_ws_handler_class = _KeyCheckingSocket

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
            raise HTTPException(400, render(exc.text)) from None

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
            body = {"errors": [{"message": render(exc.text), "extensions": {"code": exc.code}}]}
            response = JSONResponse(body, status_code=exc.status)
        await response(scope, receive, send)

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        if not isinstance(data, GraphQLRequestData):
            return data
        data.query = self.persisted.document(data.query, data.extensions)
        if isinstance(data.query, str) and len(data.query) > MAX_QUERY_CHARS:
            raise HTTPException(400, render(_TOO_LONG))
        name = data.operation_name
        if name is not None and (not isinstance(name, str) or not _NAME.fullmatch(name)):
            raise HTTPException(
                400, render(msg("operationName must be the name of an operation of the document."))
            )
        if several_operations_without_name(data.query, data.operation_name, MAX_TOKENS):
            raise HTTPException(
                400,
                render(msg("The document has several operations: say which one in operationName.")),
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
        errors = cast(list[dict[str, Any]], processed.get("errors") or [])
        shorten_errors(errors)
        localize_limits(errors)
        return processed

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Browsers cannot set headers on a WebSocket: they may send ``Authorization``
        in the connection_init payload instead. Wrong credentials close the socket."""
        params = context.connection_params or {}
        language = params.get("Accept-Language", params.get("accept-language"))
        if isinstance(language, str):
            choose(language)  # for the rest of this socket's operations
        raw = params.get("Authorization", params.get("authorization"))
        if raw is None:
            return _ACK
        try:
            context.principal = await authenticate(str(raw), self.secret)
        except AuthError:
            raise ConnectionRejectionError(
                {"message": render(msg("invalid credentials"))}
            ) from None
        return _ACK


class Authenticated:
    """ASGI wrapper: resolve the principal first; bad credentials never reach the schema."""

    def __init__(self, inner: GraphQLView, secret: str, limits: RateLimits) -> None:
        self.inner = inner
        self.secret = secret
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        given = [v for k, v in scope.get("headers") or [] if k == b"authorization"]
        raw = given[0] if len(given) == 1 else None
        address = self.limits.address(scope)
        try:
            if len(given) > 1:  # never pick one of several credentials
                raise AuthError(msg("Send one Authorization header, not several."))
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
                # A close reason is at most 123 bytes: the English (a code for programs).
                await WebSocket(scope, receive, send).close(code=4401, reason=str(exc))
                return
            message = render(exc.text)
            body = {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]}
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
