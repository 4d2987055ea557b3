"""Applying a stored shop delivery: customers upserted, orders recorded as purchases,
refunds and cancellations taken back, through the same use cases the shop's backend
would call, as the integration (a SERVICE caller with idempotency keys of its own).

Each order is keyed by its order id and each refund by its refund id, so the same
delivery twice, or the same order in two deliveries, is applied once. A refund of an
order not received yet is held, and applied when the order arrives.
"""

from __future__ import annotations

import logging

from server.actions.common import Recorded
from server.actions.hooks import Received
from server.actions.members import upsert_member
from server.actions.purchases import record_purchase
from server.actions.refunds import refund_purchase
from server.actions.services import Services
from server.auth import Principal, Role
from server.rewards.activities import Activity, Refund
from server.rewards.errors import Conflict, NotFound, RewardsError
from server.rewards.integrations import DeliveryStatus, HookDelivery, Integration
from server.rewards.shop_formats import Customer, Order, OrderRefund, Unusable, operations

__all__ = ["apply_delivery", "integration_principal", "open_deliveries"]

_log = logging.getLogger("laurel.hooks")
_OPEN = (DeliveryStatus.RECEIVED, DeliveryStatus.HELD)


def integration_principal(integration: Integration) -> Principal:
    """The integration as a caller: SERVICE, with idempotency keys of its own."""
    return Principal(
        role=Role.SERVICE,
        name=f"integration {integration.id} {integration.name}"[:100],
        shared_scope=f"hook{integration.id}",
    )


class _Held(Exception):
    def __init__(self, order_id: str) -> None:
        super().__init__(order_id)
        self.order_id = order_id


async def apply_delivery(
    svc: Services, delivery_id: int, just_received: Received | None = None
) -> DeliveryStatus | None:
    """Apply one delivery if it is still open (received or held); its status after.
    A failure of the database or Redis raises: the delivery stays open for a retry.
    ``just_received``: what ``receive_hook`` made of it a moment ago (not read again)."""
    if just_received is not None and just_received.integration is not None:
        row = HookDelivery(
            id=delivery_id,
            integration=just_received.integration,
            integration_id=just_received.integration.id,
            status=DeliveryStatus.RECEIVED,
        )
        ops = just_received.operations
    else:
        found = await HookDelivery.get_or_none(id=delivery_id).prefetch_related("integration")
        if found is None:
            return None
        if found.status not in _OPEN:
            return found.status
        row, ops = found, None
    principal = integration_principal(row.integration)
    try:
        if ops is None:
            ops = operations(row.integration.kind, row.topic, row.body)
        new = False
        for op in ops:
            new |= await _apply(svc, principal, op)
    except _Held as held:
        return await _hold(svc, row, held.order_id)
    except (Unusable, RewardsError) as exc:
        reason = exc.reason if isinstance(exc, Unusable) else exc.message
        return await _close(svc, row, DeliveryStatus.REJECTED, reason)
    status = DeliveryStatus.APPLIED if new or not ops else DeliveryStatus.DUPLICATE
    done = await _close(svc, row, status, None)
    for op in ops:
        if isinstance(op, Order):
            await _release(svc, row.integration_id, op.order_id)
    return done


async def open_deliveries(ids: list[int]) -> set[int]:
    """Which of these deliveries are still to apply (one query)."""
    rows = await HookDelivery.filter(id__in=ids, status__in=list(_OPEN)).values("id")
    return {int(r["id"]) for r in rows}


async def _apply(svc: Services, principal: Principal, op: Customer | Order | OrderRefund) -> bool:
    """Apply one operation; whether it changed anything."""
    if isinstance(op, Customer):
        await _member(svc, principal, op)
        return True
    if isinstance(op, Order):
        try:
            done = await _purchase(svc, principal, op)
        except NotFound:  # the order came before the customer: a member from it
            await _member(svc, principal, op.customer)
            done = await _purchase(svc, principal, op)
        return not done.duplicate
    purchase = await Activity.get_or_none(dedupe_key=f"purchase:{op.order_id}")
    if purchase is None:
        raise _Held(op.order_id)
    ordered = int(purchase.payload.get("amountCents", 0))  # type: ignore[call-overload]
    left = max(0, ordered - await _refunded(purchase.id))
    amount = left if op.amount_cents is None else min(op.amount_cents, left)
    if amount <= 0:
        return False  # refunded in full already
    try:
        done = await refund_purchase(
            svc,
            principal,
            idempotency_key=f"refund:{op.order_id}:{op.refund_id}",
            order_id=op.order_id,
            amount_cents=amount,
        )
    except Conflict:
        return False  # this refund was taken for another amount before: applied already
    return not done.duplicate


async def _purchase(svc: Services, principal: Principal, order: Order) -> Recorded:
    return await record_purchase(
        svc,
        principal,
        idempotency_key=f"order:{order.order_id}",
        member_external_id=order.customer.external_id,
        order_id=order.order_id,
        amount_cents=order.amount_cents,
        occurred_at=order.occurred_at,
        product_ids=order.product_ids,
    )


async def _refunded(purchase_id: int) -> int:
    rows = await Refund.filter(purchase_id=purchase_id).values("amount_cents")
    return sum(int(r["amount_cents"]) for r in rows)


async def _member(svc: Services, principal: Principal, customer: Customer) -> None:
    await upsert_member(
        svc,
        principal,
        external_id=customer.external_id,
        display_name=customer.display_name,
        email=customer.email,
    )


async def _close(
    svc: Services, row: HookDelivery, status: DeliveryStatus, reason: str | None
) -> DeliveryStatus:
    await HookDelivery.filter(id=row.id, status__in=list(_OPEN)).update(
        status=status, reason=reason, applied_at=svc.clock(), order_ref=None
    )
    return status


async def _hold(svc: Services, row: HookDelivery, order_id: str) -> DeliveryStatus:
    await HookDelivery.filter(id=row.id, status__in=list(_OPEN)).update(
        status=DeliveryStatus.HELD,
        reason=f"Waiting for order {order_id}, not received yet.",
        order_ref=order_id[:128],
    )
    # The order may have been applied while this looked: then it saw no held row.
    if await Activity.exists(dedupe_key=f"purchase:{order_id}"):
        return await apply_delivery(svc, row.id) or DeliveryStatus.HELD
    return DeliveryStatus.HELD


async def _release(svc: Services, integration_id: int, order_id: str) -> None:
    """Apply the refunds that waited for this order."""
    waiting = await HookDelivery.filter(
        integration_id=integration_id, status=DeliveryStatus.HELD, order_ref=order_id[:128]
    ).values("id")
    for held in waiting:
        try:
            await apply_delivery(svc, int(held["id"]))
        except Exception as exc:  # it stays held; the next delivery or a retry applies it
            _log.warning("held delivery %s not applied yet: %s", held, exc)
