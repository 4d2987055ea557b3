"""The per-request context: the caller, the use-case services and the DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.types import Info as _Info

from schema.loaders import Loaders
from server.actions import Services
from server.auth import Principal

__all__ = ["Context", "Info"]


@dataclass(slots=True)
class Context:
    principal: Principal
    services: Services
    request: Request | WebSocket | None = None
    loaders: Loaders = field(default_factory=Loaders)
    # graphql-transport-ws: the connection_init payload (browsers send credentials here).
    connection_params: dict[str, object] | None = None


Info = _Info[Context, None]
