"""Automatic persisted queries (Apollo's convention) and the anonymous response cache:
what a client sends and gets back over HTTP, and the cache's single flight and expiry."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import httpx
import orjson
import pytest
from graphql import GraphQLError
from strawberry.types import ExecutionResult

from leaderboards import TTLCache
from server import actions
from server.actions import Services
from server.auth import Principal, Role
from server.response_cache import ResponseCache

SHOP = Principal(role=Role.SERVICE, name="shop backend")
ADMIN = Principal(role=Role.ADMIN, name="ops")
TOP = "{ leaderboard(first: 5) { entries { score member { displayName } } } }"
# sha256 of TOP, worked out with `printf %s "$TOP" | sha256sum`.
TOP_SHA = "8afe96a715c4678dfd22ed8ff683dd142b80c928ce289ac32b3f2dec23124f40"


MEMBER = "query M($id: ID!) { member(id: $id) { lifetimePoints } }"
ANONYMOUS_MUTATION = (
    'mutation { upsertMember(input: {externalId: "x", displayName: "x"}) { __typename } }'
)
DENIED = {"data": {"upsertMember": {"__typename": "PermissionDeniedError"}}}


def _persisted(sha: str, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha}}


async def _post(client: httpx.AsyncClient, body: dict[str, Any], key: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return await client.post("/graphql", json=body, headers=headers)


async def _earner(svc: Services, name: str, points: int) -> str:
    """The member's id, after ``points`` more were credited and the boards caught up."""
    member = await actions.upsert_member(svc, SHOP, external_id=name, display_name=name)
    await actions.adjust_points(
        svc,
        ADMIN,
        idempotency_key=f"earn-{name}-{points}",
        member_id=str(member.id),
        amount=points,
        reason="test",
    )
    await svc.events.drain(grace=False)
    return str(member.id)


def test_the_documented_hash_is_the_documents() -> None:
    assert hashlib.sha256(TOP.encode()).hexdigest() == TOP_SHA


# Persisted queries


async def test_an_unknown_hash_asks_for_the_document(client: httpx.AsyncClient) -> None:
    response = await _post(client, {"extensions": _persisted(TOP_SHA)})
    assert response.status_code == 200
    assert response.json() == {
        "errors": [
            {
                "message": "PersistedQueryNotFound",
                "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
            }
        ]
    }


async def test_the_document_with_its_hash_registers_it(
    client: httpx.AsyncClient, svc: Services
) -> None:
    await _earner(svc, "ana", 30)
    first = await _post(client, {"query": TOP, "extensions": _persisted(TOP_SHA)})
    expected = {
        "data": {"leaderboard": {"entries": [{"score": 30, "member": {"displayName": "ana"}}]}}
    }
    assert first.json() == expected
    by_hash = await _post(client, {"extensions": _persisted(TOP_SHA.upper())})
    assert by_hash.json() == expected
    # GET, as a CDN-friendly client sends it.
    params = {"extensions": orjson.dumps(_persisted(TOP_SHA)).decode()}
    assert (await client.get("/graphql", params=params)).json() == expected


async def test_a_hash_that_does_not_match_is_refused(client: httpx.AsyncClient) -> None:
    wrong = "0" * 64
    response = await _post(client, {"query": TOP, "extensions": _persisted(wrong)})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "provided sha does not match query"
    # And nothing was registered under it.
    again = await _post(client, {"extensions": _persisted(wrong)})
    assert again.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize(
    "persisted",
    [{"version": 2, "sha256Hash": TOP_SHA}, "yes", {"version": 1, "sha256Hash": 7}],
)
async def test_a_malformed_persisted_query_is_a_400(
    client: httpx.AsyncClient, persisted: object
) -> None:
    response = await _post(client, {"query": TOP, "extensions": {"persistedQuery": persisted}})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] in {
        "PERSISTED_QUERY_NOT_SUPPORTED",
        "BAD_REQUEST",
    }


# The response cache over HTTP


