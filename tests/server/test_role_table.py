"""The role table in README.md is the contract: every operation, called as every caller.

The table is parsed from README.md, the operations are listed from the built schema,
and each (operation, caller) is sent over HTTP and classified as allowed or denied.
A change to the code's role checks, or to the table, that is not made to both fails here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
)
from graphql import (
    build_schema as parse_sdl,
)

from schema import build_schema
from server.actions import Services
from server.events import WEBHOOKS
from tests.conftest import GraphQL, member_token
from tests.helpers import purchase_input
from tests.hooks.conftest import generic

ROLES = ("ANONYMOUS", "SHOPPER", "SERVICE", "MODERATOR", "ADMIN")
README = Path(__file__).resolve().parents[2] / "README.md"

# A capability inside an operation that the table names with a phrase, not a field.
DRAFTS = "draft and cancelled"
DRAFT_CAPABILITY = "contests (draft and cancelled)"


# --- the table ---------------------------------------------------------------------------


def _table_rows(text: str) -> dict[str, str]:
    """The ``| Role | May |`` table of the Authentication section: {role: its cell}."""
    section = text.split("## Authentication", 1)[1].split("\n## ", 1)[0]
    lines = section.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"\|\s*Role\s*\|\s*May\s*\|", line))
    rows: dict[str, str] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        role, may = (cell.strip() for cell in line.strip().strip("|").split("|", 1))
        rows[role] = may
    return rows


def _own_names(cell: str) -> set[str]:
    """The operations a cell names in backticks; a ``draft and cancelled `x`/`y``` group
    names the capability to see drafts, not the operations (ANONYMOUS has those)."""
    names: set[str] = set()
    for drafts, group in re.findall(rf"({DRAFTS} )?((?:`\w+`/?)+)", cell):
        found = re.findall(r"`(\w+)`", group)
        if drafts:
            names.add(DRAFT_CAPABILITY)
        else:
            names.update(found)
    return names


def parse_role_table(text: str) -> dict[str, set[str]]:
    """{role: the operations it may call}, from README's role table.

    A cell grants the operations it names in backticks, plus those of the roles it
    inherits from: "the above" (the row before), "what ROLE may" and "everything ROLE
    and ROLE may". Qualifiers (``of themselves``, ``naming a member``) are prose: the
    walk checks that the role passes the operation's role check, not each qualifier.
    """
    rows = _table_rows(text)
    assert list(rows) == list(ROLES), f"README role table rows: {list(rows)}"
    table: dict[str, set[str]] = {}
    previous: str | None = None
    for role, cell in rows.items():
        may = _own_names(cell)
        if re.search(r"\bthe above\b", cell):
            assert previous is not None, f"{role}: 'the above' in the first row"
            may |= table[previous]
        inherited = re.search(r"(?:what|everything) ([A-Z]+(?: and [A-Z]+)*) may", cell)
        if inherited:
            for parent in inherited.group(1).split(" and "):
                may |= table[parent]
        table[role] = may
        previous = role
    return table


# --- the schema --------------------------------------------------------------------------


def _sdl() -> GraphQLSchema:
    return parse_sdl(str(build_schema()))


def operations(sdl: GraphQLSchema) -> dict[str, dict[str, GraphQLField]]:
    """{"query"|"mutation"|"subscription": {field name: field}} from the built schema."""
    kinds = {
        "query": sdl.query_type,
        "mutation": sdl.mutation_type,
        "subscription": sdl.subscription_type,
    }
    return {kind: dict(root.fields) if root else {} for kind, root in kinds.items()}


def _selection(field: GraphQLField) -> str:
    named = get_named_type(field.type)
    if isinstance(named, GraphQLUnionType):
        return "{ __typename ... on Error { message } }"
    if isinstance(named, GraphQLObjectType):
        return "{ __typename }"
    return ""


def document(kind: str, name: str, field: GraphQLField, variables: dict[str, Any]) -> str:
    """A one-field document calling ``name`` with the given variables as its arguments."""
    unknown = set(variables) - set(field.args)
    assert not unknown, f"{name} has no arguments {unknown}"
    definitions = ", ".join(f"${arg}: {field.args[arg].type}" for arg in variables)
    arguments = ", ".join(f"{arg}: ${arg}" for arg in variables)
    head = f"{kind} Probe({definitions})" if definitions else f"{kind} Probe"
    call = f"{name}({arguments})" if arguments else name
    return f"{head} {{ {call} {_selection(field)} }}"


# --- the world the probes run in ---------------------------------------------------------


@dataclass
class World:
    auth: dict[str, str | None]
    ada: str
    bob: str
    badge: str
    tier: str
    prize: str
    spare_prize: str
    redemptions: dict[str, str]
    review: str
    published: str
    contest: str
    draft: str
    soon: str
    later: str
    integration: str
    endpoint: str
    message: str
    spare_key: str
    experiment: str


# What Ada bought: only a verified buyer may review a product.
BOUGHT = ["SEED-P", *(f"P-{role}" for role in ROLES)]
ONE_PIXEL_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4"
    "2mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
BADGE_ART = {
    "shape": "circle",
    "glyph": "share",
    "primaryColor": "#1F6FEB",
    "secondaryColor": "#F2CC60",
}


async def _ok(gql: GraphQL, query: str, variables: dict[str, Any], auth: str | None) -> Any:
    """The single root field's value; fails the setup when it is an error member."""
    data = await gql(query, variables, auth=auth)
    (value,) = data.values()
    if isinstance(value, dict) and value.get("message"):
        raise AssertionError(f"setup failed: {value}")
    return value


