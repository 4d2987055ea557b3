"""``leaderboard(first: 100)`` with each member's tier, badges and community title, against
the same page with display names only (the floor), over HTTP, one server, same run.
Target: ratio >= 0.5.

The server is the real app with the default 1 s caches (the top page, and the answers
of anonymous queries); a second run turns the response cache off (no target: it shows
what the cache hides). Seeded through the use cases: 1,000 members in three communities
and none, each credited qualifying points, so tiers run from Bronze to Platinum and the
point-collector badge is earned on the way.
The server alone: ``python -m bench.rich_board serve DATA_DIR PORT``.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

import orjson

from bench.loadgen import alternating, http_request
from bench.servers import embedded, free_port, serve, stop_on_sigterm, wait_until_answers
from server import actions
from server.actions import Services, adopt_boards, services_for
from server.app import create_app
from server.auth import Principal, Role

__all__ = ["run"]

MEMBERS = 1_000
PAGE = 100
ROUNDS = 3
SECONDS = 5.0  # per round and query: 15 s of load for each
CONNECTIONS = 16
TARGET = 0.5
_COMMUNITIES = ("runners", "climbers", "cyclists", None)
_SECRET = "b" * 40

RICH = (
    f"{{ leaderboard(first: {PAGE}) {{ entries {{ member {{ displayName tier {{ name }} "
    "badges { level } communityRank { title } } } } }"
)
FLOOR = f"{{ leaderboard(first: {PAGE}) {{ entries {{ member {{ displayName }} }} }} }}"


async def _seed(svc: Services) -> None:
    """Sign-ups and admin credits, as the shop and an admin would make them: the use
    cases grant the badges and record the tiers."""
    shop = Principal(role=Role.SERVICE, name="bench")
    admin = Principal(role=Role.ADMIN, name="bench")
    for n in range(MEMBERS):
        member = await actions.upsert_member(
            svc,
            shop,
            external_id=f"bench-{n}",
            display_name=f"Member {n}",
            community=_COMMUNITIES[n % len(_COMMUNITIES)],
        )
        await actions.adjust_points(
            svc,
            admin,
            idempotency_key=f"bench-{n}",
            member_id=str(member.id),
            amount=(n * 7919) % 8_000 + 1,
            reason="bench",
            qualifying=True,
        )
    assert svc.boards is not None
    await svc.events.drain(grace=False)


async def _serve(data_dir: Path, port: int) -> None:
    async with embedded(data_dir, _SECRET) as (settings, boards):
        svc = services_for(settings, boards)
        await adopt_boards(svc)  # a new installation: SQL and Redis both empty
        await _seed(svc)
        await serve(create_app(settings, services=svc, jwt_secret=_SECRET), port)


def _entries(port: int, body: bytes) -> list[dict[str, Any]]:
    """One request, checked: a run that measured errors would measure nothing."""
    with urllib.request.urlopen(
        urllib.request.Request(
            f"http://127.0.0.1:{port}/graphql",
            data=body,
            headers={"Content-Type": "application/json"},
        ),
        timeout=60,
    ) as response:
        answer = orjson.loads(response.read())
    if "errors" in answer:
        raise SystemExit(f"rich_board: the query failed: {answer['errors']}")
    entries: list[dict[str, Any]] = answer["data"]["leaderboard"]["entries"]
    if len(entries) != PAGE:
        raise SystemExit(f"rich_board: {len(entries)} entries, expected {PAGE}")
    return entries


async def _load(port: int) -> tuple[float, float]:
    rich_body = orjson.dumps({"query": RICH})
    floor_body = orjson.dumps({"query": FLOOR})
    rich = http_request("POST", "/graphql", rich_body, "application/json")
    floor = http_request("POST", "/graphql", floor_body, "application/json")
    return await alternating(
        (port, rich), (port, floor), rounds=ROUNDS, seconds=SECONDS, connections=CONNECTIONS
    )


def _measure(response_cache: bool) -> tuple[float, float]:
    """(rich, floor) requests per second against one benchmark server."""
    with tempfile.TemporaryDirectory(prefix="laurel-rich-board-") as tmp:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("LAUREL_")}
        env["LAUREL_RESPONSE_CACHE"] = "true" if response_cache else "false"
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.rich_board", "serve", tmp, str(port)],
            env=env,
            start_new_session=True,
        )
        try:
            # It listens once seeding is done (about half a minute).
            wait_until_answers(port, proc, "/healthz", attempts=900)
            for entry in _entries(port, orjson.dumps({"query": RICH})):
                member = entry["member"]
                if not (member["tier"]["name"] and member["communityRank"]["title"]):
                    raise SystemExit(f"rich_board: incomplete entry {member}")
            _entries(port, orjson.dumps({"query": FLOOR}))
            return asyncio.run(_load(port))
        finally:
            proc.terminate()
            proc.wait(timeout=15)


def run() -> None:
    for response_cache in (True, False):
        rich, floor = _measure(response_cache)
        ratio = rich / floor
        if response_cache:
            setting = "defaults"
            verdict = f"(target >= {TARGET:.2f}) " + ("ok" if ratio >= TARGET else "BELOW TARGET")
        else:  # what the response cache hides: both run every request
            setting, verdict = "LAUREL_RESPONSE_CACHE=false", "(no target)"
        print(
            f"rich_board (leaderboard(first: {PAGE}), {MEMBERS:,} members, {setting}): "
            f"tier, badges and title {rich:,.0f} req/s, floor displayName only {floor:,.0f} "
            f"req/s, ratio {ratio:.2f} {verdict}"
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        stop_on_sigterm()
        asyncio.run(_serve(Path(sys.argv[2]), int(sys.argv[3])))
    else:
        run()
