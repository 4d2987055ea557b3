"""The schema's guards: depth, alias and token limits answer with a clear error and run
nothing; an unexpected exception reaches the client only as "Unexpected error."
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from schema import MAX_ALIASES, MAX_DEPTH, MAX_TOKENS
from server import actions
from tests.conftest import GraphQL
from tests.helpers import PURCHASE, UPSERT, ledger_counts, purchase_input

MASKED = "Unexpected error."


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body.get("data") is None, body
    errors: list[dict[str, Any]] = body["errors"]
    assert all(e["message"] != MASKED for e in errors), errors
    return errors


def _nested(levels: int) -> str:
    """``{ viewer { member { member { ... { id } } } } }`` with ``levels`` fields."""
    inner = "id"
    for _ in range(levels - 1):
        inner = f"member {{ {inner} }}"
    return f"query Deep {{ viewer {{ {inner} }} }}"


async def test_a_query_deeper_than_the_limit_is_refused(gql: GraphQL, keys: dict[str, str]) -> None:
    for _ in range(2):  # the second time, from the parser and validation caches
        errors = _errors(await gql.raw(_nested(MAX_DEPTH + 5), auth=keys["ADMIN"]))
        messages = [e["message"] for e in errors]
        assert f"'Deep' exceeds maximum operation depth of {MAX_DEPTH}" in messages


async def test_a_query_within_the_depth_limit_runs(gql: GraphQL, keys: dict[str, str]) -> None:
    data = await gql(
        "{ leaderboard { entries { member { id } } } viewer { ledger { edges { node { id } } } } }",
        auth=keys["ADMIN"],
    )
    assert data == {"leaderboard": {"entries": []}, "viewer": None}


def _aliases(count: int) -> str:
    return "{ " + " ".join(f'm{i}: member(id: "1") {{ id }}' for i in range(count)) + " }"


async def test_more_aliases_than_the_limit_are_refused(gql: GraphQL) -> None:
    for _ in range(2):  # the second time, from the parser and validation caches
        errors = _errors(await gql.raw(_aliases(MAX_ALIASES + 1)))
        assert [e["message"] for e in errors] == [
            f"{MAX_ALIASES + 1} aliases found. Allowed: {MAX_ALIASES}"
        ]


async def test_aliases_up_to_the_limit_run(gql: GraphQL) -> None:
    data = await gql(_aliases(MAX_ALIASES))
    assert data == {f"m{i}": None for i in range(MAX_ALIASES)}


async def test_aliased_mutations_over_the_limit_write_nothing(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    signups = " ".join(
        f'u{i}: upsertMember(input: {{externalId: "c{i}", displayName: "C{i}"}}) {{ __typename }}'
        for i in range(MAX_ALIASES + 1)
    )
    before = await ledger_counts()
    errors = _errors(await gql.raw(f"mutation {{ {signups} }}", auth=keys["SERVICE"]))
    assert "aliases found" in errors[0]["message"]
    assert await ledger_counts() == before


def _with_fields(count: int) -> str:
    return '{ member(id: "1") { ' + "id " * count + "} }"


async def test_a_document_over_the_token_limit_is_refused(gql: GraphQL) -> None:
    errors = _errors(await gql.raw(_with_fields(MAX_TOKENS)))
    assert len(errors) == 1
    assert f"more than {MAX_TOKENS} tokens" in errors[0]["message"]


async def test_a_long_document_under_the_token_limit_runs(gql: GraphQL) -> None:
    # 13 tokens per operation: query Qn { member ( id : "1" ) { id } }
    count = (MAX_TOKENS - 50) // 13
    document = " ".join(f'query Q{i} {{ member(id: "1") {{ id }} }}' for i in range(count))
    response = await gql.http.post(
        "/graphql", json={"query": document, "operationName": f"Q{count - 1}"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"member": None}}


async def test_a_mutation_over_the_token_limit_writes_nothing(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    padding = "__typename " * MAX_TOKENS
    document = (
        'mutation { upsertMember(input: {externalId: "c1", displayName: "C1"}) { ' + padding + "} }"
    )
    before = await ledger_counts()
    errors = _errors(await gql.raw(document, auth=keys["SERVICE"]))
    assert "tokens" in errors[0]["message"]
    assert await ledger_counts() == before


async def test_an_unexpected_exception_is_masked(
    gql: GraphQL, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(member_id: str) -> None:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(actions, "member", broken)
    response = await gql.raw('{ member(id: "1") { id } leaderboard { totalMembers } }')

    assert response.status_code == 200
    assert "secret detail" not in response.text
    assert "RuntimeError" not in response.text
    body = response.json()
    [error] = body["errors"]
    assert error["message"] == MASKED
    assert error["path"] == ["member"]
    # The rest of the query still answers.
    assert body["data"] == {"member": None, "leaderboard": {"totalMembers": 0}}


async def test_a_lost_database_after_the_commit_is_a_503_to_retry_not_a_masked_bug(
    gql: GraphQL, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The purchase commits; reading its ``activity { member }`` for the answer meets a
    lost connection (a fault run saw this). The answer is the retryable 503, and the retry
    with the same key is the replay."""
    import schema.activities

    saved = {"externalId": "kim", "displayName": "Kim"}
    await gql(UPSERT, {"input": saved}, auth=keys["SERVICE"])
    real = schema.activities.load_member

    async def lost(info: Any, member_id: int) -> Any:
        raise ConnectionResetError(104, "Connection reset by peer")

    monkeypatch.setattr(schema.activities, "load_member", lost)
    order = {"input": purchase_input("kim", "K-1", 1_000)}
    response = await gql.raw(PURCHASE, order, auth=keys["SERVICE"])
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert error["path"] == ["recordPurchase", "activity", "member"]
    assert "Connection reset" not in response.text

    monkeypatch.setattr(schema.activities, "load_member", real)
    retried = (await gql(PURCHASE, order, auth=keys["SERVICE"]))["recordPurchase"]
    assert (retried["__typename"], retried["duplicate"], retried["pointsAwarded"]) == (
        "ActivityRecorded",
        True,
        10,
    )