async def _world(svc: Services, gql: GraphQL, keys: dict[str, str]) -> World:
    service, moderator, admin = keys["SERVICE"], keys["MODERATOR"], keys["ADMIN"]
    svc.webhooks_allow_private = True  # the endpoint below is never sent to
    endpoint = await _ok(
        gql,
        "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) {"
        " ... on WebhookEndpointSecret { endpoint { id } } ... on Error { message } } }",
        {"i": {"url": "http://127.0.0.1:9/seed", "events": ["points.earned"]}},
        admin,
    )
    ids = {}
    for external_id in ("ada", "bob"):
        saved = await _ok(
            gql,
            "mutation($i: UpsertMemberInput!) { upsertMember(input: $i) {"
            " ... on MemberSaved { member { id } } ... on Error { message } } }",
            {"i": {"externalId": external_id, "displayName": external_id.title()}},
            service,
        )
        ids[external_id] = saved["member"]["id"]
    await _ok(
        gql,
        "mutation($i: RecordPurchaseInput!) { recordPurchase(input: $i) {"
        " ... on Error { message } } }",
        {"i": {**purchase_input("ada", "SEED-1", 4_200), "productIds": BOUGHT}},
        service,
    )
    await _ok(
        gql,
        "mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { ... on Error { message } } }",
        {
            "i": {
                "idempotencyKey": "seed",
                "memberId": ids["ada"],
                "amount": 1_000,
                "reason": "Seed",
            }
        },
        admin,
    )
    await _ok(
        gql,
        "mutation($i: DefineBadgeInput!) { defineBadge(input: $i) { ... on Error { message } } }",
        {
            "i": {
                "slug": "sharer",
                "name": "Sharer",
                "metric": "SHARES",
                "levels": [1, 5],
                "bonusPoints": [0, 10],
                "art": BADGE_ART,
                "revocable": True,
            }
        },
        admin,
    )
    shopper = await member_token("ada")
    review = await _ok(
        gql,
        "mutation($i: SubmitReviewInput!) { submitReview(input: $i) {"
        " ... on ActivityRecorded { activity { id status } } ... on Error { message } } }",
        {
            "i": {
                "idempotencyKey": "seed-review",
                "productId": "SEED-P",
                "rating": 5,
                "text": "Comfortable shoes, true to size and well made.",
            }
        },
        shopper,
    )
    assert review["activity"]["status"] == "PENDING", review
    prizes = []
    for name in ("Mug", "Sticker"):
        created = await _ok(
            gql,
            "mutation($i: CreatePrizeInput!) { createPrize(input: $i) {"
            " ... on PrizeSaved { prize { id } } ... on Error { message } } }",
            {"i": {"name": name, "cost": 10}},
            admin,
        )
        prizes.append(created["prize"]["id"])
    redemptions = {}
    for purpose in ("cancelRedemption", "fulfillRedemption"):
        redeemed = await _ok(
            gql,
            "mutation($i: RedeemPrizeInput!) { redeemPrize(input: $i) {"
            " ... on PrizeRedeemed { redemption { id } } ... on Error { message } } }",
            {"i": {"idempotencyKey": f"seed-{purpose}", "prizeId": prizes[0]}},
            shopper,
        )
        redemptions[purpose] = redeemed["redemption"]["id"]
    tiers = (await gql("{ tiers { id } }"))["tiers"]
    now = datetime.now(UTC)
    soon, later = (now + timedelta(days=1)).isoformat(), (now + timedelta(days=8)).isoformat()
    contests = []
    for name in ("Share week", "Draft week", "Target week"):
        created = await _ok(
            gql,
            "mutation($i: CreateContestInput!) { createContest(input: $i) {"
            " ... on ContestSaved { contest { id } } ... on Error { message } } }",
            {
                "i": {
                    "name": name,
                    "startsAt": soon,
                    "endsAt": later,
                    "activityKinds": ["SOCIAL_SHARE"],
                }
            },
            moderator,
        )
        contests.append(created["contest"]["id"])
    await _ok(
        gql,
        "mutation($id: ID!) { publishContest(id: $id) { ... on Error { message } } }",
        {"id": contests[0]},
        moderator,
    )
    made = await _ok(
        gql,
        "mutation($i: CreateIntegrationInput!) { createIntegration(input: $i) {"
        " ... on IntegrationSecret { secret integration { id } } ... on Error { message } } }",
        {"i": {"kind": "LAUREL", "name": "Seed shop"}},
        admin,
    )
    seed = {"type": "customer.upserted", "data": {"id": "seed-customer", "name": "Sam"}}
    delivered = await generic(gql.http, seed, "msg_seed", made["secret"])
    assert delivered.status_code == 200, delivered.text  # hookDeliveries lists it
    await svc.events.drain([WEBHOOKS], grace=False)
    message, *_ = await _ok(
        gql,
        "query($e: ID!) { webhookMessages(endpointId: $e) { id } }",
        {"e": endpoint["endpoint"]["id"]},
        admin,
    )
    spare = await _ok(
        gql,
        "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) {"
        " ... on ApiKeyCreated { apiKey { id } } ... on Error { message } } }",
        {"i": {"name": "Spare", "role": "SERVICE"}},
        admin,
    )
    experiment = await _ok(
        gql,
        "mutation($i: CreateExperimentInput!) { createExperiment(input: $i) {"
        " ... on ExperimentSaved { experiment { id } } ... on Error { message } } }",
        {"i": {"name": "Seed", "target": {"kind": "TIER_MULTIPLIER"}, "holdoutPercent": 10}},
        admin,
    )
    auth: dict[str, str | None] = {"ANONYMOUS": None, "SHOPPER": shopper, **keys}
    return World(
        auth=auth,
        ada=ids["ada"],
        bob=ids["bob"],
        badge="sharer",
        tier=tiers[0]["id"],
        prize=prizes[0],
        spare_prize=prizes[1],
        redemptions=redemptions,
        review=review["activity"]["id"],
        published=contests[0],
        contest=contests[2],
        draft=contests[1],
        soon=soon,
        later=later,
        integration=made["integration"]["id"],
        endpoint=endpoint["endpoint"]["id"],
        message=message["id"],
        spare_key=spare["apiKey"]["id"],
        experiment=experiment["experiment"]["id"],
    )