async def test_anonymous_queries_share_an_answer_signed_in_ones_do_not(
    client: httpx.AsyncClient, svc: Services, keys: dict[str, str]
) -> None:
    svc.board_cache = TTLCache(60)  # a server's LAUREL_LEADERBOARD_CACHE_SECONDS, long
    member_id = await _earner(svc, "ana", 30)
    body = {"query": MEMBER, "variables": {"id": member_id}}
    before = (await _post(client, body)).json()
    assert before == {"data": {"member": {"lifetimePoints": 30}}}
    await _earner(svc, "ana", 20)
    assert (await _post(client, body)).json() == before  # kept
    signed_in = (await _post(client, body, keys["ADMIN"])).json()
    assert signed_in == {"data": {"member": {"lifetimePoints": 50}}}
    # Other variables are another answer, and a mutation is never kept.
    ben = await _earner(svc, "ben", 5)
    other = await _post(client, {"query": MEMBER, "variables": {"id": ben}})
    assert other.json() == {"data": {"member": {"lifetimePoints": 5}}}
    assert (await _post(client, {"query": ANONYMOUS_MUTATION})).json() == DENIED
    with_key = (await _post(client, {"query": ANONYMOUS_MUTATION}, keys["SERVICE"])).json()
    assert with_key == {"data": {"upsertMember": {"__typename": "MemberSaved"}}}
    assert (await _post(client, {"query": ANONYMOUS_MUTATION})).json() == DENIED


async def test_without_a_time_to_live_nothing_is_kept(
    client: httpx.AsyncClient, svc: Services
) -> None:
    await _earner(svc, "ana", 30)
    await _post(client, {"query": TOP})
    await _earner(svc, "ben", 50)
    later = (await _post(client, {"query": TOP})).json()
    assert [e["score"] for e in later["data"]["leaderboard"]["entries"]] == [50, 30]


# The cache itself


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_identical_requests_that_arrive_together_run_once() -> None:
    cache = ResponseCache(1.0)
    key = ResponseCache.key(TOP, None, {"b": 1, "a": 2})
    assert key == ResponseCache.key(TOP, None, {"a": 2, "b": 1})  # key order is no difference
    runs = 0
    gate = asyncio.Event()

    async def run() -> ExecutionResult:
        nonlocal runs
        runs += 1
        await gate.wait()
        return ExecutionResult(data={"n": runs}, errors=None)

    assert key is not None
    waiting = [asyncio.create_task(cache.answer(key, run)) for _ in range(5)]
    await asyncio.sleep(0)
    gate.set()
    answers = await asyncio.gather(*waiting)
    assert runs == 1
    assert [a.data for a in answers] == [{"n": 1}] * 5


async def test_a_failed_first_request_leaves_the_others_to_run_their_own() -> None:
    cache = ResponseCache(1.0)
    key = ResponseCache.key(TOP, None, None)
    assert key is not None
    gate = asyncio.Event()
    calls = 0

    async def run() -> ExecutionResult:
        nonlocal calls
        calls += 1
        if calls == 1:
            await gate.wait()
            raise RuntimeError("database went away")
        return ExecutionResult(data={"call": calls}, errors=None)

    first = asyncio.create_task(cache.answer(key, run))
    await asyncio.sleep(0)
    second = asyncio.create_task(cache.answer(key, run))
    await asyncio.sleep(0)
    gate.set()
    with pytest.raises(RuntimeError):
        await first
    assert (await second).data == {"call": 2}


async def test_an_answer_expires_after_its_time_to_live() -> None:
    clock = _Clock()
    cache = ResponseCache(1.0, clock=clock)
    key = ResponseCache.key(TOP, None, None)
    assert key is not None
    n = 0

    async def run() -> ExecutionResult:
        nonlocal n
        n += 1
        return ExecutionResult(data={"n": n}, errors=None)

    assert (await cache.answer(key, run)).data == {"n": 1}
    clock.now += 0.999
    assert (await cache.answer(key, run)).data == {"n": 1}
    clock.now += 0.001  # one second old: too old
    assert (await cache.answer(key, run)).data == {"n": 2}


async def test_an_answer_with_errors_is_not_kept() -> None:
    cache = ResponseCache(60.0)
    key = ResponseCache.key(TOP, None, None)
    assert key is not None
    answers = iter(
        [
            ExecutionResult(data=None, errors=[GraphQLError("boards are down")]),
            ExecutionResult(data={"ok": True}, errors=None),
            ExecutionResult(data={"ok": False}, errors=None),
        ]
    )

    async def run() -> ExecutionResult:
        return next(answers)

    assert (await cache.answer(key, run)).errors
    assert (await cache.answer(key, run)).data == {"ok": True}
    assert (await cache.answer(key, run)).data == {"ok": True}  # kept from here on


def test_large_requests_are_not_kept() -> None:
    assert ResponseCache.key("{ a }" + " " * 10_000, None, None) is None
    assert ResponseCache.key(TOP, None, {"v": "x" * 10_000}) is None
    assert ResponseCache.key(TOP, None, {"v": "x" * 100}) is not None
