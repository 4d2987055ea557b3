"""HTTP limits: big and slow bodies, duplicate credentials, ambiguous documents, echoes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx

from server.app import create_app
from server.settings import Settings
from tests.conftest import JWT_SECRET, GraphQL
from tests.helpers import UPSERT, ledger_counts


async def test_a_body_over_the_limit_is_refused_with_413_before_parsing(
    client: httpx.AsyncClient,
) -> None:
    body = b'{"query": "{ __typename }", "pad": "' + b"x" * 1_100_000 + b'"}'
    declared = await client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )

    async def stream() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"x" * 100_000

    streamed = await client.post(
        "/graphql", content=stream(), headers={"content-type": "application/json"}
    )
    for response in (declared, streamed):
        assert response.status_code == 413, response.text
        assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    small = await client.post("/graphql", json={"query": "{ __typename }"})
    assert small.json() == {"data": {"__typename": "Query"}}


async def test_a_body_that_stalls_is_answered_408(svc: object, tmp_path: object) -> None:
    settings = Settings(data_dir=tmp_path, jwt_secret=JWT_SECRET, body_timeout_seconds=0.3)
    app = create_app(settings, services=svc, jwt_secret=JWT_SECRET)  # type: ignore[arg-type]

    async def slow() -> AsyncIterator[bytes]:
        yield b'{"query": '
        await asyncio.sleep(5)
        yield b'"{ __typename }"}'

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://laurel.test") as http:
        started = asyncio.get_running_loop().time()
        response = await http.post("/graphql", content=slow())
        took = asyncio.get_running_loop().time() - started
    assert response.status_code == 408
    assert response.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"
    assert took < 2


async def test_two_authorization_headers_are_refused_even_if_one_is_good(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    before = await ledger_counts()
    response = await client.post(
        "/graphql",
        json={"query": UPSERT, "variables": {"input": {"externalId": "x", "displayName": "X"}}},
        headers=[("Authorization", "Bearer garbage"), ("Authorization", f"Bearer {keys['ADMIN']}")],
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await ledger_counts() == before


async def test_several_operations_without_an_operation_name_are_a_400(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    document = UPSERT + "\nquery Q { __typename }"
    variables = {"input": {"externalId": "x", "displayName": "X"}}
    before = await ledger_counts()
    response = await client.post(
        "/graphql",
        json={"query": document, "variables": variables},
        headers={"Authorization": f"Bearer {keys['SERVICE']}"},
    )
    assert response.status_code == 400, response.text
    assert "operationName" in response.json()["errors"][0]["message"]
    assert await ledger_counts() == before
    named = await client.post("/graphql", json={"query": document, "operationName": "Q"})
    assert named.json() == {"data": {"__typename": "Query"}}


async def test_errors_quote_only_a_short_excerpt_of_the_input(gql: GraphQL) -> None:
    name = "a" * 50_000
    for document in (f"{{ {name} }}", f"{{ __typename }} {name}", f'{{ "{name}" }}'):
        response = await gql.raw(document)
        body = response.text
        assert response.status_code in (200, 400), body
        assert len(body) < 1_000, body[:200]
        assert "errors" in response.json()
    bad_variable = await gql.raw(
        "query Q($first: Int!) { leaderboard(first: $first) { totalMembers } }",
        {"first": "9" * 50_000},
    )
    assert len(bad_variable.text) < 1_000
    # The message itself stays readable: only the client's value is cut (to 40 characters).
    [error] = bad_variable.json()["errors"]
    # The run "'999..." keeps 39 characters (the quote and 38 nines) and a "…".
    assert error["message"] == (
        "Variable '$first' has invalid value: Int cannot represent non-integer value: '"
        + "9" * 38
        + "…"
    ), error["message"]
    assert "9" * 41 not in error["message"]
