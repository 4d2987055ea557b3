"""``leaderboardChanged`` across processes: a client on one server process sees a change
made through another, by Redis pub/sub; bursts are coalesced."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from server.actions import Services
from server.auth import create_api_key
from server.rewards.staff import StaffRole
from tests.conftest import Backend
from tests.helpers import ADJUST, UPSERT
from tests.servers import serving

SUBSCRIBE = """subscription {
  leaderboardChanged(first: 3) { totalMembers entries { rank score member { displayName } } }
}"""


@pytest.fixture(scope="module")
def two_servers(database: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    data = tmp_path_factory.mktemp("live")
    with serving(database, data / "a") as first, serving(database, data / "b") as second:
        yield [first, second]


async def _next_page(ws: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(10):
        message = json.loads(await ws.recv())
    assert message["type"] == "next", message
    page: dict[str, Any] = message["payload"]["data"]["leaderboardChanged"]
    return page


async def test_a_change_through_one_process_is_pushed_by_the_other(
    two_servers: list[str], svc: Services
) -> None:
    first, second = two_servers
    key = await create_api_key(StaffRole.ADMIN, "live test")
    ws_url = first.replace("http://", "ws://") + "/graphql"
    async with connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
        assert await _next_page(ws) == {"totalMembers": 0, "entries": []}  # the page now

        async with httpx.AsyncClient(
            base_url=second, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as http:

            async def gql(query: str, variables: dict[str, Any]) -> dict[str, Any]:
                """As a client should: a 503 (two processes share one SQLite file here, so
                writes may find it locked) is retried with the same key."""
                for _ in range(20):
                    answer = await http.post(
                        "/graphql", json={"query": query, "variables": variables}
                    )
                    if answer.status_code != 503:
                        break
                    await asyncio.sleep(float(answer.headers["Retry-After"]) / 10)
                body: dict[str, Any] = answer.json()
                assert "errors" not in body, body
                return body["data"]

            saved = await gql(UPSERT, {"input": {"externalId": "liv", "displayName": "Liv"}})
            member_id = saved["upsertMember"]["member"]["id"]
            adjust = {"memberId": member_id, "amount": 40, "reason": "live", "idempotencyKey": "a"}
            await gql(ADJUST, {"input": adjust})
            page = await _next_page(ws)
            assert page == {
                "totalMembers": 1,
                "entries": [{"rank": 1, "score": 40, "member": {"displayName": "Liv"}}],
            }
            # A burst of ten changes: coalesced, and the last page shows them all.
            await asyncio.gather(
                *(
                    gql(ADJUST, {"input": {**adjust, "amount": 1, "idempotencyKey": f"b{i}"}})
                    for i in range(10)
                )
            )
            pushes = []
            while not pushes or pushes[-1]["entries"][0]["score"] != 50:
                pushes.append(await _next_page(ws))
            assert len(pushes) < 10
