"""The per-request context: the caller, the use-case services and the DataLoaders.

``schema.request_context`` builds it; the loaders are typed here but built above
every type module (they make nodes of several domains), so this module, which every
type module imports, imports none of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info as _Info

from server.actions import Services
from server.auth import Principal

if TYPE_CHECKING:
    from schema.loaders import Loaders

__all__ = ["Context", "Info"]


@dataclass(slots=True)
class Context:
    principal: Principal
    services: Services
    loaders: Loaders
    request: Request | WebSocket | None = None
    # HTTP only: the response strawberry is about to send; a resolver may set its status
    # and headers (503 + Retry-After while the database is away).
    response: Response | None = None
    # graphql-transport-ws: the connection_init payload (browsers send credentials here).
    connection_params: dict[str, object] | None = None


Info = _Info[Context, None]
