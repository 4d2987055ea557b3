"""The query cost limit: a document is costed before it runs, and one over the limit
gets QUERY_TOO_COSTLY with its cost and runs nothing. Costs are worked out by hand:
each field 1, a field with ``first`` multiplies its selection by ``first``, one with
``radius`` by ``2 * radius + 1``."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse

from schema import DEFAULT_MAX_QUERY_COST, build_schema
from schema.cost import document_cost
from tests.conftest import GraphQL
from tests.helpers import ledger_counts

# 1 + 100 * (entries 1 + member 1 + tier 1 + name 1) = 401 per alias.
_BOARD_WITH_TIERS = "leaderboard(first: 100) { entries { member { tier { name } } } }"
_TWENTY_NINE = "{ " + " ".join(f"b{i}: {_BOARD_WITH_TIERS}" for i in range(29)) + " }"


def _cost(document: str, variables: dict[str, Any] | None = None) -> int:
    schema = build_schema()._schema
    return document_cost(schema, parse(document), None, variables)


def _refusal(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("data") is None, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY", error
    return dict(error["extensions"])


def test_costs_count_fields_pages_radius_aliases_and_fragments() -> None:
    assert _cost("{ member(id: 1) { id displayName } }") == 3
    assert _cost("{ leaderboard { entries { rank } } }") == 1 + 10 * 2  # first defaults to 10
    assert _cost("{ leaderboard(first: 100) { entries { rank } } }") == 201
    assert _cost("query($n: Int!) { leaderboard(first: $n) { entries { rank } } }", {"n": 7}) == 15
    # A variable left out: the field runs with its default (10).
    assert _cost("query($n: Int) { leaderboard(first: $n) { entries { rank } } }") == 21
    # Variables as execution coerces them: the variable's default, a float for an Int.
    assert _cost("query($n: Int! = 40) { leaderboard(first: $n) { entries { rank } } }") == 81
    board = "query($n: Int!) { leaderboard(first: $n) { entries { rank } } }"
    assert _cost(board, {"n": 40.0}) == 81
    around = '{ leaderboardAround(memberId: "1", radius: 3) { entries { rank } } }'
    assert _cost(around) == 1 + 7 * 2
    fragment = (
        "fragment F on LeaderboardEntry { rank score } "
        "{ leaderboard(first: 5) { entries { ...F } } }"
    )
    assert _cost(fragment) == 1 + 5 * (1 + 2)
    union = (
        'mutation { redeemPrize(input: {idempotencyKey: "k", prizeId: "1"}) { '
        "__typename ... on PrizeRedeemed { duplicate } ... on Error { message } } }"
    )
    assert _cost(union) == 1 + 3
    assert _cost(_TWENTY_NINE) == 29 * 401


async def test_the_twenty_nine_board_document_is_refused_with_its_cost(gql: GraphQL) -> None:
    response = await gql.raw(_TWENTY_NINE)
    assert response.status_code == 200
    refusal = _refusal(response.json())
    assert refusal == {"code": "QUERY_TOO_COSTLY", "cost": 11_629, "limit": DEFAULT_MAX_QUERY_COST}


async def test_page_sizes_from_variables_count(gql: GraphQL) -> None:
    boards = " ".join(
        f"b{i}: leaderboard(first: $n) {{ entries {{ rank score }} }}" for i in range(17)
    )
    query = "query($n: Int!) { " + boards + " }"
    data = await gql(query, {"n": 50})  # 17 * (1 + 50 * 3) = 2,567
    assert data == {f"b{i}": {"entries": []} for i in range(17)}
    refusal = _refusal((await gql.raw(query, {"n": 100})).json())
    assert refusal["cost"] == 17 * (1 + 100 * 3)


async def test_a_first_beyond_the_page_size_is_refused_by_the_field(gql: GraphQL) -> None:
    """It counts as the largest page, so the answer names the argument at fault."""
    assert _cost("{ leaderboard(first: 100000) { entries { rank } } }") == 1 + 100 * 2
    response = await gql.raw("{ leaderboard(first: 100000) { entries { rank } } }")
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_costly_mutation_moves_nothing(gql: GraphQL, keys: dict[str, str]) -> None:
    await gql(
        'mutation { upsertMember(input: {externalId: "m1", displayName: "M"}) { __typename } }',
        auth=keys["SERVICE"],
    )
    # Each alias: 1 + 100 * (edges 1 + node 1 + member 1 + tier 2 + badges 2) = 701.
    pages = " ".join(
        f"a{i}: activities(first: 100) {{ edges {{ node {{ member {{ tier {{ name }} "
        "badges { level } } } } }"
        for i in range(8)
    )
    document = (
        'mutation { adjustPoints(input: {idempotencyKey: "k1", memberId: "1", amount: 50, '
        'reason: "costly"}) { ... on PointsAdjusted { account { ' + pages + " } } } }"
    )
    before = await ledger_counts()
    refusal = _refusal((await gql.raw(document, auth=keys["ADMIN"])).json())
    assert refusal["cost"] == 1 + 1 + 8 * 701  # adjustPoints, account, the eight pages
    assert await ledger_counts() == before


@pytest.mark.parametrize("first", [10, 100])
async def test_the_reference_board_queries_fit(gql: GraphQL, first: int) -> None:
    query = (
        "query($n: Int!) { leaderboard(first: $n) { totalMembers entries { rank score "
        "member { id displayName lifetimePoints tier { name } badges { level imageUrl "
        "badge { name } } communityRank { title position } } } } }"
    )
    # 1 + n * (totalMembers 1 + entries 1 + rank 1 + score 1 + member 1 + id, displayName,
    # lifetimePoints 3 + tier 2 + badges (1 + level 1 + imageUrl 1 + badge 2) + rank 3) = 1 + 18n
    assert _cost(query, {"n": first}) == 1 + first * 18
    assert await gql(query, {"n": first}) == {"leaderboard": {"totalMembers": 0, "entries": []}}
