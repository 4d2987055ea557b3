"""Outgoing webhooks to a real receiver in its own process, which checks every
signature with the standardwebhooks package."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from server.actions import Services
from server.actions.webhook_messages import expiring_messages
from server.actions.webhook_sender import WebhookSender
from server.events import WEBHOOKS
from server.rewards.webhooks import MessageStatus, WebhookEndpoint, WebhookMessage
from tests.conftest import Clock, GraphQL
from tests.helpers import ADJUST, UPSERT
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
CREATE = """
mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) {
    __typename
    ... on WebhookEndpointSecret { secret endpoint { id events } }
    ... on Error { message }
  }
}"""


@contextmanager
def receiver(port: int, secret: str, log: Path, status: int = 204) -> Iterator[None]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.hooks.receiver",
            str(port),
            secret,
            str(log),
            "--status",
            str(status),
        ],
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # listening?
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _lines(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line]


async def _endpoint(gql: GraphQL, keys: dict[str, str], url: str, events: list[str]) -> str:
    made = (await gql(CREATE, {"input": {"url": url, "events": events}}, auth=keys["ADMIN"]))[
        "createWebhookEndpoint"
    ]
    assert made["__typename"] == "WebhookEndpointSecret", made
    secret: str = made["secret"]
    return secret


async def _credit(gql: GraphQL, keys: dict[str, str], member: str, n: int, first: int = 0) -> None:
    for i in range(first, first + n):
        done = await gql(
            ADJUST,
            {
                "input": {
                    "idempotencyKey": f"w-{member}-{i}",
                    "memberId": member,
                    "amount": 1 + i,
                    "reason": "Thanks",
                }
            },
            auth=keys["ADMIN"],
        )
        assert done["adjustPoints"]["__typename"] == "PointsAdjusted", done


async def _member(gql: GraphQL, keys: dict[str, str], external: str) -> str:
    made = await gql(
        UPSERT, {"input": {"externalId": external, "displayName": "Wes"}}, auth=keys["SERVICE"]
    )
    member_id: str = made["upsertMember"]["member"]["id"]
    return member_id


async def _until(check: Any, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.fixture
def private(svc: Services) -> Services:
    svc.webhooks_allow_private = True  # the receiver listens on 127.0.0.1
    return svc


async def test_every_event_arrives_in_order_across_a_receiver_restart(
    private: Services, gql: GraphQL, keys: dict[str, str], tmp_path: Path
) -> None:
    port, log = free_port(), tmp_path / "received.jsonl"
    secret = await _endpoint(gql, keys, f"http://127.0.0.1:{port}/hooks", ["points.earned"])
    member = await _member(gql, keys, "wes")
    sender = WebhookSender(private, "test-sender", backoff=(0.2,), poll=0.05)
    sending = asyncio.create_task(sender.run_forever())
    try:
        with receiver(port, secret, log):
            await _credit(gql, keys, member, 10)
            await private.events.drain([WEBHOOKS], grace=False)
            await _until(lambda: _count(MessageStatus.DELIVERED, 10))
        # The receiver is down: ten more wait, tried again and again.
        await _credit(gql, keys, member, 10, first=10)
        await private.events.drain([WEBHOOKS], grace=False)
        await _until(_tried_and_failed)
        with receiver(port, secret, log):
            await _until(lambda: _count(MessageStatus.DELIVERED, 20))
    finally:
        sender.stop()
        await sending
        await sender.aclose()
    lines = _lines(log)
    assert all(line["verified"] for line in lines), lines
    assert {line["type"] for line in lines} == {"points.earned"}
    events = await WebhookMessage.all().order_by("id").values_list("message_id", flat=True)
    first_seen = list(dict.fromkeys(line["id"] for line in lines))
    assert first_seen == list(events)  # every one, in order
    print(
        f"receiver restart: {len(events)} messages, {len(lines)} deliveries received "
        f"({len(lines) - len(events)} again with the same webhook-id), all verified"
    )


async def _count(status: MessageStatus, n: int) -> bool:
    return await WebhookMessage.filter(status=status).count() >= n


async def _tried_and_failed() -> bool:
    return await WebhookMessage.filter(status=MessageStatus.PENDING, attempts__gte=2).exists()


async def test_an_endpoint_failing_for_a_day_is_disabled_with_the_reason(
    private: Services, gql: GraphQL, keys: dict[str, str], tmp_path: Path
) -> None:
    port, log = free_port(), tmp_path / "received.jsonl"
    secret = await _endpoint(gql, keys, f"http://127.0.0.1:{port}/", ["points.earned"])
    member = await _member(gql, keys, "vic")
    # A "day" of 0.5 s: the receiver answers 500 to everything.
    sender = WebhookSender(
        private, "test-sender", backoff=(0.1,), give_up_after=timedelta(seconds=0.5)
    )
    with receiver(port, secret, log, status=500):
        await _credit(gql, keys, member, 1)
        await private.events.drain([WEBHOOKS], grace=False)
        deadline = time.monotonic() + 20
        while (await WebhookEndpoint.get(url=f"http://127.0.0.1:{port}/")).enabled:
            assert time.monotonic() < deadline
            await sender.send_due()
            await asyncio.sleep(0.1)
    await sender.aclose()
    endpoint = await WebhookEndpoint.get(url=f"http://127.0.0.1:{port}/")
    assert endpoint.disabled_reason is not None
    assert "HTTP 500" in endpoint.disabled_reason
    (message,) = await WebhookMessage.all()
    assert message.status is MessageStatus.FAILED
    assert message.last_status == 500
    assert len(_lines(log)) == message.attempts >= 2


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:9/", "private"),
        ("http://[::1]/", "private"),
        ("http://169.254.169.254/latest/meta-data", "private"),
        ("ftp://example.com/", "http"),
        ("not a url", "http"),
        ("http://shop.example.com:99999/", "port"),  # the fuzz test's find
        ("https://shop.example.com:https/", "port"),
    ],
)
async def test_private_and_odd_addresses_are_refused(
    svc: Services, gql: GraphQL, keys: dict[str, str], url: str, why: str
) -> None:
    made = (
        await gql(CREATE, {"input": {"url": url, "events": ["points.earned"]}}, auth=keys["ADMIN"])
    )["createWebhookEndpoint"]
    assert made["__typename"] == "ValidationError"
    assert why in made["message"]
    assert await WebhookEndpoint.all().count() == 0


async def test_points_expiring_is_announced_once_per_credit_days_ahead(
    private: Services, gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    await _endpoint(gql, keys, "http://127.0.0.1:9/crm", ["points.expiring"])
    member = await _member(gql, keys, "exp")
    await _credit(gql, keys, member, 1)  # 1 point, spendable now, expiring in 365 days
    assert await expiring_messages(clock(), 7) == 0  # a year away
    clock.advance(days=359)  # 6 days before it expires
    assert await expiring_messages(clock(), 7) == 1
    assert await expiring_messages(clock(), 7) == 0  # once
    (message,) = await WebhookMessage.filter(type="points.expiring")
    data = message.payload["data"]
    assert (data["points"], data["member"]["externalId"]) == (1, "exp")
