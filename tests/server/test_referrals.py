"""Referrals: a member's code given at sign-up earns the referrer 100 points once the new
member's first purchase has outlived its 14-day return window without a full refund.

Self-referral signs and the monthly cap send a referral to a moderator instead of
paying it; refunds of that first purchase cancel the referral or take the reward back.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from server import actions
from server.actions import Services
from server.rewards.consistency import find_mismatches
from server.rewards.members import REFERRAL_ALPHABET
from tests.conftest import Clock, GraphQL, member_token
from tests.helpers import ADJUST, BOARD, PURCHASE, UPSERT, ledger_counts, purchase_input

ME = """
query Me {
  viewer {
    pointsBalance pendingPoints owedPoints referralCode
    member { id lifetimePoints }
    activities(first: 50) {
      edges { node { id kind status points flagReason decisionReason } }
    }
    ledger(first: 50) { edges { node { amount reason spendableAt } } }
  }
}"""

MEMBER = """
query Member($id: ID!) { member(id: $id) { id displayName lifetimePoints } }"""

QUEUE = """
query Queue {
  moderationQueue(first: 50) { id kind status flagReason member { id displayName } }
}"""

MODERATE = """
mutation Moderate($input: ModerateActivityInput!) {
  moderateActivity(input: $input) {
    __typename
    ... on ActivityRecorded { pointsAwarded duplicate activity { id status points } }
    ... on Error { message }
  }
}"""

REFUND = """
mutation Refund($input: RefundPurchaseInput!) {
  refundPurchase(input: $input) {
    __typename
    ... on ActivityRecorded { pointsAwarded activity { status } }
    ... on Error { message }
  }
}"""

BONUS = 100  # what the default REFERRAL rule pays


async def _sign_up(
    gql: GraphQL,
    keys: dict[str, str],
    external_id: str,
    *,
    email: str | None = None,
    code: str | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    fields: dict[str, Any] = {"externalId": external_id, "displayName": name or external_id}
    if email is not None:
        fields["email"] = email
    if code is not None:
        fields["referralCode"] = code
    result: dict[str, Any] = (await gql(UPSERT, {"input": fields}, auth=keys["SERVICE"]))[
        "upsertMember"
    ]
    return result


async def _me(gql: GraphQL, external_id: str) -> dict[str, Any]:
    account: dict[str, Any] = (await gql(ME, auth=await member_token(external_id)))["viewer"]
    return account


async def _code(gql: GraphQL, external_id: str) -> str:
    code: str = (await _me(gql, external_id))["referralCode"]
    return code


def _referrals(account: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["node"] for e in account["activities"]["edges"] if e["node"]["kind"] == "REFERRAL"]


async def _standing(gql: GraphQL, external_id: str) -> tuple[int, int, int, int]:
    """(spendable, pending, owed, lifetime) as the member sees them."""
    me = await _me(gql, external_id)
    return (
        me["pointsBalance"],
        me["pendingPoints"],
        me["owedPoints"],
        me["member"]["lifetimePoints"],
    )


async def _board(gql: GraphQL) -> dict[str, int]:
    """displayName -> score on the global board."""
    entries = (await gql(BOARD, {"first": 50}))["leaderboard"]["entries"]
    return {e["member"]["displayName"]: e["score"] for e in entries}


async def _buy(gql: GraphQL, keys: dict[str, str], who: str, order: str, cents: int) -> None:
    bought = (
        await gql(PURCHASE, {"input": purchase_input(who, order, cents)}, auth=keys["SERVICE"])
    )["recordPurchase"]
    assert bought["__typename"] == "ActivityRecorded", bought


async def _refund(gql: GraphQL, keys: dict[str, str], order: str, cents: int, key: str) -> None:
    variables = {"input": {"idempotencyKey": key, "orderId": order, "amountCents": cents}}
    refunded = (await gql(REFUND, variables, auth=keys["SERVICE"]))["refundPurchase"]
    assert refunded["__typename"] == "ActivityRecorded", refunded


async def _queue(gql: GraphQL, keys: dict[str, str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (await gql(QUEUE, auth=keys["MODERATOR"]))["moderationQueue"]
    return [row for row in rows if row["kind"] == "REFERRAL"]


async def _moderate(
    gql: GraphQL, keys: dict[str, str], activity_id: str, decision: str
) -> dict[str, Any]:
    variables = {"input": {"activityId": activity_id, "decision": decision}}
    result: dict[str, Any] = (await gql(MODERATE, variables, auth=keys["MODERATOR"]))[
        "moderateActivity"
    ]
    return result


@pytest.fixture
async def ann(gql: GraphQL, keys: dict[str, str]) -> str:
    """The referrer; returns her referral code."""
    saved = await _sign_up(gql, keys, "ann", email="ann@example.com", name="Ann")
    assert saved["__typename"] == "MemberSaved"
    return await _code(gql, "ann")


@pytest.fixture
async def ben(gql: GraphQL, keys: dict[str, str], ann: str) -> str:
    """Ann's friend, signed up with her code; returns his member id."""
    saved = await _sign_up(gql, keys, "ben", email="ben@example.org", code=ann, name="Ben")
    assert saved["__typename"] == "MemberSaved", saved
    member_id: str = saved["member"]["id"]
    return member_id


