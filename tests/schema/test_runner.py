"""The mutation runner: mutations of one document each see what is true when they run."""

from __future__ import annotations

from tests.conftest import GraphQL
from tests.helpers import UPSERT


async def test_each_mutation_of_a_document_reads_after_the_ones_before(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    done = await gql(
        UPSERT, {"input": {"externalId": "ada", "displayName": "Ada"}}, auth=keys["SERVICE"]
    )
    ada = done["upsertMember"]["member"]["id"]

    def adjust(alias: str, amount: int) -> str:
        return (
            f'{alias}: adjustPoints(input: {{idempotencyKey: "{alias}", memberId: "{ada}", '
            f'amount: {amount}, reason: "test", qualifying: true}}) {{ ... on PointsAdjusted '
            "{ account { pointsBalance member { tier { name } } } } }"
        )

    # Silver is 500 qualifying points: the first leaves Ada in Bronze, the second lifts her.
    data = await gql(f"mutation {{ {adjust('a', 400)} {adjust('b', 200)} }}", auth=keys["ADMIN"])
    assert data["a"]["account"]["member"]["tier"]["name"] == "Bronze"
    assert data["b"]["account"] == {"pointsBalance": 600, "member": {"tier": {"name": "Silver"}}}
