"""The community page's first HTTP response carries the all-time top rows (escaped),
the same rows and order GraphQL's `leaderboard` gives; without Redis the page still
renders, with an empty board and a message (the browser half: tests/e2e/test_howto.py)."""

from __future__ import annotations

import re
from dataclasses import replace

import httpx
from redis.asyncio import Redis

from leaderboards import Leaderboards
from server import actions
from server.actions import Services
from server.app import create_app
from server.auth import Principal, Role
from server.settings import Settings
from tests.conftest import JWT_SECRET, GraphQL
from tests.helpers import ADJUST, BOARD
from tests.servers import free_port

SHOP = Principal(role=Role.SERVICE, name="shop backend")
_ROW = re.compile(
    r"<tr data-member=\"(\d+)\"><td>(\d+)</td><td>([^<]*)</td><td class=\"num\">([\d,]+)</td></tr>"
)


async def _credit(gql: GraphQL, key: str, member_id: int, points: int) -> None:
    variables = {
        "input": {
            "idempotencyKey": f"k{member_id}",
            "memberId": str(member_id),
            "amount": points,
            "reason": "test",
        }
    }
    done = (await gql(ADJUST, variables, auth=key))["adjustPoints"]
    assert done["__typename"] == "PointsAdjusted", done


async def test_the_first_response_has_the_top_rows(
    svc: Services, client: httpx.AsyncClient, gql: GraphQL, keys: dict[str, str]
) -> None:
    names = ["Ann", "<b>Bo & Co</b>", "Cy"]
    for points, name in zip([300, 500, 100], names, strict=True):
        member = await actions.upsert_member(svc, SHOP, external_id=f"x{points}", display_name=name)
        await _credit(gql, keys["ADMIN"], member.id, points)
    await svc.events.committed()

    page = await client.get("/")
    assert page.status_code == 200
    rows = _ROW.findall(page.text)
    board = (await gql(BOARD))["leaderboard"]
    assert [(r[0], int(r[1]), r[3]) for r in rows] == [
        (e["member"]["id"], e["rank"], f"{e['score']:,}") for e in board["entries"]
    ]
    assert len(rows) == 3
    # The names are text, never markup.
    assert rows[0][2] == "&lt;b&gt;Bo &amp; Co&lt;/b&gt;"
    assert "<b>Bo" not in page.text
    assert 'data-count="3">3 members with points</p>' in page.text
    assert "default-src 'self'; script-src 'self'" in page.headers["content-security-policy"]


async def test_an_empty_board_says_so(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert _ROW.findall(page.text) == []
    assert 'data-i18n="board.empty">No points earned in this period yet.</p>' in page.text


async def test_without_redis_the_page_still_renders(svc: Services, settings: Settings) -> None:
    # A Redis that refuses connections (nothing listens on the port).
    down = replace(svc, boards=Leaderboards(Redis(host="127.0.0.1", port=free_port())))
    app = create_app(settings, services=down, jwt_secret=JWT_SECRET)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://laurel.test") as http:
        page = await http.get("/")
    assert page.status_code == 200
    assert '<tbody id="board" data-served=""></tbody>' in page.text
    assert "The leaderboard is not available right now." in page.text
