"""Idempotency keys belong to their caller: each API key, each shopper (decision 0022).

Two callers using the same key string never see each other's results; keys made
with the same explicit ``idempotency_scope`` do (a shop rotating its backend key).
"""

from __future__ import annotations

from typing import Any

from server.auth import create_api_key
from server.db import counting_statements
from server.rewards.activities import Activity
from server.rewards.staff import StaffRole
from tests.conftest import GraphQL, member_token
from tests.helpers import UPSERT

SHARE = """
mutation Share($input: RecordShareInput!) {
  recordShare(input: $input) {
    __typename
    ... on ActivityRecorded { pointsAwarded duplicate activity { id member { id } share { url } } }
    ... on Error { message }
  }
}"""


def _share(member: str | None, url: str, key: str = "same-key") -> dict[str, Any]:
    given: dict[str, Any] = {"idempotencyKey": key, "platform": "facebook", "url": url}
    if member is not None:
        given["memberExternalId"] = member
    return {"input": given}


async def _members(gql: GraphQL, service: str, *names: str) -> None:
    for name in names:
        saved = await gql(
            UPSERT, {"input": {"externalId": name, "displayName": name}}, auth=service
        )
        assert saved["upsertMember"]["__typename"] == "MemberSaved"


async def test_the_same_key_from_different_callers_records_each_callers_own_share(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    other_service = await create_api_key(StaffRole.SERVICE, "second backend")
    await _members(gql, keys["SERVICE"], "ann", "ben", "cid", "dee", "eve")
    callers = [
        (keys["SERVICE"], "ann"),
        (other_service, "ben"),
        (keys["ADMIN"], "cid"),
        (await member_token("dee"), None),
        (await member_token("eve"), None),
    ]
    seen: list[tuple[str, str]] = []
    for n, (auth, member) in enumerate(callers):
        url = f"https://shop.example/p/{n}"
        result = (await gql(SHARE, _share(member, url), auth=auth))["recordShare"]
        assert result["__typename"] == "ActivityRecorded", result
        assert result["duplicate"] is False
        assert result["activity"]["share"]["url"] == url
        seen.append((result["activity"]["id"], result["activity"]["member"]["id"]))
        # The caller's own retry still replays its own first result.
        again = (await gql(SHARE, _share(member, url), auth=auth))["recordShare"]
        assert (again["duplicate"], again["activity"]["id"]) == (True, result["activity"]["id"])
    assert len(set(seen)) == len(callers)
    assert len({member for _, member in seen}) == len(callers)


async def test_keys_given_one_scope_replay_each_others_requests(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    old = await create_api_key(StaffRole.SERVICE, "backend 2024", idempotency_scope="shop")
    new = await create_api_key(StaffRole.SERVICE, "backend 2025", idempotency_scope="shop")
    await _members(gql, keys["SERVICE"], "ann")
    first = (await gql(SHARE, _share("ann", "https://shop.example/a"), auth=old))["recordShare"]
    retry = (await gql(SHARE, _share("ann", "https://shop.example/a"), auth=new))["recordShare"]
    assert (retry["duplicate"], retry["activity"]["id"]) == (True, first["activity"]["id"])
    # A key outside the scope does not see it: the same key string is its own request.
    outside = await gql(SHARE, _share("ann", "https://shop.example/b"), auth=keys["SERVICE"])
    assert outside["recordShare"]["duplicate"] is False


async def test_a_key_stored_before_keys_were_scoped_per_caller_still_replays(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    await _members(gql, keys["SERVICE"], "ann")
    first = await gql(SHARE, _share("ann", "https://shop.example/a"), auth=keys["SERVICE"])
    activity_id = int(first["recordShare"]["activity"]["id"])
    # What an older release stored: one "staff" scope for every API key.
    await Activity.filter(id=activity_id).update(idempotency_key="share:staff:same-key")
    retry = await gql(SHARE, _share("ann", "https://shop.example/a"), auth=keys["SERVICE"])
    assert retry["recordShare"]["duplicate"] is True
    assert int(retry["recordShare"]["activity"]["id"]) == activity_id


async def test_finding_a_staff_callers_key_and_its_replay_take_one_read(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    """The legacy ``staff`` key and the caller's own are looked for in one statement,
    and the replay check before the transaction reads nothing more: a new share and its
    retry each read the activities under the key once."""
    await _members(gql, keys["SERVICE"], "ann")
    for expected_duplicate in (False, True):
        with counting_statements() as sql:
            done = await gql(SHARE, _share("ann", "https://shop.example/b"), auth=keys["SERVICE"])
        assert done["recordShare"]["duplicate"] is expected_duplicate
        by_key = [s for s in sql if 'FROM "activities"' in s and '"idempotency_key"' in s]
        assert len(by_key) == 1, by_key
        assert '"idempotency_key" IN' in by_key[0]
