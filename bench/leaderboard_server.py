"""A Laurel app for benchmarks: the real GraphQL app plus a plain JSON endpoint.

``/plain/top10`` serves the same top 10 from the same Redis board with no
GraphQL in between: the floor the GraphQL endpoint is compared against.
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
from server.actions import Services, adopt_boards, members_by_ids, services_for
from server.app import create_app
from server.rewards.ledger import EntryKind, Posting, post
from server.rewards.members import Member, new_referral_code


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

        async def plain(request: Request) -> Response:
            page = await boards.page(first=10, offset=0)
            found = await members_by_ids(row.member_id for row in page.rows)
            body = {
                "totalMembers": page.total_members,
                "entries": [
                    {
                        "rank": r.rank,
                        "score": r.score,
                        "member": {
                            "id": str(r.member_id),
                            "displayName": found[r.member_id].display_name,
                        },
                    }
                    for r in page.rows
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
