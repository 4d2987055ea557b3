"""A Laurel app for benchmarks: the real GraphQL app plus a plain JSON endpoint.

``/plain/top10`` serves the same top 10 from the same Redis board with no GraphQL in
between: the floor the GraphQL endpoint is compared against. It is the fastest plain
endpoint: one Redis call returns the rows, the total and the display names (kept in a
Redis hash beside the board, as such an endpoint would), ranks as the product ranks.
Run as ``python -m bench.leaderboard_server DATA_DIR PORT MEMBERS``.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from tortoise.transactions import in_transaction

from bench.servers import embedded, serve, stop_on_sigterm
from leaderboards import Board, Leaderboards
from leaderboards.rows import rows_of
from server.actions import Services, adopt_boards, services_for
from server.app import create_app
from server.rewards.ledger import EntryKind
from server.rewards.members import Member, new_referral_code
from server.rewards.posting import Posting, post

# The top ``ARGV[1]`` rows with their names, the total and the first row's rank.
_TOP_WITH_NAMES = """
local total = redis.call('ZCOUNT', KEYS[1], '(0', '+inf')
local rows = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
if #rows == 0 then return {total, 0, {}, {}} end
local ids = {}
for i = 1, #rows, 2 do ids[#ids + 1] = rows[i] end
local first = redis.call('ZCOUNT', KEYS[1], '(' .. rows[2], '+inf') + 1
return {total, first, rows, redis.call('HMGET', KEYS[2], unpack(ids))}
"""
_NAMES = "bench:names"


async def _keep_names(boards: Leaderboards) -> None:
    """Every display name in a Redis hash, as the plain endpoint would keep them."""
    names = dict(await Member.all().values_list("id", "display_name"))
    async with boards.redis.pipeline(transaction=False) as pipe:
        pipe.delete(_NAMES)
        if names:
            pipe.hset(_NAMES, mapping={str(k): str(v) for k, v in names.items()})
        await pipe.execute()


async def _seed(members: int, svc: Services) -> None:
    if await Member.all().count() >= members:
        return
    now = svc.clock()
    for start in range(0, members, 500):
        async with in_transaction():
            for n in range(start, min(start + 500, members)):
                m = await Member.create(
                    external_id=f"bench-{n}",
                    display_name=f"Member {n}",
                    referral_code=new_referral_code(),
                )
                points = (n * 7919) % 5000 + 1
                await post(
                    Posting(
                        member_id=m.id,
                        kind=EntryKind.ADJUST,
                        amount=points,
                        lifetime_delta=points,
                        reason="bench",
                        actor="bench",
                        idempotency_key=f"bench-{n}",
                        request_hash="",
                    ),
                    community=None,
                    now=now,
                )
    assert svc.boards is not None
    await svc.events.drain(grace=False)


async def main(data_dir: Path, port: int, members: int) -> None:
    async with embedded(data_dir, "b" * 40) as (settings, boards):
        # The product's own services: a cache of LAUREL_LEADERBOARD_CACHE_SECONDS (default 1).
        svc = services_for(settings, boards)
        await adopt_boards(svc)  # a new installation: SQL and Redis both empty
        await _seed(members, svc)

        await _keep_names(boards)
        top = boards.redis.register_script(_TOP_WITH_NAMES)

        async def plain(request: Request) -> Response:
            key = boards.key(Board(), svc.clock())
            total, first, flat, names = await top(keys=[key, _NAMES], args=[10])
            rows = rows_of(flat, 0, int(first))
            body = {
                "totalMembers": int(total),
                "entries": [
                    {
                        "rank": r.rank,
                        "score": r.score,
                        "member": {"id": str(r.member_id), "displayName": name},
                    }
                    for r, name in zip(rows, names, strict=True)
                ],
            }
            return Response(orjson.dumps(body), media_type="application/json")

        app = Starlette(
            routes=[
                Route("/plain/top10", plain),
                Mount("/", create_app(settings, services=svc, jwt_secret="b" * 40)),
            ]
        )
        await serve(app, port)


if __name__ == "__main__":
    stop_on_sigterm()
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))
