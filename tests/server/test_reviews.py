"""Reviews over HTTP: a verified buyer reviews a product once, a moderator decides,
and an approved review can be removed again with its points taken back."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from typing import Any

import pytest
from PIL import Image

from tests.conftest import Clock, GraphQL, member_token
from tests.helpers import ADJUST, BOARD, PURCHASE, UPSERT, ledger_counts, purchase_input

ACTIVITY = """
fragment ActivityFields on Activity {
  id kind status points occurredAt decidedAt decisionReason flagReason
  member { id displayName }
  review { productId rating text hasPhoto }
  share { platform url }
}"""

REVIEW = (
    """
mutation Review($input: SubmitReviewInput!) {
  submitReview(input: $input) {
    __typename
    ... on ActivityRecorded { pointsAwarded duplicate activity { ...ActivityFields } }
    ... on Error { message }
    ... on ValidationError { field }
  }
}"""
    + ACTIVITY
)

MODERATE = (
    """
mutation Moderate($input: ModerateActivityInput!) {
  moderateActivity(input: $input) {
    __typename
    ... on ActivityRecorded { pointsAwarded duplicate activity { ...ActivityFields } }
    ... on Error { message }
    ... on ValidationError { field }
  }
}"""
    + ACTIVITY
)

QUEUE = (
    """