# --- the probes --------------------------------------------------------------------------

Variables = Callable[[World, str], dict[str, Any]]


def _as_member(role: str) -> str | None:
    """A shopper acts as themselves; staff (and strangers) name Ada."""
    return None if role == "SHOPPER" else "ada"


# Arguments for each operation: plausible values, so that the role check is what decides.
# Operations not listed here take no arguments (or only defaulted ones).
PROBES: dict[str, Variables] = {
    "account": lambda w, r: {"memberId": w.ada},
    "member": lambda w, r: {"id": w.ada},
    "leaderboardAround": lambda w, r: {"memberId": w.ada},
    "contest": lambda w, r: {"id": w.published},
    "upsertMember": lambda w, r: {"input": {"externalId": f"new-{r}", "displayName": "Nia"}},
    "adjustPoints": lambda w, r: {
        "input": {
            "idempotencyKey": f"adj-{r}",
            "memberId": w.bob,
            "amount": 5,
            "reason": "Goodwill",
        }
    },
    "recordPurchase": lambda w, r: {"input": purchase_input("bob", f"O-{r}", 1_000)},
    "refundPurchase": lambda w, r: {
        "input": {"idempotencyKey": f"ref-{r}", "orderId": "SEED-1", "amountCents": 100}
    },
    "submitReview": lambda w, r: {
        "input": {
            "idempotencyKey": f"rev-{r}",
            "productId": f"P-{r}",
            "rating": 4,
            "text": "Light, warm and the zip works well after a month.",
            "memberExternalId": _as_member(r),
        }
    },
    "recordShare": lambda w, r: {
        "input": {
            "idempotencyKey": f"share-{r}",
            "platform": "facebook",
            "url": f"https://shop.example.com/products/{r.lower()}",
            "memberExternalId": _as_member(r),
        }
    },
    "moderateActivity": lambda w, r: {"input": {"activityId": w.review, "decision": "APPROVE"}},
    "updateEarningRule": lambda w, r: {"input": {"kind": "SOCIAL_SHARE", "points": 5}},
    "defineBadge": lambda w, r: {
        "input": {
            "slug": f"badge-{r.lower()}",
            "name": f"Badge {r}",
            "metric": "REVIEWS",
            "levels": [1, 3],
            "bonusPoints": [0, 5],
            "art": BADGE_ART,
        }
    },
    "updateBadge": lambda w, r: {"input": {"slug": w.badge, "description": f"Set by {r}"}},
    "badgeArtPreview": lambda w, r: {"art": BADGE_ART},
    "revokeBadge": lambda w, r: {
        "input": {"memberId": w.ada, "badgeSlug": w.badge, "reason": "Spam"}
    },
    "exportBadge": lambda w, r: {"badgeSlug": w.badge},
    "createPrize": lambda w, r: {"input": {"name": f"Prize {r}", "cost": 50}},
    "updatePrize": lambda w, r: {"input": {"prizeId": w.prize, "description": f"Set by {r}"}},
    "archivePrize": lambda w, r: {"prizeId": w.spare_prize},
    "addPrizeCodes": lambda w, r: {"input": {"prizeId": w.spare_prize, "codes": [f"GC-{r}"]}},
    "setPrizeImage": lambda w, r: {"input": {"prizeId": w.spare_prize, "image": ONE_PIXEL_PNG}},
    "updateShop": lambda w, r: {"input": {"name": f"Shop of {r}", "primaryColor": "#123456"}},
    "setShopLogo": lambda w, r: {"input": {"image": ONE_PIXEL_PNG}},
    "redeemPrize": lambda w, r: {"input": {"idempotencyKey": f"red-{r}", "prizeId": w.prize}},
    "cancelRedemption": lambda w, r: {
        "input": {"redemptionId": w.redemptions["cancelRedemption"], "reason": "Changed mind"}
    },
    "fulfillRedemption": lambda w, r: {
        "input": {"redemptionId": w.redemptions["fulfillRedemption"]}
    },
    "updateTier": lambda w, r: {"input": {"tierId": w.tier, "entryBonus": 0}},
    "createContest": lambda w, r: {
        "input": {
            "name": f"Contest {r}",
            "startsAt": w.soon,
            "endsAt": w.later,
            "activityKinds": ["REVIEW"],
        }
    },
    "updateContest": lambda w, r: {"input": {"id": w.contest, "description": f"Set by {r}"}},
    "publishContest": lambda w, r: {"id": w.contest},
    "cancelContest": lambda w, r: {"id": w.contest, "reason": "Scheduled twice"},
    "disqualifyContestant": lambda w, r: {
        "contestId": w.contest,
        "memberId": w.bob,
        "reason": "Fake shares",
    },
    "reinstateContestant": lambda w, r: {"contestId": w.contest, "memberId": w.bob},
    "finalizeContest": lambda w, r: {"id": w.contest},
    "createIntegration": lambda w, r: {"input": {"kind": "LAUREL", "name": f"Shop {r}"}},
    "rotateIntegrationSecret": lambda w, r: {"input": {"integrationId": w.integration}},
    "createApiKey": lambda w, r: {"input": {"name": f"Key {r}", "role": "SERVICE"}},
    # A key none of the callers use: revoking it again is allowed, and answers it.
    "revokeApiKey": lambda w, r: {"input": {"id": w.spare_key}},
    "hookDeliveries": lambda w, r: {"integrationId": w.integration},
    "programMetrics": lambda w, r: {"from": w.soon, "to": w.later},
    "cohortRetention": lambda w, r: {"from": w.soon, "to": w.later},
    "simulateProgram": lambda w, r: {"input": {"from": w.soon, "to": w.later}},
    "redeemPointsForDiscount": lambda w, r: {"input": {"idempotencyKey": f"d-{r}", "points": 500}},
    "updateDiscountRule": lambda w, r: {
        "input": {
            "pointsPerCurrencyUnit": 100,
            "minPoints": 500,
            "maxPoints": 5000,
            "stepPoints": 100,
        }
    },
    "createWebhookEndpoint": lambda w, r: {
        "input": {"url": f"http://127.0.0.1:9/{r.lower()}", "events": ["badge.awarded"]}
    },
    "updateWebhookEndpoint": lambda w, r: {"input": {"endpointId": w.endpoint, "enabled": True}},
    "rotateWebhookSecret": lambda w, r: {"input": {"endpointId": w.endpoint}},
    "webhookMessages": lambda w, r: {"endpointId": w.endpoint},
    "redeliverWebhook": lambda w, r: {"id": w.message},
    "experimentReport": lambda w, r: {"id": w.experiment},
    "createExperiment": lambda w, r: {
        "input": {
            "name": f"Experiment {r}",
            "target": {"kind": "EARNING_RULE", "ref": "REVIEW"},
            "holdoutPercent": 10,
        }
    },
    "endExperiment": lambda w, r: {"id": w.experiment},
}

