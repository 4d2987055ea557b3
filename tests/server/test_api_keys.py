"""API keys managed by an ADMIN over GraphQL: ``apiKeys``, ``createApiKey``, ``revokeApiKey``.

The secret is shown once and works as ``Authorization: Bearer``; a revoked key gets 401
at its very next request, on another worker too (nothing caches a key lookup), and an
open WebSocket is closed at its next operation.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from leaderboards import Leaderboards
from server.actions import Services
from server.app import create_app
from server.settings import Settings
from tests.conftest import JWT_SECRET, Clock, GraphQL, member_token, services_of

KEYS = "query { apiKeys { id name role prefix idempotencyScope createdAt revokedAt } }"
CREATE = """
mutation($i: CreateApiKeyInput!) {
  createApiKey(input: $i) {
    __typename
    ... on ApiKeyCreated { secret apiKey { id name role prefix idempotencyScope revokedAt } }
    ... on Error { message }
    ... on ValidationError { field }
  }
}"""
REVOKE = """
mutation($id: ID!) {
  revokeApiKey(input: { id: $id }) {
    __typename
    ... on ApiKeyRevoked { apiKey { id name prefix revokedAt } }
    ... on Error { message }
  }
}"""


async def _create(gql: GraphQL, admin: str, name: str, role: str = "SERVICE") -> dict[str, Any]:
    made: dict[str, Any] = (await gql(CREATE, {"i": {"name": name, "role": role}}, auth=admin))[
        "createApiKey"
    ]
    assert made["__typename"] == "ApiKeyCreated", made
    return made


async def test_create_list_and_revoke(gql: GraphQL, keys: dict[str, str], clock: Clock) -> None:
    admin = keys["ADMIN"]
    made = await _create(gql, admin, "  shop backend  ")
    key = made["apiKey"]
    assert key["name"] == "shop backend"
    assert key["role"] == "SERVICE"
    assert key["revokedAt"] is None
    assert key["idempotencyScope"] is None
    assert key["prefix"].startswith("lrl_")
    assert len(key["prefix"]) == 16
    assert made["secret"].startswith(key["prefix"] + "_")  # the list shows how it starts

    listed = (await gql(KEYS, auth=admin))["apiKeys"]
    # Newest first: the fixture made SERVICE, MODERATOR and ADMIN keys in that order.
    names = ["shop backend", "test ADMIN", "test MODERATOR", "test SERVICE"]
    assert [k["name"] for k in listed] == names
    assert listed[0]["id"] == key["id"]
    assert [k["role"] for k in listed] == ["SERVICE", "ADMIN", "MODERATOR", "SERVICE"]
    assert all(made["secret"] not in json.dumps(k) for k in listed)  # never shown again

    clock.advance(minutes=5)
    first = (await gql(REVOKE, {"id": key["id"]}, auth=admin))["revokeApiKey"]
    assert first["__typename"] == "ApiKeyRevoked", first
    revoked_at = first["apiKey"]["revokedAt"]
    assert revoked_at is not None
    clock.advance(minutes=5)
    again = (await gql(REVOKE, {"id": key["id"]}, auth=admin))["revokeApiKey"]
    assert again["__typename"] == "ApiKeyRevoked"
    assert again["apiKey"]["revokedAt"] == revoked_at  # the first revocation stands
    listed = (await gql(KEYS, auth=admin))["apiKeys"]
    assert next(k for k in listed if k["id"] == key["id"])["revokedAt"] == revoked_at
    assert all(k["revokedAt"] is None for k in listed if k["id"] != key["id"])


async def test_an_idempotency_scope_is_kept_with_the_key(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    made = await gql(
        CREATE,
        {"i": {"name": "backend 2026", "role": "SERVICE", "idempotencyScope": "shop"}},
        auth=keys["ADMIN"],
    )
    assert made["createApiKey"]["apiKey"]["idempotencyScope"] == "shop"


@pytest.mark.parametrize(
    ("name", "scope", "field"),
    [
        ("", None, "name"),
        ("   ", None, "name"),
        ("x" * 101, None, "name"),
        ("shop\x00backend", None, "name"),
        ("shop\x1b[31m", None, "name"),
        ("evil\u202egnp", None, "name"),
        ("shop", "Not A Scope", "idempotencyScope"),
    ],
)
async def test_a_bad_name_is_a_validation_error(
    gql: GraphQL, keys: dict[str, str], name: str, scope: str | None, field: str
) -> None:
    before = len((await gql(KEYS, auth=keys["ADMIN"]))["apiKeys"])
    made = await gql(
        CREATE,
        {"i": {"name": name, "role": "ADMIN", "idempotencyScope": scope}},
        auth=keys["ADMIN"],
    )
    assert made["createApiKey"]["__typename"] == "ValidationError", made
    assert made["createApiKey"]["field"] == field
    assert len((await gql(KEYS, auth=keys["ADMIN"]))["apiKeys"]) == before


@pytest.mark.parametrize("given", ["999999", "abc", "-1"])
async def test_revoking_no_key_is_not_found(gql: GraphQL, keys: dict[str, str], given: str) -> None:
    answer = (await gql(REVOKE, {"id": given}, auth=keys["ADMIN"]))["revokeApiKey"]
    assert answer["__typename"] == "NotFoundError", answer
    assert "API key" in answer["message"]


async def test_the_secret_works_until_revoked_and_then_at_once_not(
    gql: GraphQL, keys: dict[str, str], svc: Services, settings: Settings, redis: Redis
) -> None:
    made = await _create(gql, keys["ADMIN"], "console", role="ADMIN")
    secret = made["secret"]
    # A second worker: its own app and services on the same database.
    other = create_app(
        settings,
        services=await services_of(Leaderboards(redis), Clock()),
        jwt_secret=JWT_SECRET,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=other), base_url="http://worker-2.test"
    ) as http:
        worker_2 = GraphQL(http)
        assert (await worker_2(KEYS, auth=secret))["apiKeys"][0]["id"] == made["apiKey"]["id"]
        assert (await gql(KEYS, auth=secret))["apiKeys"]

        revoked = await gql(REVOKE, {"id": made["apiKey"]["id"]}, auth=keys["ADMIN"])
        assert revoked["revokeApiKey"]["__typename"] == "ApiKeyRevoked"

        for worker in (gql, worker_2):
            refused = await worker.raw(KEYS, auth=secret)
            assert refused.status_code == 401, refused.text
            assert refused.headers["content-type"].startswith("application/json")
            assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
            assert "data" not in refused.json()


async def test_an_admin_may_revoke_the_key_they_are_using(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    """Allowed, even for the last ADMIN key (docs/decisions/0033): the answer still comes,
    the next request is refused, and `laurel create-api-key` makes a new one."""
    mine = (await gql(KEYS, auth=keys["ADMIN"]))["apiKeys"]
    own = next(k for k in mine if k["name"] == "test ADMIN")
    answer = (await gql(REVOKE, {"id": own["id"]}, auth=keys["ADMIN"]))["revokeApiKey"]
    assert answer["__typename"] == "ApiKeyRevoked"
    assert (await gql.raw(KEYS, auth=keys["ADMIN"])).status_code == 401


async def test_only_an_admin_may_manage_keys(gql: GraphQL, keys: dict[str, str]) -> None:
    await gql(
        'mutation { upsertMember(input: {externalId: "ada", displayName: "Ada"}) { __typename } }',
        auth=keys["SERVICE"],
    )
    target = (await gql(KEYS, auth=keys["ADMIN"]))["apiKeys"][0]
    callers = {
        "ANONYMOUS": None,
        "SHOPPER": await member_token("ada"),
        "SERVICE": keys["SERVICE"],
        "MODERATOR": keys["MODERATOR"],
    }
    for role, auth in callers.items():
        listed = await gql.raw(KEYS, auth=auth)
        assert listed.status_code == 200, (role, listed.text)
        assert listed.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN", role
        made = await gql(CREATE, {"i": {"name": f"by {role}", "role": "ADMIN"}}, auth=auth)
        assert made["createApiKey"]["__typename"] == "PermissionDeniedError", role
        revoked = await gql(REVOKE, {"id": target["id"]}, auth=auth)
        assert revoked["revokeApiKey"]["__typename"] == "PermissionDeniedError", role
    after = (await gql(KEYS, auth=keys["ADMIN"]))["apiKeys"]
    assert len(after) == len(keys)
    assert all(k["revokedAt"] is None for k in after)


@pytest.fixture
async def ws_url(svc: Services, settings: Settings) -> AsyncIterator[str]:
    """The app on a real port (WebSockets need one)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    app = create_app(settings, services=svc, jwt_secret=JWT_SECRET)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    runner = uvicorn.Server(config)
    task = asyncio.create_task(runner.serve())
    while not runner.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.02)
    try:
        yield f"ws://127.0.0.1:{port}/graphql"
    finally:
        runner.should_exit = True
        await task


async def test_an_open_websocket_stops_at_its_next_operation(
    ws_url: str, gql: GraphQL, keys: dict[str, str]
) -> None:
    made = await _create(gql, keys["ADMIN"], "console socket", role="ADMIN")
    async with connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {made['secret']}"}}
        await ws.send(json.dumps(init))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": KEYS}}))
        async with asyncio.timeout(5):
            answer = json.loads(await ws.recv())
        assert answer["type"] == "next"
        assert answer["payload"]["data"]["apiKeys"], answer

        await gql(REVOKE, {"id": made["apiKey"]["id"]}, auth=keys["ADMIN"])
        await ws.send(json.dumps({"id": "2", "type": "subscribe", "payload": {"query": KEYS}}))
        # What is left of the first operation ("complete"), then the close.
        assert set(await _until_closed(ws)) <= {"complete"}
        assert ws.close_code == 4401


async def _until_closed(ws: ClientConnection) -> list[str]:
    """The types of the messages that come before the socket closes."""
    seen: list[str] = []
    async with asyncio.timeout(5):
        try:
            while True:
                seen.append(json.loads(await ws.recv())["type"])
        except ConnectionClosed:
            return seen