query Queue($first: Int! = 20) { moderationQueue(first: $first) { ...ActivityFields } }"""
    + ACTIVITY
)

SHARE = """
mutation Share($input: RecordShareInput!) {
  recordShare(input: $input) {
    __typename
    ... on ActivityRecorded { pointsAwarded activity { id } }
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

ACCOUNT = (
    """
query Account($first: Int! = 20, $after: String) {
  viewer {
    pointsBalance pendingPoints owedPoints
    member { id lifetimePoints }
    ledger(first: 50) { edges { node { amount reason } } }
    activities(first: $first, after: $after) {
      edges { cursor node { ...ActivityFields } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""
    + ACTIVITY
)

STAFF_ACCOUNT = (
    """
query StaffAccount($memberId: ID!) {
  account(memberId: $memberId) {
    activities(first: 20) { edges { node { ...ActivityFields } } }
  }
}"""
    + ACTIVITY
)

TEXT = "Warm, dry and comfortable all winter long."


@dataclass(frozen=True)
class Buyer:
    """A member who bought some products in one order of 1.00 (1 pending point)."""

    external_id: str
    member_id: str
    token: str
    order_id: str


async def _buyer(
    gql: GraphQL, service: str, external_id: str, products: list[str], name: str = "Ada"
) -> Buyer:
    saved = await gql(
        UPSERT, {"input": {"externalId": external_id, "displayName": name}}, auth=service
    )
    member_id = saved["upsertMember"]["member"]["id"]
    order = f"order-{external_id}"
    bought = purchase_input(external_id, order, 100)
    bought["productIds"] = products
    done = await gql(PURCHASE, {"input": bought}, auth=service)
    assert done["recordPurchase"]["__typename"] == "ActivityRecorded"
    return Buyer(external_id, member_id, await member_token(external_id), order)


def review_input(
    key: str,
    product: str,
    *,
    rating: int = 5,
    text: str = TEXT,
    photo: bool | str = False,
    member: str | None = None,
) -> dict[str, Any]:
    """``photo``: an uploaded photo's id, or True to claim one without sending it."""
    fields: dict[str, Any] = {
        "idempotencyKey": key,
        "productId": product,
        "rating": rating,
        "text": text,
    }
    if isinstance(photo, str):
        fields["photoId"] = photo
    else:
        fields["hasPhoto"] = photo
    if member is not None:
        fields["memberExternalId"] = member
    return {"input": fields}


def decide(activity_id: str, decision: str, reason: str | None = None) -> dict[str, Any]:
    return {"input": {"activityId": activity_id, "decision": decision, "reason": reason}}


async def _account(gql: GraphQL, buyer: Buyer) -> dict[str, Any]:
    account: dict[str, Any] = (await gql(ACCOUNT, auth=buyer.token))["viewer"]
    return account


async def _money(gql: GraphQL, buyer: Buyer) -> tuple[int, int, int, int]:
    """(balance, pending, lifetime, owed) as the member sees them."""
    a = await _account(gql, buyer)
    return a["pointsBalance"], a["pendingPoints"], a["member"]["lifetimePoints"], a["owedPoints"]


async def _score(gql: GraphQL, member_id: str) -> int | None:
    board = (await gql(BOARD, {"first": 50}))["leaderboard"]
    scores = {e["member"]["id"]: e["score"] for e in board["entries"]}
    return scores.get(member_id)


async def upload_photo(gql: GraphQL, token: str) -> str:
    """The id of a small JPEG uploaded as the shopper of ``token``."""
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (120, 80, 40)).save(out, "JPEG")
    answer = await gql.http.post(
        "/photos", content=out.getvalue(), headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 201, answer.text
    photo_id: str = answer.json()["id"]
    return photo_id


async def _submit(gql: GraphQL, buyer: Buyer, key: str, product: str, photo: bool = True) -> str:
    sent: bool | str = await upload_photo(gql, buyer.token) if photo else False
    done = await gql(REVIEW, review_input(key, product, photo=sent), auth=buyer.token)
    assert done["submitReview"]["__typename"] == "ActivityRecorded", done
    activity_id: str = done["submitReview"]["activity"]["id"]
    return activity_id


async def _approved(gql: GraphQL, keys: dict[str, str], buyer: Buyer, product: str) -> str:
    activity_id = await _submit(gql, buyer, f"rev-{product}", product)
    done = await gql(MODERATE, decide(activity_id, "APPROVE"), auth=keys["MODERATOR"])
    assert done["moderateActivity"]["activity"]["status"] == "APPROVED"
    return activity_id


async def _debit(gql: GraphQL, keys: dict[str, str], buyer: Buyer, points: int) -> int:
    """An admin takes ``points`` off the balance (as spending would); returns the balance."""
    spend = {"idempotencyKey": f"spend-{points}", "memberId": buyer.member_id}
    done = await gql(
        ADJUST, {"input": {**spend, "amount": -points, "reason": "Gift card"}}, auth=keys["ADMIN"]
    )
    assert done["adjustPoints"]["__typename"] == "PointsAdjusted", done
    balance: int = done["adjustPoints"]["account"]["pointsBalance"]
    return balance


# --- submitting ---------------------------------------------------------------------------


async def test_a_photo_review_waits_for_a_moderator_as_pending_points(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    ada = await _buyer(gql, keys["SERVICE"], "ada", ["boots", "hat"])
    done = await gql(
        REVIEW,
        review_input(
            "r-1", "boots", rating=4, text=f"  {TEXT}  ", photo=await upload_photo(gql, ada.token)
        ),
        auth=ada.token,
    )
    recorded = done["submitReview"]
    assert recorded["__typename"] == "ActivityRecorded"
    assert (recorded["pointsAwarded"], recorded["duplicate"]) == (40, False)
    activity = recorded["activity"]
    assert (activity["kind"], activity["status"], activity["points"]) == (
        "PHOTO_REVIEW",
        "PENDING",
        0,
    )
    assert activity["review"] == {"productId": "boots", "rating": 4, "text": TEXT, "hasPhoto": True}
    assert activity["share"] is None
    assert (activity["decidedAt"], activity["decisionReason"]) == (None, None)
    assert activity["member"]["id"] == ada.member_id

    # Pending, not yet earned: 1 point of the purchase plus the review's 40.
    assert await _money(gql, ada) == (0, 41, 1, 0)
    assert await _score(gql, ada.member_id) == 1

    [waiting] = (await gql(QUEUE, auth=keys["MODERATOR"]))["moderationQueue"]
    assert waiting["id"] == activity["id"]
    assert waiting["review"] == activity["review"]
    assert waiting["member"] == {"id": ada.member_id, "displayName": "Ada"}
    assert waiting["status"] == "PENDING"
    assert (await gql(QUEUE, auth=keys["ADMIN"]))["moderationQueue"][0]["id"] == activity["id"]


async def test_a_review_without_photo_is_worth_20(gql: GraphQL, keys: dict[str, str]) -> None:
    ada = await _buyer(gql, keys["SERVICE"], "ada", ["boots"])
    done = await gql(REVIEW, review_input("r-1", "boots"), auth=ada.token)
    assert done["submitReview"]["pointsAwarded"] == 20
    assert done["submitReview"]["activity"]["kind"] == "REVIEW"
    assert done["submitReview"]["activity"]["review"]["hasPhoto"] is False
    assert await _money(gql, ada) == (0, 21, 1, 0)


async def test_the_shop_service_submits_a_review_for_a_member(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    ada = await _buyer(gql, keys["SERVICE"], "ada", ["boots"])
    done = await gql(REVIEW, review_input("r-1", "boots", member="ada"), auth=keys["SERVICE"])
    recorded = done["submitReview"]
    assert recorded["__typename"] == "ActivityRecorded"
    assert recorded["activity"]["member"]["id"] == ada.member_id
    assert recorded["activity"]["status"] == "PENDING"
    assert await _money(gql, ada) == (0, 21, 1, 0)


async def test_a_retried_review_is_recorded_once(gql: GraphQL, keys: dict[str, str]) -> None:
    ada = await _buyer(gql, keys["SERVICE"], "ada", ["boots"])
    first = (await gql(REVIEW, review_input("r-1", "boots"), auth=ada.token))["submitReview"]
    before = await ledger_counts()
    again = (await gql(REVIEW, review_input("r-1", "boots"), auth=ada.token))["submitReview"]
    assert (again["duplicate"], again["activity"]["id"]) == (True, first["activity"]["id"])
    assert await ledger_counts() == before
    assert await _money(gql, ada) == (0, 21, 1, 0)


@pytest.mark.parametrize(
    ("caller", "member", "outcome", "field"),
    [
        ("SERVICE", None, "ValidationError", "memberExternalId"),
        ("SHOPPER", "bob", "PermissionDeniedError", None),
        ("MODERATOR", "ada", "PermissionDeniedError", None),
        ("ANONYMOUS", "ada", "PermissionDeniedError", None),
    ],
)
async def test_who_may_submit_a_review(
    gql: GraphQL,
    keys: dict[str, str],
    caller: str,
    member: str | None,
    outcome: str,
    field: str | None,
) -> None:
    ada = await _buyer(gql, keys["SERVICE"], "ada", ["boots"])
    bob = await _buyer(gql, keys["SERVICE"], "bob", ["boots"], "Bob")
    auth = {"SHOPPER": ada.token, "ANONYMOUS": None}.get(caller, keys.get(caller))
    before = await ledger_counts()
    done = await gql(REVIEW, review_input("r-1", "boots", member=member), auth=auth)
    assert done["submitReview"]["__typename"] == outcome
    assert done["submitReview"]["message"]
    if field is not None:
        assert done["submitReview"]["field"] == field
    assert await ledger_counts() == before
    assert await _money(gql, ada) == (0, 1, 1, 0)
    assert await _money(gql, bob) == (0, 1, 1, 0)
    assert (await gql(QUEUE, auth=keys["MODERATOR"]))["moderationQueue"] == []


async def test_only_a_verified_buyer_may_review(gql: GraphQL, keys: dict[str, str]) -> None:
    ada = await _buyer(gql, keys["SERVICE"], "ada", ["boots"])
    await _buyer(gql, keys["SERVICE"], "bob", ["scarf"], "Bob")
    for product in ("umbrella", "scarf"):  # never sold; sold to someone else
        done = await gql(REVIEW, review_input(f"r-{product}", product), auth=ada.token)
        assert (done["submitReview"]["__typename"], done["submitReview"]["field"]) == (
            "ValidationError",
            "productId",
        )
    assert await _money(gql, ada) == (0, 1, 1, 0)


async def test_a_fully_refunded_purchase_no_longer_verifies_the_buyer(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    ada = await _buyer(gql, keys["SERVICE"], "ada", ["boots"])
    refund = {"input": {"idempotencyKey": "ref-1", "orderId": ada.order_id, "amountCents": 100}}
    refunded = await gql(REFUND, refund, auth=keys["SERVICE"])
    assert refunded["refundPurchase"]["activity"]["status"] == "REVERSED"
    done = await gql(REVIEW, review_input("r-1", "boots"), auth=ada.token)
    assert (done["submitReview"]["__typename"], done["submitReview"]["field"]) == (
        "ValidationError",
        "productId",
    )
    assert await _money(gql, ada) == (0, 0, 0, 0)


@pytest.mark.parametrize("second_has_photo", [False, True])
async def test_one_review_per_product(
    gql: GraphQL, keys: dict[str, str], second_has_photo: bool
) -> None:
    ada = await _buyer(gql, keys["SERVICE"], "ada", ["boots"])
    await _submit(gql, ada, "r-1", "boots", photo=False)
    before = await ledger_counts()
    photo: bool | str = await upload_photo(gql, ada.token) if second_has_photo else False
    again = await gql(REVIEW, review_input("r-2", "boots", photo=photo, rating=1), auth=ada.token)
    assert again["submitReview"]["__typename"] == "ConflictError"
    assert again["submitReview"]["message"]
    assert await ledger_counts() == before
    assert await _money(gql, ada) == (0, 21, 1, 0)
    assert len((await gql(QUEUE, auth=keys["MODERATOR"]))["moderationQueue"]) == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rating": 0}, "rating"),
        ({"rating": 6}, "rating"),
        ({"rating": -1}, "rating"),
        ({"text": "Too short to help."}, "text"),  # 18 characters
        ({"text": "  " + "x" * 19 + "  "}, "text"),  # 19 once trimmed
        ({"text": "x" * 5_001}, "text"),
        ({"text": ""}, "text"),
    ],
)
async def test_rating_and_text_must_be_in_bounds(
    gql: GraphQL, keys: dict[str, str], changes: dict[str, Any], field: str
) -> None:
    ada = await _buyer(gql, keys["SERVICE"], "ada", ["boots"])
    before = await ledger_counts()
    done = await gql(REVIEW, review_input("r-1", "boots", **changes), auth=ada.token)
    assert (done["submitReview"]["__typename"], done["submitReview"]["field"]) == (
        "ValidationError",
        field,
    )
    assert await ledger_counts() == before


@pytest.mark.parametrize(
    ("rating", "text"), [(1, "x" * 20), (5, "x" * 5_000), (3, "Très confortable, merci !")]
)
async def test_ratings_and_texts_at_the_bounds_are_accepted(
    gql: GraphQL, keys: dict[str, str], rating: int, text: str
) -> None:
    ada = await _buyer(gql, keys["SERVICE"], "ada", ["boots"])
    done = await gql(REVIEW, review_input("r-1", "boots", rating=rating, text=text), auth=ada.token)
    assert done["submitReview"]["__typename"] == "ActivityRecorded"
    assert done["submitReview"]["activity"]["review"]["rating"] == rating
    assert done["submitReview"]["activity"]["review"]["text"] == text


async def test_the_sixth_review_of_a_day_waits_for_tomorrow(
    gql: GraphQL, keys: dict[str, str], clock: Clock
) -> None:
    products = [f"p{i}" for i in range(7)]
    ada = await _buyer(gql, keys["SERVICE"], "ada", products)
    for i in range(5):
        await _submit(gql, ada, f"r-{i}", products[i], photo=i % 2 == 0)
    before = await ledger_counts()
    sixth = await gql(REVIEW, review_input("r-5", "p5"), auth=ada.token)
    assert sixth["submitReview"]["__typename"] == "LimitReachedError"
    assert sixth["submitReview"]["message"]
    assert await ledger_counts() == before
    assert len((await gql(QUEUE, auth=keys["MODERATOR"]))["moderationQueue"]) == 5

    clock.advance(days=1)
    tomorrow = await gql(REVIEW, review_input("r-5b", "p5"), auth=ada.token)
    assert tomorrow["submitReview"]["__typename"] == "ActivityRecorded"


# --- moderating ---------------------------------------------------------------------------


async def test_an_approved_review_is_spendable_at_once_and_counts_on_the_board(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    ada = await _buyer(gql, keys["SERVICE"], "ada", ["boots"])
    review_id = await _submit(gql, ada, "r-1", "boots")
    done = await gql(
        MODERATE, decide(review_id, "APPROVE", "Genuine, with photo"), auth=keys["MODERATOR"]
    )
    recorded = done["moderateActivity"]
    assert recorded["__typename"] == "ActivityRecorded"
    assert (recorded["pointsAwarded"], recorded["duplicate"]) == (40, False)
    activity = recorded["activity"]
    assert (activity["id"], activity["status"], activity["points"]) == (review_id, "APPROVED", 40)
    assert activity["decidedAt"] is not None
    assert activity["decisionReason"] == "Genuine, with photo"

    assert await _money(gql, ada) == (40, 1, 41, 0)
    assert await _score(gql, ada.member_id) == 41
    assert (await gql(QUEUE, auth=keys["MODERATOR"]))["moderationQueue"] == []

    # What the member sees later: the decision is kept.
    [node] = [
        e["node"]
        for e in (await _account(gql, ada))["activities"]["edges"]
        if e["node"]["id"] == review_id
    ]
    assert (node["status"], node["points"], node["decisionReason"]) == (
        "APPROVED",
        40,
        "Genuine, with photo",
    )
    assert node["decidedAt"] == activity["decidedAt"]

    again = (await gql(MODERATE, decide(review_id, "APPROVE"), auth=keys["ADMIN"]))[
        "moderateActivity"
    ]
    assert (again["__typename"], again["duplicate"], again["pointsAwarded"]) == (
        "ActivityRecorded",
        True,
        0,
    )
    assert again["activity"]["decisionReason"] == "Genuine, with photo"
    assert await _money(gql, ada) == (40, 1, 41, 0)
    assert await _score(gql, ada.member_id) == 41


async def test_a_rejected_review_earns_nothing_and_leaves_the_queue(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    ada = await _buyer(gql, keys["SERVICE"], "ada", ["boots"])
    review_id = await _submit(gql, ada, "r-1", "boots")
    done = await gql(MODERATE, decide(review_id, "REJECT", "Off topic"), auth=keys["MODERATOR"])
    recorded = done["moderateActivity"]
    assert (recorded["__typename"], recorded["pointsAwarded"]) == ("ActivityRecorded", 0)
    assert (recorded["activity"]["status"], recorded["activity"]["points"]) == ("REJECTED", 0)
    assert recorded["activity"]["decisionReason"] == "Off topic"
    assert recorded["activity"]["decidedAt"] is not None

    assert await _money(gql, ada) == (0, 1, 1, 0)
    assert await _score(gql, ada.member_id) == 1
    assert (await gql(QUEUE, auth=keys["MODERATOR"]))["moderationQueue"] == []

    twice = await gql(MODERATE, decide(review_id, "REJECT"), auth=keys["MODERATOR"])
    assert twice["moderateActivity"]["duplicate"] is True
    approve = await gql(MODERATE, decide(review_id, "APPROVE"), auth=keys["MODERATOR"])
    assert approve["moderateActivity"]["__typename"] == "ConflictError"
    reverse = await gql(MODERATE, decide(review_id, "REVERSE"), auth=keys["MODERATOR"])
    assert reverse["moderateActivity"]["__typename"] == "ConflictError"
    assert await _money(gql, ada) == (0, 1, 1, 0)


async def test_an_approved_review_cannot_be_rejected(gql: GraphQL, keys: dict[str, str]) -> None:
    ada = await _buyer(gql, keys["SERVICE"], "ada", ["boots"])
    review_id = await _approved(gql, keys, ada, "boots")
    done = await gql(MODERATE, decide(review_id, "REJECT"), auth=keys["MODERATOR"])
    assert done["moderateActivity"]["__typename"] == "ConflictError"
    assert done["moderateActivity"]["message"]
    assert await _money(gql, ada) == (40, 1, 41, 0)


async def test_a_pending_review_cannot_be_reversed(gql: GraphQL, keys: dict[str, str]) -> None:
    ada = await _buyer(gql, keys["SERVICE"], "ada", ["boots"])
    review_id = await _submit(gql, ada, "r-1", "boots")
    done = await gql(MODERATE, decide(review_id, "REVERSE"), auth=keys["MODERATOR"])
    assert done["moderateActivity"]["__typename"] == "ConflictError"
    assert await _money(gql, ada) == (0, 41, 1, 0)


async def test_reversing_an_approved_review_takes_its_points_back(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    ada = await _buyer(gql, keys["SERVICE"], "ada", ["boots"])
    review_id = await _approved(gql, keys, ada, "boots")
    done = await gql(MODERATE, decide(review_id, "REVERSE", "Fake photo"), auth=keys["MODERATOR"])
    recorded = done["moderateActivity"]
    assert (recorded["__typename"], recorded["pointsAwarded"]) == ("ActivityRecorded", -40)
    activity = recorded["activity"]
    assert (activity["status"], activity["points"]) == ("REVERSED", 0)
    assert activity["decisionReason"] == "Fake photo"

    assert await _money(gql, ada) == (0, 1, 1, 0)
    assert await _score(gql, ada.member_id) == 1
    account = await _account(gql, ada)
    amounts = [e["node"]["amount"] for e in account["ledger"]["edges"]]
    assert amounts[0] == -40  # the compensating line, newest first
    assert 40 in amounts  # the original credit stays on the statement
    [node] = [e["node"] for e in account["activities"]["edges"] if e["node"]["id"] == review_id]
    assert (node["status"], node["points"]) == ("REVERSED", 0)

    again = await gql(MODERATE, decide(review_id, "REVERSE"), auth=keys["MODERATOR"])
    assert again["moderateActivity"]["duplicate"] is True
    assert await _money(gql, ada) == (0, 1, 1, 0)


async def test_a_reversal_the_balance_cannot_cover_is_owed_and_settled_by_next_earnings(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    service = keys["SERVICE"]
    ada = await _buyer(gql, service, "ada", ["boots", "hat"])
    await gql(PURCHASE, {"input": purchase_input("ada", "big-order", 10_000)}, auth=service)
    review_id = await _approved(gql, keys, ada, "boots")
    assert await _money(gql, ada) == (40, 101, 141, 0)
    assert await _debit(gql, keys, ada, 30) == 10

    done = await gql(MODERATE, decide(review_id, "REVERSE"), auth=keys["MODERATOR"])
    assert done["moderateActivity"]["activity"]["status"] == "REVERSED"
    # 10 taken from the balance, the other 30 owed; the balance never goes negative.
    assert await _money(gql, ada) == (0, 101, 71, 30)
    assert (await _account(gql, ada))["ledger"]["edges"][0]["node"]["amount"] == -10

    await _approved(gql, keys, ada, "hat")
    assert await _money(gql, ada) == (10, 101, 111, 0)


async def test_reversing_a_review_after_a_debit_leaves_the_shortfall_owed(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    """The review's own points were partly debited by an admin before it was removed."""
    ada = await _buyer(gql, keys["SERVICE"], "ada", ["boots", "hat"])
    review_id = await _approved(gql, keys, ada, "boots")
    assert await _debit(gql, keys, ada, 30) == 10

    done = await gql(MODERATE, decide(review_id, "REVERSE"), auth=keys["MODERATOR"])
    assert done["moderateActivity"]["__typename"] == "ActivityRecorded"
    assert done["moderateActivity"]["activity"]["status"] == "REVERSED"
    balance, _, _, owed = await _money(gql, ada)
    assert (balance, owed) == (0, 30)

    await _approved(gql, keys, ada, "hat")
    balance, _, _, owed = await _money(gql, ada)
    assert (balance, owed) == (10, 0)


@pytest.mark.parametrize("role", ["SHOPPER", "SERVICE", "ANONYMOUS"])
async def test_only_moderators_decide(gql: GraphQL, keys: dict[str, str], role: str) -> None:
    ada = await _buyer(gql, keys["SERVICE"], "ada", ["boots"])
    review_id = await _submit(gql, ada, "r-1", "boots")
    auth = {"SHOPPER": ada.token, "ANONYMOUS": None}.get(role, keys.get(role))
    for decision in ("APPROVE", "REJECT", "REVERSE"):
        done = await gql(MODERATE, decide(review_id, decision), auth=auth)
        assert done["moderateActivity"]["__typename"] == "PermissionDeniedError", decision
    assert await _money(gql, ada) == (0, 41, 1, 0)
    [waiting] = (await gql(QUEUE, auth=keys["MODERATOR"]))["moderationQueue"]
    assert waiting["id"] == review_id


@pytest.mark.parametrize("role", ["SHOPPER", "SERVICE", "ANONYMOUS"])
async def test_the_queue_is_empty_for_non_moderators(
    gql: GraphQL, keys: dict[str, str], role: str
) -> None:
    ada = await _buyer(gql, keys["SERVICE"], "ada", ["boots"])
    await _submit(gql, ada, "r-1", "boots")
    auth = {"SHOPPER": ada.token, "ANONYMOUS": None}.get(role, keys.get(role))
    assert (await gql(QUEUE, auth=auth))["moderationQueue"] == []


@pytest.mark.parametrize("activity_id", ["999999", "abc", "-1"])
async def test_deciding_an_unknown_activity_is_not_found(
    gql: GraphQL, keys: dict[str, str], activity_id: str
) -> None:
    done = await gql(MODERATE, decide(activity_id, "APPROVE"), auth=keys["MODERATOR"])
    assert done["moderateActivity"]["__typename"] == "NotFoundError"
    assert done["moderateActivity"]["message"]


async def test_ten_moderators_approving_at_once_credit_once(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    ada = await _buyer(gql, keys["SERVICE"], "ada", ["boots"])
    review_id = await _submit(gql, ada, "r-1", "boots")
    results = await asyncio.gather(
        *(gql(MODERATE, decide(review_id, "APPROVE"), auth=keys["MODERATOR"]) for _ in range(10))
    )
    assert await _money(gql, ada) == (40, 1, 41, 0)
    assert await _score(gql, ada.member_id) == 41
    # Every moderator made the same decision: each gets the outcome back, one credits it.
    outcomes = [r["moderateActivity"] for r in results]
    assert [o["__typename"] for o in outcomes] == ["ActivityRecorded"] * 10, outcomes
    assert sorted(o["pointsAwarded"] for o in outcomes) == [0] * 9 + [40]
    assert sum(not o["duplicate"] for o in outcomes) == 1
    assert {o["activity"]["status"] for o in outcomes} == {"APPROVED"}


# --- the member's activities -----------------------------------------------------------------


async def test_activities_page_newest_first_with_their_details(
    gql: GraphQL, keys: dict[str, str]
) -> None:
    ada = await _buyer(gql, keys["SERVICE"], "ada", ["boots"])
    review_id = await _approved(gql, keys, ada, "boots")
    share = {"idempotencyKey": "s-1", "platform": "whatsapp", "url": "https://shop.example/boots"}
    await gql(SHARE, {"input": share}, auth=ada.token)

    seen: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        page = (await gql(ACCOUNT, {"first": 2, "after": after}, auth=ada.token))["viewer"]
        activities = page["activities"]
        assert len(activities["edges"]) <= 2
        seen += [edge["node"] for edge in activities["edges"]]
        if not activities["pageInfo"]["hasNextPage"]:
            break
        after = activities["pageInfo"]["endCursor"]

    assert [(a["kind"], a["status"], a["points"]) for a in seen] == [
        ("SOCIAL_SHARE", "APPROVED", 5),
        ("PHOTO_REVIEW", "APPROVED", 40),
        ("PURCHASE", "PENDING", 0),
    ]
    shared, reviewed, bought = seen
    assert shared["share"] == {"platform": "whatsapp", "url": "https://shop.example/boots"}
    assert shared["review"] is None
    assert reviewed["id"] == review_id
    assert reviewed["review"] == {"productId": "boots", "rating": 5, "text": TEXT, "hasPhoto": True}
    assert reviewed["share"] is None
    assert (bought["review"], bought["share"]) == (None, None)
    assert all(a["flagReason"] is None for a in seen)


async def test_a_flag_reason_is_shown_to_staff_only(gql: GraphQL, keys: dict[str, str]) -> None:
    service = keys["SERVICE"]
    saved = await gql(
        UPSERT,
        {"input": {"externalId": "ref", "displayName": "Rita", "email": "rita@example.com"}},
        auth=service,
    )
    rita_id = saved["upsertMember"]["member"]["id"]
    token = await member_token("ref")
    code = (await gql("{ viewer { referralCode } }", auth=token))["viewer"]["referralCode"]
    # The "friend" has Rita's own address with a +tag: a self-referral sign.
    friend = {
        "externalId": "friend",
        "displayName": "Rita again",
        "email": "Rita+2@example.com",
        "referralCode": code,
    }
    assert (await gql(UPSERT, {"input": friend}, auth=service))["upsertMember"]["__typename"] == (
        "MemberSaved"
    )

    [mine] = (await gql(ACCOUNT, auth=token))["viewer"]["activities"]["edges"]
    assert mine["node"]["kind"] == "REFERRAL"
    assert mine["node"]["flagReason"] is None
    staff = await gql(STAFF_ACCOUNT, {"memberId": rita_id}, auth=keys["MODERATOR"])
    [seen_by_staff] = staff["account"]["activities"]["edges"]
    assert seen_by_staff["node"]["flagReason"]
    [queued] = (await gql(QUEUE, auth=keys["MODERATOR"]))["moderationQueue"]
    assert queued["flagReason"] == seen_by_staff["node"]["flagReason"]
