"""What the moderator console's browser tests set up over the API: the demo moderator's
key, contests in a given state, and shares that put demo shoppers on a contest's board."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.async_api import Page, expect

__all__ = ["Api", "sign_in"]

_SEQ = itertools.count()


class Api:
    """GraphQL on the demo site with the demo moderator's key (or a shopper's token)."""

    def __init__(self, site: str) -> None:
        self.http = httpx.Client(base_url=site, timeout=30)
        self.key: str = self.http.post("/demo/moderator-key").json()["key"]

    def __call__(self, query: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
        answer = self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token or self.key}"},
        )
        body = answer.json()
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    def contest(
        self, name: str, *, starts: timedelta, ends: timedelta, publish: bool = True
    ) -> str:
        """A contest counting shares from now + ``starts`` to now + ``ends``; its id."""
        now = datetime.now(UTC)
        saved = self(
            "mutation($i: CreateContestInput!) { createContest(input: $i) { __typename "
            "... on ContestSaved { contest { id } } ... on Error { message } } }",
            i={
                "name": name,
                "startsAt": (now + starts).isoformat(),
                "endsAt": (now + ends).isoformat(),
                "activityKinds": ["SOCIAL_SHARE"],
                "prizes": [{"fromRank": 1, "toRank": 3, "points": 100}],
            },
        )["createContest"]
        assert saved["__typename"] == "ContestSaved", saved
        contest_id: str = saved["contest"]["id"]
        if publish:
            self("mutation($id: ID!) { publishContest(id: $id) { __typename } }", id=contest_id)
        return contest_id

    def finalize(self, contest_id: str) -> None:
        done = self(
            "mutation($id: ID!) { finalizeContest(id: $id) { __typename "
            "... on Error { message } } }",
            id=contest_id,
        )["finalizeContest"]
        assert done["__typename"] == "ContestSaved", done

    def share(self, display_name: str) -> str:
        """The demo shopper ``display_name`` records a share (counted by running share
        contests); their member id."""
        members = self.http.get("/demo/members").json()
        external = next(m["externalId"] for m in members if m["displayName"] == display_name)
        token = self.http.post("/demo/token", json={"externalId": external}).json()["token"]
        n = next(_SEQ)
        got = self(
            "mutation($i: RecordShareInput!) { recordShare(input: $i) { __typename "
            "... on Error { message } } }",
            token=token,
            i={
                "idempotencyKey": f"e2e-share-{external}-{n}",
                "platform": "facebook",
                "url": f"https://shop.example.com/products/e2e-{n}",
            },
        )["recordShare"]
        assert got["__typename"] == "ActivityRecorded", got
        me = self("{ viewer { member { id } } }", token=token)
        member_id: str = me["viewer"]["member"]["id"]
        return member_id


async def sign_in(page: Page) -> None:
    await page.click("#demo-key")
    await expect(page.locator("#console")).to_be_visible()
    await expect(page.locator("#queue li").first).to_be_visible()