# Codes and sign-up


async def test_every_account_has_its_own_readable_referral_code(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    for name in ("a", "b", "c"):
        await _sign_up(gql, keys, name)
    codes = [await _code(gql, name) for name in ("a", "b", "c")]
    assert len(set(codes)) == 3
    for code in codes:
        assert len(code) >= 6
        assert set(code) <= set(REFERRAL_ALPHABET)
    # A code does not change between reads.
    assert [await _code(gql, name) for name in ("a", "b", "c")] == codes


async def test_a_code_at_sign_up_links_the_new_member_to_the_referrer_as_pending(
    gql: GraphQL, keys: dict[str, str], ann: str, ben: str
) -> None:
    me = await _me(gql, "ann")
    [referral] = _referrals(me)
    assert (referral["status"], referral["points"]) == ("PENDING", 0)
    assert referral["flagReason"] is None
    # Nothing is credited, not even as pending points, before Ben buys.
    assert (me["pointsBalance"], me["pendingPoints"], me["member"]["lifetimePoints"]) == (0, 0, 0)
    # The referral is Ann's activity, not Ben's.
    assert _referrals(await _me(gql, "ben")) == []


async def test_a_code_is_accepted_as_typed_from_a_screenshot(
    gql: GraphQL, keys: dict[str, str], ann: str
) -> None:
    saved = await _sign_up(gql, keys, "cy", code=f"  {ann.lower()} ")
    assert saved["__typename"] == "MemberSaved", saved
    assert len(_referrals(await _me(gql, "ann"))) == 1


async def test_an_unknown_code_is_refused_and_creates_no_member(
    gql: GraphQL, keys: dict[str, str], ann: str
) -> None:
    counts = await ledger_counts()
    unknown = "ZZZZZZZZ" if ann != "ZZZZZZZZ" else "YYYYYYYY"

    refused = await _sign_up(gql, keys, "cy", code=unknown)

    assert refused["__typename"] == "ValidationError"
    assert refused["field"] == "referralCode"
    assert await ledger_counts() == counts
    assert _referrals(await _me(gql, "ann")) == []
    # Nothing half-made is left in the way: the same sign-up without the code works.
    retried = await _sign_up(gql, keys, "cy")
    assert retried["__typename"] == "MemberSaved", retried
    assert _referrals(await _me(gql, "ann")) == []


async def test_a_code_for_an_existing_member_is_refused_and_changes_nothing(
    gql: GraphQL, keys: dict[str, str], ann: str
) -> None:
    old = await _sign_up(gql, keys, "dan", email="dan@example.org", name="Dan")
    counts = await ledger_counts()

    late = await _sign_up(gql, keys, "dan", email="dan@example.org", code=ann, name="Daniel")

    assert late["__typename"] == "ValidationError"
    assert late["field"] == "referralCode"
    assert await ledger_counts() == counts
    profile = (await gql(MEMBER, {"id": old["member"]["id"]}))["member"]
    assert profile["displayName"] == "Dan"
    assert _referrals(await _me(gql, "ann")) == []


async def test_repeating_the_same_sign_up_with_the_same_code_is_harmless(
    gql: GraphQL, keys: dict[str, str], ann: str, ben: str
) -> None:
    again = await _sign_up(gql, keys, "ben", email="ben@example.org", code=ann, name="Ben")

    assert again["__typename"] == "MemberSaved", again
    assert again["member"]["id"] == ben
    assert len(_referrals(await _me(gql, "ann"))) == 1


# Paying the referrer


async def test_the_referrer_is_paid_once_the_first_purchase_outlives_its_window(
    gql: GraphQL, keys: dict[str, str], clock: Clock, ann: str, ben: str
) -> None:
    await _buy(gql, keys, "ben", "B-1", 10_000)
    assert await _standing(gql, "ann") == (0, 0, 0, 0)

    clock.advance(days=14, seconds=-1)
    assert await _standing(gql, "ann") == (0, 0, 0, 0)
    assert _referrals(await _me(gql, "ann"))[0]["status"] == "PENDING"

    clock.advance(seconds=2)
    assert await _standing(gql, "ann") == (BONUS, 0, 0, BONUS)  # spendable at once
    me = await _me(gql, "ann")
    assert await _standing(gql, "ann") == (BONUS, 0, 0, BONUS)  # read twice, paid once
    [referral] = _referrals(me)
    assert (referral["status"], referral["points"]) == ("APPROVED", BONUS)
    [line] = me["ledger"]["edges"]
    assert line["node"]["amount"] == BONUS
    assert line["node"]["spendableAt"] is None
    assert (await _board(gql))["Ann"] == BONUS
    assert await find_mismatches() == []


async def test_the_release_job_pays_a_due_referral_once(
    gql: GraphQL, keys: dict[str, str], clock: Clock, svc: Services, ann: str, ben: str
) -> None:
    await _buy(gql, keys, "ben", "B-1", 10_000)
    clock.advance(days=14, seconds=1)

    members, points = await actions.release_pending(svc)

    assert points == 100 + BONUS  # Ben's order and Ann's reward
    assert members >= 1
    assert await actions.release_pending(svc) == (0, 0)
    assert await _standing(gql, "ann") == (BONUS, 0, 0, BONUS)
    assert len((await _me(gql, "ann"))["ledger"]["edges"]) == 1
    assert (await _board(gql))["Ann"] == BONUS


async def test_concurrent_reads_pay_the_referral_once_and_all_show_it(
    gql: GraphQL, keys: dict[str, str], clock: Clock, ann: str, ben: str
) -> None:
    await _buy(gql, keys, "ben", "B-1", 10_000)
    clock.advance(days=14, seconds=1)
    token = await member_token("ann")

    reads = await asyncio.gather(*(gql(ME, auth=token) for _ in range(8)))

    for read in reads:
        account = read["viewer"]
        assert (account["pointsBalance"], account["member"]["lifetimePoints"]) == (BONUS, BONUS)
        assert [e["node"]["amount"] for e in account["ledger"]["edges"]] == [BONUS]
    assert await _standing(gql, "ann") == (BONUS, 0, 0, BONUS)
    assert (await _board(gql))["Ann"] == BONUS
    assert await find_mismatches() == []


async def test_only_the_first_purchase_decides_the_referral(
    gql: GraphQL, keys: dict[str, str], clock: Clock, ann: str, ben: str
) -> None:
    await _buy(gql, keys, "ben", "B-1", 10_000)
    clock.advance(days=1)
    await _buy(gql, keys, "ben", "B-2", 5_000)
    await _refund(gql, keys, "B-2", 5_000, "r-1")  # a later order refunded in full

    clock.advance(days=13, seconds=1)

    assert await _standing(gql, "ann") == (BONUS, 0, 0, BONUS)


# Moderation: self-referral signs and the monthly cap


async def test_a_self_referral_by_gmail_address_is_flagged_and_paid_only_when_approved(
    gql: GraphQL, keys: dict[str, str], clock: Clock, svc: Services
) -> None:
    await _sign_up(gql, keys, "ann", email="Ann.Lee+shop@gmail.com", name="Ann")
    saved = await _sign_up(
        gql, keys, "ann2", email="annlee@googlemail.com", code=await _code(gql, "ann")
    )
    assert saved["__typename"] == "MemberSaved", saved

    [flagged] = await _queue(gql, keys)
    assert flagged["status"] == "PENDING"
    assert flagged["flagReason"]
    assert flagged["member"]["displayName"] == "Ann"
    # The shopper does not see why; only staff do.
    [own] = _referrals(await _me(gql, "ann"))
    assert (own["id"], own["status"], own["flagReason"]) == (flagged["id"], "PENDING", None)

    await _buy(gql, keys, "ann2", "A2-1", 10_000)
    clock.advance(days=14, seconds=1)
    assert await _standing(gql, "ann") == (0, 0, 0, 0)
    await actions.release_pending(svc)
    assert await _standing(gql, "ann") == (0, 0, 0, 0)

    approved = await _moderate(gql, keys, flagged["id"], "APPROVE")

    assert approved["__typename"] == "ActivityRecorded", approved
    assert approved["pointsAwarded"] == BONUS
    assert approved["activity"]["status"] == "APPROVED"
    assert await _standing(gql, "ann") == (BONUS, 0, 0, BONUS)
    assert await _queue(gql, keys) == []
    assert await _standing(gql, "ann") == (BONUS, 0, 0, BONUS)


async def test_an_approval_before_the_window_ends_pays_when_the_purchase_qualifies(
    gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    await _sign_up(gql, keys, "ann", email="ann@example.com", name="Ann")
    await _sign_up(gql, keys, "alt", email="ANN+alt@example.com", code=await _code(gql, "ann"))
    [flagged] = await _queue(gql, keys)

    approved = await _moderate(gql, keys, flagged["id"], "APPROVE")
    assert (approved["pointsAwarded"], approved["activity"]["status"]) == (0, "PENDING")
    assert await _queue(gql, keys) == []

    await _buy(gql, keys, "alt", "ALT-1", 10_000)
    clock.advance(days=14, seconds=-1)
    assert await _standing(gql, "ann") == (0, 0, 0, 0)
    clock.advance(seconds=2)
    assert await _standing(gql, "ann") == (BONUS, 0, 0, BONUS)


async def test_a_rejected_referral_is_never_paid(
    gql: GraphQL, keys: dict[str, str], clock: Clock, svc: Services
) -> None:
    await _sign_up(gql, keys, "ann", email="Ann.Lee@gmail.com", name="Ann")
    await _sign_up(gql, keys, "alt", email="a.n.n.l.e.e@gmail.com", code=await _code(gql, "ann"))
    [flagged] = await _queue(gql, keys)
    await _buy(gql, keys, "alt", "ALT-1", 10_000)

    rejected = await _moderate(gql, keys, flagged["id"], "REJECT")

    assert (rejected["pointsAwarded"], rejected["activity"]["status"]) == (0, "REJECTED")
    clock.advance(days=30)
    await actions.release_pending(svc)
    assert await _standing(gql, "ann") == (0, 0, 0, 0)
    assert _referrals(await _me(gql, "ann"))[0]["status"] == "REJECTED"
    assert await _queue(gql, keys) == []


@pytest.mark.parametrize(
    ("referrer_email", "referee_email", "flagged"),
    [
        pytest.param("Bob@Example.com", "bob@example.com", True, id="case"),
        pytest.param("bob@example.com", "bob+deals@example.com", True, id="plus-tag"),
        pytest.param("Ann.Lee+shop@gmail.com", "annlee@googlemail.com", True, id="gmail"),
        pytest.param("b.ob@example.com", "bob@example.com", False, id="dots-outside-gmail"),
        pytest.param("bob@example.com", "bob@example.org", False, id="other-domain"),
        pytest.param("bob@example.com", "rob@example.com", False, id="other-person"),
        pytest.param("bob@example.com", None, False, id="no-email"),
    ],
)
async def test_self_referral_signs_compare_normalized_email_addresses(
    gql: GraphQL,
    keys: dict[str, str],
    referrer_email: str,
    referee_email: str | None,
    flagged: bool,
) -> None:
    await _sign_up(gql, keys, "ref", email=referrer_email)
    saved = await _sign_up(gql, keys, "new", email=referee_email, code=await _code(gql, "ref"))

    assert saved["__typename"] == "MemberSaved", saved
    queue = await _queue(gql, keys)
    assert bool(queue) is flagged
    assert len(_referrals(await _me(gql, "ref"))) == 1


async def test_the_eleventh_referral_in_a_month_is_flagged_not_refused(
    gql: GraphQL, keys: dict[str, str], clock: Clock, ann: str
) -> None:
    for i in range(10):
        saved = await _sign_up(gql, keys, f"f{i}", email=f"friend{i}@example.org", code=ann)
        assert saved["__typename"] == "MemberSaved", saved
    assert await _queue(gql, keys) == []

    eleventh = await _sign_up(gql, keys, "f10", email="friend10@example.org", code=ann)

    assert eleventh["__typename"] == "MemberSaved", eleventh
    [flagged] = await _queue(gql, keys)
    assert flagged["flagReason"]
    assert flagged["member"]["displayName"] == "Ann"
    assert len(_referrals(await _me(gql, "ann"))) == 11

    # Its referee's purchase qualifies, but the reward waits for a moderator.
    await _buy(gql, keys, "f10", "F10-1", 10_000)
    clock.advance(days=14, seconds=1)
    assert await _standing(gql, "ann") == (0, 0, 0, 0)
    await _moderate(gql, keys, flagged["id"], "APPROVE")
    assert await _standing(gql, "ann") == (BONUS, 0, 0, BONUS)


# Refunds of the referee's first purchase


async def test_a_full_refund_inside_the_window_cancels_the_referral_for_good(
    gql: GraphQL, keys: dict[str, str], clock: Clock, svc: Services, ann: str, ben: str
) -> None:
    await _buy(gql, keys, "ben", "B-1", 10_000)
    clock.advance(days=3)

    await _refund(gql, keys, "B-1", 10_000, "r-1")

    [referral] = _referrals(await _me(gql, "ann"))
    assert (referral["status"], referral["points"]) == ("REJECTED", 0)
    clock.advance(days=30)
    await actions.release_pending(svc)
    assert await _standing(gql, "ann") == (0, 0, 0, 0)
    assert _referrals(await _me(gql, "ann"))[0]["status"] == "REJECTED"


async def test_a_refund_in_parts_that_adds_up_to_the_whole_order_cancels_the_referral(
    gql: GraphQL, keys: dict[str, str], clock: Clock, ann: str, ben: str
) -> None:
    await _buy(gql, keys, "ben", "B-1", 10_000)
    await _refund(gql, keys, "B-1", 4_000, "r-1")
    await _refund(gql, keys, "B-1", 6_000, "r-2")

    clock.advance(days=14, seconds=1)

    assert await _standing(gql, "ann") == (0, 0, 0, 0)
    assert _referrals(await _me(gql, "ann"))[0]["status"] == "REJECTED"


async def test_a_partial_refund_keeps_the_referral(
    gql: GraphQL, keys: dict[str, str], clock: Clock, ann: str, ben: str
) -> None:
    await _buy(gql, keys, "ben", "B-1", 10_000)
    await _refund(gql, keys, "B-1", 9_999, "r-1")

    clock.advance(days=14, seconds=1)

    assert await _standing(gql, "ann") == (BONUS, 0, 0, BONUS)
    assert _referrals(await _me(gql, "ann"))[0]["status"] == "APPROVED"


async def test_a_full_refund_after_payment_takes_the_reward_back(
    gql: GraphQL, keys: dict[str, str], clock: Clock, ann: str, ben: str
) -> None:
    await _buy(gql, keys, "ben", "B-1", 10_000)
    clock.advance(days=14, seconds=1)
    assert await _standing(gql, "ann") == (BONUS, 0, 0, BONUS)

    await _refund(gql, keys, "B-1", 10_000, "r-1")

    me = await _me(gql, "ann")
    [referral] = _referrals(me)
    assert (referral["status"], referral["points"]) == ("REVERSED", 0)
    assert (me["pointsBalance"], me["owedPoints"], me["member"]["lifetimePoints"]) == (0, 0, 0)
    assert [e["node"]["amount"] for e in me["ledger"]["edges"]] == [-BONUS, BONUS]
    assert "Ann" not in await _board(gql)
    assert await find_mismatches() == []


async def test_a_reward_already_spent_is_owed_when_taken_back(
    gql: GraphQL, keys: dict[str, str], clock: Clock, svc: Services, ann: str, ben: str
) -> None:
    await _buy(gql, keys, "ben", "B-1", 10_000)
    clock.advance(days=14, seconds=1)
    ann_id = (await _me(gql, "ann"))["member"]["id"]
    spent = (
        await gql(
            ADJUST,
            {
                "input": {
                    "idempotencyKey": "d-1",
                    "memberId": ann_id,
                    "amount": -60,
                    "reason": "Mug",
                }
            },
            auth=keys["ADMIN"],
        )
    )["adjustPoints"]
    assert spent["account"]["pointsBalance"] == 40

    await _refund(gql, keys, "B-1", 10_000, "r-1")

    me = await _me(gql, "ann")
    assert (me["pointsBalance"], me["owedPoints"]) == (0, 60)
    assert _referrals(me)[0]["status"] == "REVERSED"
    assert await _standing(gql, "ben") == (0, 0, 0, 0)
    assert await actions.release_pending(svc) == (0, 0)  # the nightly job still runs
    assert await find_mismatches() == []
