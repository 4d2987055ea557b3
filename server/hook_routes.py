"""POST /hooks/shopify, /hooks/woocommerce and /hooks/laurel (thin: read the raw body,
call the use case, answer; the delivery is applied after the answer)."""

from __future__ import annotations

import logging

import orjson
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response

from server.actions import Services
from server.actions.hook_apply import apply_delivery
from server.actions.hooks import HookRefused, Received, receive_hook
from server.i18n import render
from server.rewards.integrations import DeliveryStatus, IntegrationKind
from server.rewards.text import msg

__all__ = ["receive"]

_log = logging.getLogger("laurel.hooks")
_KINDS = {kind.value.lower(): kind for kind in IntegrationKind}


def _json(body: dict[str, object], status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


async def _apply_after_answer(svc: Services, taken: Received) -> None:
    if taken.delivery is None:
        return
    delivery = taken.delivery
    try:
        await apply_delivery(svc, delivery, taken)
        await svc.events.committed()
    except Exception as exc:  # stored and logged: the hooks consumer applies it later
        _log.warning("delivery %s left to the event log: %s", delivery, exc)


async def receive(svc: Services, request: Request) -> Response:
    kind = _KINDS.get(str(request.path_params["source"]))
    if kind is None:
        return _json({"error": render(msg("No such hook: shopify, woocommerce or laurel."))}, 404)
    body = await request.body()
    headers = {name.lower(): value for name, value in request.headers.items()}
    try:
        taken = await receive_hook(svc, kind, headers, body)
    except HookRefused as exc:
        return _json({"error": render(exc.text)}, exc.status)
    answer: dict[str, object] = {"status": taken.status.value.lower()}
    if taken.delivery is not None:
        answer["delivery"] = str(taken.delivery)
    if taken.reason:
        answer["reason"] = taken.reason
    task = None
    if taken.status is DeliveryStatus.RECEIVED and taken.delivery is not None:
        task = BackgroundTask(_apply_after_answer, svc, taken)
    return Response(
        orjson.dumps(answer), status_code=200, media_type="application/json", background=task
    )
