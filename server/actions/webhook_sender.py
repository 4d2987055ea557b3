"""Sends the outgoing webhook messages: at least once, in order per endpoint, signed
per the Standard Webhooks spec, never from a request (a mutation only appends events).

One process at a time sends (a lease, as the event log's consumers have). Per endpoint
it sends the oldest pending message, then the next; a failed attempt (no 2xx within
10 s) holds that endpoint's later messages back and is tried again after a growing
wait (``BACKOFF``). Once an endpoint has failed for a day (``GIVE_UP_AFTER``) the
message it failed on is FAILED and the endpoint disabled, with the reason; its later
messages wait for it to be enabled again, and ``redeliverWebhook`` sends one again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import httpx
import orjson

from server.actions.hook_signatures import live_secrets, sign_standard
from server.actions.services import Services
from server.actions.webhook_messages import expiring_messages
from server.actions.webhooks import address_refused
from server.leases import Leases
from server.rewards.webhooks import MessageStatus, WebhookEndpoint, WebhookMessage

__all__ = ["BACKOFF", "GIVE_UP_AFTER", "WebhookSender"]

_log = logging.getLogger("laurel.webhooks")

# Seconds before attempt 2, 3, ...; the last repeats (24 h in about 11 attempts).
BACKOFF: tuple[float, ...] = (5, 30, 120, 600, 1800, 3600, 7200, 14400)
GIVE_UP_AFTER = timedelta(hours=24)
_LEASE = "webhooks-out"
_TIMEOUT = 10.0  # seconds per attempt, connection and answer together
_EXPIRING_EVERY = 300.0  # seconds between looks for points about to expire


def _now() -> datetime:
    return datetime.now(UTC)


class WebhookSender:
    """The process's sender; ``run_forever`` in the app's lifespan, ``send_due`` in tests."""

    def __init__(
        self,
        svc: Services,
        owner: str,
        *,
        backoff: Sequence[float] = BACKOFF,
        give_up_after: timedelta = GIVE_UP_AFTER,
        poll: float = 0.5,
        lease_seconds: float = 15.0,
    ) -> None:
        self.svc = svc
        self.backoff = tuple(backoff)
        self.give_up_after = give_up_after
        self.poll = poll
        self.leases = Leases(owner, lease_seconds)
        self._stopping = False
        self._client = httpx.AsyncClient(timeout=_TIMEOUT, follow_redirects=False)

    async def aclose(self) -> None:
        await self.leases.release()
        await self._client.aclose()

    def stop(self) -> None:
        self._stopping = True

    async def run_forever(self) -> None:
        self._stopping = False
        looked = 0.0
        while not self._stopping:
            try:
                if time.monotonic() - looked > _EXPIRING_EVERY:
                    looked = time.monotonic()
                    await self.announce_expiring()
                sent = await self.send_due()
            except Exception:
                _log.exception("sending webhooks failed")
                sent = 0
            if not sent:
                await asyncio.sleep(self.poll)

    async def announce_expiring(self) -> int:
        """The ``points.expiring`` messages due (the lease holder makes them)."""
        if await self.leases.claimed(_LEASE) is None:
            return 0
        return await expiring_messages(self.svc.clock(), self.svc.webhook_expiring_days)

    async def send_due(self) -> int:
        """One pass over the endpoints, if this process holds the lease: their due
        messages in order, each until one fails. How many were delivered."""
        if await self.leases.claimed(_LEASE) is None:
            return 0
        endpoints = await WebhookEndpoint.filter(enabled=True).order_by("id")
        done = await asyncio.gather(*(self._endpoint(e) for e in endpoints))
        return sum(done)

    async def _endpoint(self, endpoint: WebhookEndpoint) -> int:
        sent = 0
        while True:
            message = (
                await WebhookMessage.filter(endpoint_id=endpoint.id, status=MessageStatus.PENDING)
                .order_by("id")
                .first()
            )
            if message is None or message.next_attempt_at > _now():
                return sent
            if not await self._attempt(endpoint, message):
                return sent
            sent += 1

    def _signature(
        self, endpoint: WebhookEndpoint, message_id: str, stamp: int, body: bytes
    ) -> str:
        keys = live_secrets(
            endpoint.secret, endpoint.previous_secret, endpoint.previous_until, _now()
        )
        return " ".join(sign_standard(k, message_id, stamp, body) for k in keys)

    async def _attempt(self, endpoint: WebhookEndpoint, message: WebhookMessage) -> bool:
        body = orjson.dumps(message.payload)
        stamp = int(time.time())
        error: str | None = None
        status: int | None = None
        refused = await address_refused(endpoint.url, allow_private=self.svc.webhooks_allow_private)
        if refused:
            error = str(refused)
        else:
            try:
                answer = await self._client.post(
                    endpoint.url,
                    content=body,
                    headers={
                        "content-type": "application/json",
                        "user-agent": "Laurel-Webhooks/1",
                        "webhook-id": message.message_id,
                        "webhook-timestamp": str(stamp),
                        "webhook-signature": self._signature(
                            endpoint, message.message_id, stamp, body
                        ),
                    },
                )
                status = answer.status_code
                if 200 <= status < 300:
                    await self._delivered(endpoint, message, status)
                    return True
                error = f"HTTP {status}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
        await self._failed(endpoint, message, status, error)
        return False

    async def _delivered(
        self, endpoint: WebhookEndpoint, message: WebhookMessage, status: int
    ) -> None:
        await WebhookMessage.filter(id=message.id).update(
            status=MessageStatus.DELIVERED,
            attempts=message.attempts + 1,
            last_status=status,
            last_error=None,
            delivered_at=_now(),
        )
        if endpoint.failing_since is not None:
            await WebhookEndpoint.filter(id=endpoint.id).update(failing_since=None)
            endpoint.failing_since = None

    async def _failed(
        self,
        endpoint: WebhookEndpoint,
        message: WebhookMessage,
        status: int | None,
        error: str,
    ) -> None:
        now = _now()
        attempts = message.attempts + 1
        wait = self.backoff[min(attempts, len(self.backoff)) - 1]
        since = endpoint.failing_since or now
        gave_up = now - since > self.give_up_after  # failing for a day: give up
        await WebhookMessage.filter(id=message.id).update(
            status=MessageStatus.FAILED if gave_up else MessageStatus.PENDING,
            attempts=attempts,
            next_attempt_at=now + timedelta(seconds=wait),
            last_status=status,
            last_error=error,
        )
        _log.info(
            "webhook %s to %s failed (%s), attempt %d", message.id, endpoint.url, error, attempts
        )
        if endpoint.failing_since is None:
            endpoint.failing_since = now
            await WebhookEndpoint.filter(id=endpoint.id).update(failing_since=now)
        elif gave_up:
            await WebhookEndpoint.filter(id=endpoint.id).update(
                enabled=False,
                disabled_reason=f"Failing since {since.isoformat()}: {error}"[:500],
            )
