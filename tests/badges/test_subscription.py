"""``badgeAwarded`` over graphql-transport-ws on a real server: an award made by another
process's services (its own Redis client) reaches the shopper through pub/sub."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from leaderboards import Leaderboards
from leaderboards import connect as redis_connect
from server import actions
from server.actions import Services
from server.app import create_app
from server.auth import Principal, Role
from server.events import EventLog
from server.settings import Settings
from tests.conftest import JWT_SECRET, Backend, member_token

SHOP = Principal(role=Role.SERVICE, name="shop backend")
SUBSCRIBE = "subscription { badgeAwarded { level levelName badge { slug name } } }"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def server(catalog: Services, settings: Settings) -> AsyncIterator[str]:
    port = _free_port()
    app = create_app(settings, services=catalog, jwt_secret=JWT_SECRET)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    runner = uvicorn.Server(config)
    task = asyncio.create_task(runner.serve())
    consumers = asyncio.create_task(catalog.events.run_forever())  # as the lifespan runs them
    while not runner.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.02)
    try:
        yield f"ws://127.0.0.1:{port}/graphql"
    finally:
        runner.should_exit = True
        catalog.events.stop()
        await task
        await asyncio.wait_for(consumers, timeout=5)


async def _open(url: str, token: str | None) -> ClientConnection:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    ws = await connect(url, subprotocols=["graphql-transport-ws"], additional_headers=headers)  # type: ignore[list-item]
    await ws.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
    return ws


async def _listening(redis: Redis, member_id: int) -> None:
    channel = f"laurel:events:badges:{member_id}"
    async with asyncio.timeout(5):
        while (await redis.pubsub_numsub(channel))[0][1] < 1:  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def _next(ws: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(5):
        message: dict[str, Any] = json.loads(await ws.recv())
    return message


async def test_an_award_by_another_worker_reaches_the_shopper(
    server: str, catalog: Services, database: Backend
) -> None:
    ana = await actions.upsert_member(catalog, SHOP, external_id="ana", display_name="Ana")
    ws = await _open(server, await member_token("ana"))
    other_redis = redis_connect(database.redis_url)
    try:
        await _listening(other_redis, ana.id)
        boards = Leaderboards(other_redis)
        other_worker = Services(events=EventLog(boards), boards=boards, clock=catalog.clock)
        actions.install_consumers(other_worker)
        await actions.record_purchase(
            other_worker,
            SHOP,
            idempotency_key="o1",
            member_external_id="ana",
            order_id="O1",
            amount_cents=15_000,
        )
        pushed = [await _next(ws), await _next(ws)]
    finally:
        await ws.close()
        await other_redis.aclose()
    assert [m["type"] for m in pushed] == ["next", "next"]
    assert {m["payload"]["data"]["badgeAwarded"]["badge"]["slug"] for m in pushed} == {
        "first-purchase",
        "big-spender",
    }


async def test_only_a_shopper_may_subscribe(server: str, catalog: Services) -> None:
    ws = await _open(server, None)
    try:
        answer = await _next(ws)
    finally:
        await ws.close()
    # The operation ends with a GraphQL error in its result, as for a query.
    assert answer["type"] == "next"
    assert answer["payload"]["data"] is None
    assert "shopper" in answer["payload"]["errors"][0]["message"]


async def test_a_browser_signs_in_through_the_connection_payload(
    server: str, catalog: Services
) -> None:
    await actions.upsert_member(catalog, SHOP, external_id="bea", display_name="Bea")
    token = await member_token("bea")
    async with connect(server, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        await ws.send(json.dumps(init))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
        await asyncio.sleep(0.3)  # subscribed as Bea: no error comes back
        await actions.record_purchase(
            catalog,
            SHOP,
            idempotency_key="b1",
            member_external_id="bea",
            order_id="B1",
            amount_cents=500,
        )
        pushed = await _next(ws)
        assert pushed["payload"]["data"]["badgeAwarded"]["badge"]["slug"] == "first-purchase"
    async with connect(server, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        bad = {"type": "connection_init", "payload": {"Authorization": "Bearer nonsense"}}
        await ws.send(json.dumps(bad))
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4403


VIEWER = "subscription { viewerChanged { reason } }"


async def _open_viewer(url: str, token: str) -> ClientConnection:
    headers = {"Authorization": f"Bearer {token}"}
    ws = await connect(url, subprotocols=["graphql-transport-ws"], additional_headers=headers)  # type: ignore[list-item]
    await ws.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": VIEWER}}))
    return ws


async def test_the_viewer_hears_of_a_change_made_by_another_worker(
    server: str, catalog: Services, database: Backend
) -> None:
    """A moderator's rejection, made by another process, reaches the shopper's page as a
    viewerChanged (it then reads viewer again); another member's change does not."""
    cai = await actions.upsert_member(catalog, SHOP, external_id="cai", display_name="Cai")
    await actions.upsert_member(catalog, SHOP, external_id="dot", display_name="Dot")
    ws = await _open_viewer(server, await member_token("cai"))
    other_redis = redis_connect(database.redis_url)
    try:
        channel = f"laurel:events:viewer:{cai.id}"
        async with asyncio.timeout(5):
            while (await other_redis.pubsub_numsub(channel))[0][1] < 1:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        boards = Leaderboards(other_redis)
        other_worker = Services(events=EventLog(boards), boards=boards, clock=catalog.clock)
        actions.install_consumers(other_worker)
        await actions.record_purchase(
            other_worker, SHOP, idempotency_key="d1", member_external_id="dot",
            order_id="D1", amount_cents=500,
        )  # fmt: skip
        await other_worker.events.drain()
        with pytest.raises(TimeoutError):  # Dot's order is no news to Cai
            async with asyncio.timeout(0.6):
                await ws.recv()
        await actions.record_purchase(
            other_worker, SHOP, idempotency_key="c1", member_external_id="cai",
            order_id="C1", amount_cents=500,
        )  # fmt: skip
        await other_worker.events.drain()
        first = await _next(ws)
    finally:
        await ws.close()
        await other_redis.aclose()
    assert first["type"] == "next", first
    # A first order: its last event in the batch concerns Cai (points or a badge).
    reason = first["payload"]["data"]["viewerChanged"]["reason"]
    assert reason.split(".")[0] in {"points", "badge", "activity", "tier"}, reason


async def test_only_a_shopper_may_follow_their_account(server: str, catalog: Services) -> None:
    await actions.upsert_member(catalog, SHOP, external_id="eli", display_name="Eli")
    headers: dict[str, str] = {}
    ws = await connect(server, subprotocols=["graphql-transport-ws"], additional_headers=headers)  # type: ignore[list-item]
    try:
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": VIEWER}}))
        answer = await _next(ws)
    finally:
        await ws.close()
    assert answer["payload"]["data"] is None
    assert "shopper" in answer["payload"]["errors"][0]["message"]