DENIED_CODES = {"FORBIDDEN", "UNAUTHENTICATED"}


def allowed(kind: str, body: dict[str, Any]) -> bool:
    """Whether an answer means the caller passed the role check.

    Denied: a ``PermissionDeniedError`` member, a FORBIDDEN/UNAUTHENTICATED error, or
    (queries answer strangers with nothing) null or an empty list. Anything else,
    a ``NotFoundError`` or ``ConflictError`` too, got past the check.
    """
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code in DENIED_CODES, f"not a valid-looking request: {body}"
        return False
    (value,) = (body.get("data") or {}).values()
    if kind == "mutation":
        return bool(value["__typename"] != "PermissionDeniedError")
    return value not in (None, [])


def test_every_operation_is_in_the_role_table_and_nothing_else() -> None:
    table = parse_role_table(README.read_text(encoding="utf-8"))
    ops = operations(_sdl())
    every = {name for fields in ops.values() for name in fields}
    named = set().union(*table.values()) - {DRAFT_CAPABILITY}
    assert sorted(every - named) == [], "operations README's role table does not mention"
    assert sorted(named - every) == [], "README's role table names operations that do not exist"
    assert set(ops["subscription"]) <= named
    assert set(PROBES) <= set(ops["query"]) | set(ops["mutation"]), "stale probes"


