"""The walking skeleton end to end over HTTP: sign-up, purchase, pending, release, board."""

from __future__ import annotations

from server.actions import Services
from tests.conftest import Clock, GraphQL, member_token
from tests.helpers import BOARD, PURCHASE, UPSERT, VIEWER, purchase_input


async def test_shop_registers_member_reports_purchase_and_member_climbs_board(
    gql: GraphQL, keys: dict[str, str], clock: Clock, svc: Services
) -> None:
    service = keys["SERVICE"]
    saved = await gql(
        UPSERT,
        {"input": {"externalId": "cust-1", "displayName": "Ada", "email": "ada@example.com"}},
        auth=service,
    )
    assert saved["upsertMember"]["__typename"] == "MemberSaved"
    member_id = saved["upsertMember"]["member"]["id"]

    bought = await gql(PURCHASE, {"input": purchase_input("cust-1", "A-1", 12_345)}, auth=service)
    recorded = bought["recordPurchase"]
    assert recorded["__typename"] == "ActivityRecorded"
    assert recorded["pointsAwarded"] == 123  # 1 point per 1.00, rounded down
    assert recorded["duplicate"] is False
    assert recorded["activity"]["status"] == "PENDING"
    assert recorded["activity"]["points"] == 0
    assert recorded["activity"]["member"]["id"] == member_id

    token = await member_token("cust-1")
    account = (await gql(VIEWER, auth=token))["viewer"]
    assert (account["pointsBalance"], account["pendingPoints"]) == (0, 123)
    assert account["member"]["lifetimePoints"] == 123
    [entry] = account["ledger"]["edges"]
    assert entry["node"]["amount"] == 123
    assert entry["node"]["spendableAt"] is not None

    board = (await gql(BOARD))["leaderboard"]
    assert board["totalMembers"] == 1
    assert board["entries"][0] == {
        "rank": 1,
        "score": 123,
        "member": {"id": member_id, "displayName": "Ada"},
    }

    # The return window passes: the next read makes the points spendable, once.
    clock.advance(days=14, seconds=1)
    account = (await gql(VIEWER, auth=token))["viewer"]
    assert (account["pointsBalance"], account["pendingPoints"]) == (123, 0)
    account = (await gql(VIEWER, auth=token))["viewer"]
    assert (account["pointsBalance"], account["pendingPoints"]) == (123, 0)
    assert len(account["ledger"]["edges"]) == 1  # the internal release is not a statement line


async def test_an_old_purchase_is_spendable_at_once(
    gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    service = keys["SERVICE"]
    await gql(UPSERT, {"input": {"externalId": "c", "displayName": "Cy"}}, auth=service)
    old = purchase_input("c", "OLD-1", 5_000)
    old["occurredAt"] = clock.advance(days=-30).isoformat()
    clock.advance(days=30)
    recorded = (await gql(PURCHASE, {"input": old}, auth=service))["recordPurchase"]
    assert recorded["activity"]["status"] == "APPROVED"
    assert recorded["activity"]["points"] == 50
    account = (await gql(VIEWER, auth=await member_token("c")))["viewer"]
    assert (account["pointsBalance"], account["pendingPoints"]) == (50, 0)


async def test_leaderboard_uses_competition_ranking_across_pages(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    service = keys["SERVICE"]
    scores = {"a": 500, "b": 400, "c": 400, "d": 300, "e": 300, "f": 300, "g": 100}
    for name, points in scores.items():
        await gql(UPSERT, {"input": {"externalId": name, "displayName": name}}, auth=service)
        await gql(
            PURCHASE, {"input": purchase_input(name, f"o-{name}", points * 100)}, auth=service
        )
    everyone = (await gql(BOARD, {"first": 10}))["leaderboard"]
    assert [e["rank"] for e in everyone["entries"]] == [1, 2, 2, 4, 4, 4, 7]
    assert everyone["totalMembers"] == 7
    # A page that starts inside a tie still ranks from the whole board.
    for offset in range(7):
        page = (await gql(BOARD, {"first": 2, "offset": offset}))["leaderboard"]
        assert [e["rank"] for e in page["entries"]] == [
            e["rank"] for e in everyone["entries"][offset : offset + 2]
        ]
    beyond = (await gql(BOARD, {"first": 5, "offset": 50}))["leaderboard"]
    assert beyond == {"totalMembers": 7, "entries": []}


async def test_ledger_pages_with_cursors(gql: GraphQL, keys: dict[str, str]) -> None:
    service = keys["SERVICE"]
    await gql(UPSERT, {"input": {"externalId": "p", "displayName": "Pia"}}, auth=service)
    for i in range(5):
        await gql(PURCHASE, {"input": purchase_input("p", f"p-{i}", (i + 1) * 100)}, auth=service)
    token = await member_token("p")
    seen: list[int] = []
    after = None
    while True:
        ledger = (await gql(VIEWER, {"first": 2, "after": after}, auth=token))["viewer"]["ledger"]
        seen += [edge["node"]["amount"] for edge in ledger["edges"]]
        if not ledger["pageInfo"]["hasNextPage"]:
            break
        after = ledger["pageInfo"]["endCursor"]
    assert seen == [5, 4, 3, 2, 1]  # newest first, each once
