"""Contests with a controllable clock: lifecycle over GraphQL, what counts, ties at a prize
boundary, disqualification, finalize exactly once, cancel, roles and validation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from badges import BadgeAward, ensure_badges
from server import actions
from server.actions import Services
from server.auth import Principal, Role
from server.rewards.consistency import find_mismatches
from server.rewards.contests import Placement
from server.rewards.ledger import LedgerEntry
from server.rewards.members import Member
from tests.conftest import Clock, GraphQL

SHOP = Principal(role=Role.SERVICE, name="shop backend")
MODERATOR = Principal(role=Role.MODERATOR, name="mia")
START = datetime(2031, 3, 1, tzinfo=UTC)
END = datetime(2031, 4, 1, tzinfo=UTC)

CREATE = """
mutation($input: CreateContestInput!) {
  createContest(input: $input) {
    __typename
    ... on ContestSaved {
      contest { id status name activityKinds prizes { fromRank toRank points badgeSlug } }
    }
    ... on ValidationError { field message }
    ... on Error { message }
  }
}"""

CONTEST = """
query($id: ID!) {
  contest(id: $id) {
    status
    leaderboard(first: 10) { totalMembers entries { rank score member { displayName } } }
    results { rank score pointsAwarded badgeSlug member { displayName } }
  }
}"""


def _input(**extra: Any) -> dict[str, Any]:
    return {
        "name": "Share week",
        "startsAt": START.isoformat(),
        "endsAt": END.isoformat(),
        "activityKinds": ["SOCIAL_SHARE"],
        "prizes": [
            {"fromRank": 1, "toRank": 1, "points": 500, "badgeSlug": "contest-winner"},
            {"fromRank": 2, "toRank": 3, "points": 100},
        ],
        **extra,
    }


async def _member(svc: Services, name: str) -> Member:
    return await actions.upsert_member(svc, SHOP, external_id=name, display_name=name)


async def _shares(svc: Services, member: Member, n: int, tag: str) -> None:
    for i in range(n):
        await actions.record_share(
            svc,
            SHOP,
            idempotency_key=f"{tag}-{member.id}-{i}",
            platform="facebook",
            url=f"https://shop.example.com/{tag}/{member.id}/{i}",
            member_external_id=member.external_id,
        )


async def _board(gql: GraphQL, contest_id: str) -> list[tuple[int, int, str]]:
    got = (await gql(CONTEST, {"id": contest_id}, auth=None))["contest"]
    return [
        (e["rank"], e["score"], e["member"]["displayName"]) for e in got["leaderboard"]["entries"]
    ]


async def test_a_contest_through_its_lifecycle(
    svc: Services, clock: Clock, gql: GraphQL, keys: dict[str, str]
) -> None:
    await ensure_badges()
    clock.now = START - timedelta(days=5)
    created = (await gql(CREATE, {"input": _input()}, auth=keys["MODERATOR"]))["createContest"]
    assert created["__typename"] == "ContestSaved", created
    contest_id = created["contest"]["id"]
    assert created["contest"]["status"] == "DRAFT"
    assert (await gql(CONTEST, {"id": contest_id}))["contest"] is None  # drafts are staff-only
    publish = (
        "mutation($id: ID!) { publishContest(id: $id) "
        "{ ... on ContestSaved { contest { status } } } }"
    )
    got = await gql(publish, {"id": contest_id}, auth=keys["MODERATOR"])
    assert got["publishContest"]["contest"]["status"] == "SCHEDULED"
    ana, ben, cy, dee = [await _member(svc, n) for n in ("ana", "ben", "cy", "dee")]
    await _shares(svc, ana, 2, "before")  # before the start: not counted
    clock.now = START + timedelta(days=1)
    assert (await gql(CONTEST, {"id": contest_id}))["contest"]["status"] == "RUNNING"
    await _shares(svc, ana, 3, "in")
    await _shares(svc, ben, 2, "in")
    await _shares(svc, cy, 2, "in")  # ties with ben at rank 2
    await _shares(svc, dee, 1, "in")
    await actions.adjust_points(
        svc,
        Principal(Role.ADMIN, name="ops"),
        idempotency_key="gift",
        member_id=str(dee.id),
        amount=999,
        reason="not an activity",
    )
    assert await _board(gql, contest_id) == [
        (1, 15, "ana"),
        (2, 10, "ben") if ben.id < cy.id else (2, 10, "cy"),
        (2, 10, "cy") if ben.id < cy.id else (2, 10, "ben"),
        (4, 5, "dee"),
    ] or sorted(await _board(gql, contest_id)) == [
        (1, 15, "ana"),
        (2, 10, "ben"),
        (2, 10, "cy"),
        (4, 5, "dee"),
    ]
    finalize = (
        "mutation($id: ID!) { finalizeContest(id: $id) { __typename ... on Error { message } } }"
    )
    early = await gql(finalize, {"id": contest_id}, auth=keys["MODERATOR"])
    assert early["finalizeContest"]["__typename"] == "ConflictError"
    clock.now = END
    await _shares(svc, ben, 1, "after")  # after the end: not counted
    assert (await gql(CONTEST, {"id": contest_id}))["contest"]["status"] == "ENDED"
    done = await gql(finalize, {"id": contest_id}, auth=keys["MODERATOR"])
    assert done["finalizeContest"]["__typename"] == "ContestSaved"
    again = await gql(finalize, {"id": contest_id}, auth=keys["MODERATOR"])
    assert again["finalizeContest"]["__typename"] == "ContestSaved"
    results = (await gql(CONTEST, {"id": contest_id}))["contest"]
    assert results["status"] == "FINALIZED"
    standings = sorted(
        (r["rank"], r["member"]["displayName"], r["pointsAwarded"], r["badgeSlug"])
        for r in results["results"]
    )
    assert standings == [
        (1, "ana", 500, "contest-winner"),
        (2, "ben", 100, None),  # a tie at rank 2: both get rank 2's prize
        (2, "cy", 100, None),
        (4, "dee", 0, None),  # rank 3 is skipped: 4 is past the prize ranges
    ]
    prizes = await LedgerEntry.filter(idempotency_key__startswith="contest:").values_list(
        "amount", flat=True
    )
    assert sorted(prizes) == [100, 100, 500]
    held = await BadgeAward.filter(
        member_id=ana.id, badge__slug="contest-winner", revoked_at__isnull=True
    )
    assert [a.level for a in held] == [1]
    history = await gql(
        "query($id: ID!) { member(id: $id) "
        "{ contestResults { rank pointsAwarded contest { name } } } }",
        {"id": str(ben.id)},
    )
    assert history["member"]["contestResults"] == [
        {"rank": 2, "pointsAwarded": 100, "contest": {"name": "Share week"}}
    ]
    assert await find_mismatches() == []


async def test_a_review_inside_the_window_approved_after_it_counts(
    svc: Services, clock: Clock
) -> None:
    clock.now = START - timedelta(days=1)
    contest = await actions.create_contest(
        svc,
        MODERATOR,
        actions.ContestFields(
            name="Review month",
            starts_at=START,
            ends_at=END,
            activity_kinds=[actions_kind("REVIEW"), actions_kind("PHOTO_REVIEW")],
        ),
    )
    await actions.publish_contest(svc, MODERATOR, str(contest.id))
    eve = await _member(svc, "eve")
    await actions.record_purchase(
        svc,
        SHOP,
        idempotency_key="o1",
        member_external_id="eve",
        order_id="O1",
        amount_cents=1000,
        product_ids=["P1", "P2"],
    )
    clock.now = START + timedelta(days=30)
    review = await actions.submit_review(
        svc,
        SHOP,
        idempotency_key="r1",
        product_id="P1",
        rating=5,
        text="Lovely colours and it fits well.",
        member_external_id="eve",
    )
    clock.now = END + timedelta(hours=2)
    await actions.moderate_activity(
        svc,
        MODERATOR,
        activity_id=str(review.activity.id),
        decision=actions.Decision.APPROVE,
        reason=None,
    )
    done = await actions.finalize_contest(svc, MODERATOR, str(contest.id))
    assert [(p.member_id, p.score) for p in done.placements] == [(eve.id, 20)]  # not the order's


def actions_kind(name: str) -> Any:
    from server.rewards.activities import ActivityKind

    return ActivityKind(name)


DISQUALIFIED = (
    "query($id: ID!) { contest(id: $id) { disqualified { member { displayName } reason } } }"
)


async def test_disqualify_and_reinstate(
    svc: Services, clock: Clock, gql: GraphQL, keys: dict[str, str]
) -> None:
    clock.now = START + timedelta(days=1)
    contest = await actions.create_contest(
        svc,
        MODERATOR,
        actions.ContestFields(
            name="Shares",
            starts_at=START,
            ends_at=END,
            activity_kinds=[actions_kind("SOCIAL_SHARE")],
        ),
    )
    await actions.publish_contest(svc, MODERATOR, str(contest.id))
    fay, gus = await _member(svc, "fay"), await _member(svc, "gus")
    await _shares(svc, fay, 2, "x")
    await _shares(svc, gus, 1, "x")
    await actions.disqualify(
        svc, MODERATOR, str(contest.id), str(fay.id), "shares of a copied page"
    )
    assert await _board(gql, str(contest.id)) == [(1, 5, "gus")]
    # A moderator sees who is off the board and why (to reinstate them); nobody else does.
    off = await gql(DISQUALIFIED, {"id": str(contest.id)}, auth=keys["MODERATOR"])
    assert off["contest"]["disqualified"] == [
        {"member": {"displayName": "fay"}, "reason": "shares of a copied page"}
    ]
    hidden = (await gql.raw(DISQUALIFIED, {"id": str(contest.id)})).json()
    assert hidden["data"] is None or hidden["data"]["contest"] is None
    assert hidden["errors"]
    await _shares(svc, fay, 1, "y")  # still off the board
    assert await _board(gql, str(contest.id)) == [(1, 5, "gus")]
    await actions.reinstate(svc, MODERATOR, str(contest.id), str(fay.id))
    assert await _board(gql, str(contest.id)) == [(1, 15, "fay"), (2, 5, "gus")]
    off = await gql(DISQUALIFIED, {"id": str(contest.id)}, auth=keys["MODERATOR"])
    assert off["contest"]["disqualified"] == []
    await actions.disqualify(svc, MODERATOR, str(contest.id), str(fay.id), "for good")
    clock.now = END
    done = await actions.finalize_contest(svc, MODERATOR, str(contest.id))
    assert [(p.member_id, p.rank) for p in done.placements] == [(gus.id, 1)]


async def test_concurrent_finalize_awards_once(svc: Services, clock: Clock) -> None:
    clock.now = START + timedelta(days=1)
    contest = await actions.create_contest(
        svc,
        MODERATOR,
        actions.ContestFields(
            name="Race",
            starts_at=START,
            ends_at=END,
            activity_kinds=[actions_kind("SOCIAL_SHARE")],
            prizes=[actions_prize(1, 3, 50)],
        ),
    )
    await actions.publish_contest(svc, MODERATOR, str(contest.id))
    for name in ("h1", "h2", "h3"):
        await _shares(svc, await _member(svc, name), 1, name)
    clock.now = END
    results = await asyncio.gather(
        *(actions.finalize_contest(svc, MODERATOR, str(contest.id)) for _ in range(8))
    )
    assert sum(1 for r in results if not r.duplicate) == 1
    assert await Placement.filter(contest_id=contest.id).count() == 3
    assert await LedgerEntry.filter(idempotency_key__startswith="contest:").count() == 3
    assert all(len(r.placements) == 3 for r in results)


def actions_prize(first: int, last: int, points: int, badge: str | None = None) -> Any:
    from server.rewards.contests import RankPrize

    return RankPrize(first, last, points, badge)


async def test_cancel_and_what_can_change_when(
    svc: Services, clock: Clock, gql: GraphQL, keys: dict[str, str]
) -> None:
    clock.now = START - timedelta(days=1)
    created = (await gql(CREATE, {"input": _input()}, auth=keys["MODERATOR"]))["createContest"]
    cid = created["contest"]["id"]
    update = """mutation($input: UpdateContestInput!) { updateContest(input: $input) {
        __typename ... on ContestSaved { contest { name description } }
        ... on Error { message } } }"""
    ok = await gql(
        update, {"input": {"id": cid, "name": "Share fortnight"}}, auth=keys["MODERATOR"]
    )
    assert ok["updateContest"]["contest"]["name"] == "Share fortnight"
    await gql(
        "mutation($id: ID!) { publishContest(id: $id) { __typename } }",
        {"id": cid},
        auth=keys["MODERATOR"],
    )
    clock.now = START + timedelta(days=2)
    late = await gql(update, {"input": {"id": cid, "name": "Other"}}, auth=keys["MODERATOR"])
    assert late["updateContest"]["__typename"] == "ConflictError"
    text = await gql(
        update, {"input": {"id": cid, "description": "Now with prizes"}}, auth=keys["MODERATOR"]
    )
    assert text["updateContest"]["contest"]["description"] == "Now with prizes"
    cancel = """mutation($id: ID!, $r: String!) { cancelContest(id: $id, reason: $r) {
        __typename ... on ContestSaved { contest { status cancelReason } } } }"""
    got = await gql(cancel, {"id": cid, "r": "a supplier pulled out"}, auth=keys["MODERATOR"])
    assert got["cancelContest"]["contest"] == {
        "status": "CANCELLED",
        "cancelReason": "a supplier pulled out",
    }
    clock.now = END + timedelta(days=1)
    final = await gql(
        "mutation($id: ID!) { finalizeContest(id: $id) { __typename } }",
        {"id": cid},
        auth=keys["MODERATOR"],
    )
    assert final["finalizeContest"]["__typename"] == "ConflictError"
    listed = await gql("query { contests(status: CANCELLED) { id } }", auth=keys["MODERATOR"])
    assert listed["contests"] == [{"id": cid}]
    assert (await gql("query { contests { id } }"))["contests"] == []  # not for shoppers


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"prizes": [{"fromRank": 2, "toRank": 1, "points": 5}]}, "prizes"),
        (
            {
                "prizes": [
                    {"fromRank": 1, "toRank": 3, "points": 5},
                    {"fromRank": 3, "toRank": 4, "points": 1},
                ]
            },
            "prizes",
        ),
        (
            {
                "prizes": [
                    {"fromRank": 2, "toRank": 2, "points": 5},
                    {"fromRank": 1, "toRank": 1, "points": 9},
                ]
            },
            "prizes",
        ),
        ({"prizes": [{"fromRank": 1, "toRank": 101, "points": 5}]}, "prizes"),
        ({"prizes": [{"fromRank": 1, "toRank": 1, "points": 0}]}, "prizes"),
        ({"endsAt": START.isoformat()}, "endsAt"),
        ({"endsAt": (START + timedelta(days=400)).isoformat()}, "endsAt"),
        ({"activityKinds": []}, "activityKinds"),
        ({"name": "  "}, "name"),
    ],
)
async def test_invalid_contests_name_the_field(
    svc: Services,
    clock: Clock,
    gql: GraphQL,
    keys: dict[str, str],
    change: dict[str, Any],
    field: str,
) -> None:
    clock.now = START - timedelta(days=1)
    got = (await gql(CREATE, {"input": _input(**change)}, auth=keys["MODERATOR"]))["createContest"]
    assert (got["__typename"], got.get("field")) == ("ValidationError", field)


async def test_every_contest_mutation_needs_a_moderator(
    svc: Services, clock: Clock, gql: GraphQL, keys: dict[str, str]
) -> None:
    clock.now = START - timedelta(days=1)
    cid = (await gql(CREATE, {"input": _input()}, auth=keys["ADMIN"]))["createContest"]["contest"][
        "id"
    ]
    calls = [
        (CREATE, {"input": _input()}),
        ("mutation($id: ID!) { publishContest(id: $id) { __typename } }", {"id": cid}),
        (
            'mutation($id: ID!) { updateContest(input: {id: $id, name: "x"}) { __typename } }',
            {"id": cid},
        ),
        ('mutation($id: ID!) { cancelContest(id: $id, reason: "x") { __typename } }', {"id": cid}),
        (
            'mutation($id: ID!) { disqualifyContestant(contestId: $id, memberId: "1", '
            'reason: "x") { __typename } }',
            {"id": cid},
        ),
        (
            'mutation($id: ID!) { reinstateContestant(contestId: $id, memberId: "1") '
            "{ __typename } }",
            {"id": cid},
        ),
        ("mutation($id: ID!) { finalizeContest(id: $id) { __typename } }", {"id": cid}),
    ]
    for who in ("SERVICE", None):
        for query, variables in calls:
            data = await gql(query, variables, auth=keys[who] if who else None)
            assert next(iter(data.values()))["__typename"] == "PermissionDeniedError", (who, query)


async def test_a_contest_board_rebuilds_from_sql(svc: Services, clock: Clock, gql: GraphQL) -> None:
    clock.now = START + timedelta(days=1)
    contest = await actions.create_contest(
        svc,
        MODERATOR,
        actions.ContestFields(
            name="Shares",
            starts_at=START,
            ends_at=END,
            activity_kinds=[actions_kind("SOCIAL_SHARE")],
        ),
    )
    await actions.publish_contest(svc, MODERATOR, str(contest.id))
    ivy = await _member(svc, "ivy")
    await _shares(svc, ivy, 2, "z")
    assert svc.boards is not None
    await svc.boards.redis.flushdb()  # Redis lost everything: no wrong (empty) board
    lost = await gql.raw(CONTEST, {"id": str(contest.id)})
    assert lost.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    await actions.rebuild_leaderboards(svc, settle=0)
    assert await _board(gql, str(contest.id)) == [(1, 10, "ivy")]