async def test_every_role_may_call_exactly_what_the_role_table_says(
    svc: Services, gql: GraphQL, keys: dict[str, str]
) -> None:
    table = parse_role_table(README.read_text(encoding="utf-8"))
    ops = operations(_sdl())
    world = await _world(svc, gql, keys)
    observed: dict[tuple[str, str], bool] = {}
    for role in ROLES:
        drafts = (
            await gql.raw(
                "query($id: ID!) { contests(status: DRAFT) { id } contest(id: $id) { id } }",
                {"id": world.draft},
                auth=world.auth[role],
            )
        ).json()["data"]
        observed[DRAFT_CAPABILITY, role] = (
            bool(drafts["contests"]) and drafts["contest"] is not None
        )
    # Queries first: the mutations then change the world (publish, cancel, archive).
    for kind in ("query", "mutation"):
        for name, field in ops[kind].items():
            for role in ROLES:
                variables = PROBES[name](world, role) if name in PROBES else {}
                response = await gql.raw(
                    document(kind, name, field, variables), variables, auth=world.auth[role]
                )
                assert response.status_code == 200, response.text
                observed[name, role] = allowed(kind, response.json())
    disagreements = [
        f"{name} as {role}: README says {'allowed' if (name in table[role]) else 'denied'}, "
        f"the code {'allows' if done else 'denies'} it"
        for (name, role), done in observed.items()
        if done != (name in table[role])
    ]
    assert disagreements == [], "\n".join(disagreements)
    checked = len(observed)
    assert checked == (len(ops["query"]) + len(ops["mutation"]) + 1) * len(ROLES)
