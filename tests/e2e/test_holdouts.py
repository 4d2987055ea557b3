"""Holdout experiments on the community page in a real browser: a shopper held out of a
way to earn, a badge, the tier multiplier or a contest does not see it (viewer.holdouts),
while a shopper not held out of the way to earn still does."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.async_api import Browser, expect

from tests.e2e.conftest import pytestmark  # noqa: F401  (embedded only)
from tests.e2e.console import console_errors


async def _api(site: str, query: str, variables: dict[str, Any], auth: str) -> Any:
    async with httpx.AsyncClient(base_url=site, timeout=30) as client:
        answer = await client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {auth}"},
        )
    body = answer.json()
    assert "errors" not in body, body
    return body["data"]


async def _experiments(site: str) -> list[tuple[str, str]]:
    """90% holdouts of sharing, a badge, the tier multiplier and a running contest."""
    async with httpx.AsyncClient(base_url=site) as client:
        key = (await client.post("/demo/admin-key")).json()["key"]
    found = await _api(site, "{ badges { slug } contests(status: RUNNING) { id } }", {}, key)
    targets = [("EARNING_RULE", "SOCIAL_SHARE"), ("BADGE", found["badges"][0]["slug"])]
    targets.append(("TIER_MULTIPLIER", ""))
    targets += [("CONTEST", c["id"]) for c in found["contests"][:1]]
    for kind, ref in targets:
        made = await _api(
            site,
            "mutation($i: CreateExperimentInput!) { createExperiment(input: $i) { __typename } }",
            {
                "i": {
                    "name": f"{kind} {ref}",
                    "target": {"kind": kind, "ref": ref},
                    "holdoutPercent": 90,
                }
            },
            key,
        )
        assert made["createExperiment"]["__typename"] == "ExperimentSaved", made
    return targets


async def _holdouts_of_demo_members(site: str) -> dict[str, set[tuple[str, str]]]:
    """{display name: what the member is held out of}."""
    out = {}
    async with httpx.AsyncClient(base_url=site) as client:
        members = (await client.get("/demo/members")).json()
        for member in members:
            answer = await client.post("/demo/token", json={"externalId": member["externalId"]})
            token = answer.json()["token"]
            got = await _api(site, "{ viewer { holdouts { kind ref } } }", {}, token)
            held = {(h["kind"], h["ref"]) for h in got["viewer"]["holdouts"]}
            out[member["displayName"]] = held
    return out


async def test_a_held_out_shopper_does_not_see_what_they_do_not_get(
    site: str, browser: Browser
) -> None:
    targets = await _experiments(site)
    held = await _holdouts_of_demo_members(site)
    name = max(held, key=lambda n: len(held[n]))
    mine = held[name]
    assert ("EARNING_RULE", "SOCIAL_SHARE") in mine or len(mine) >= 2, held
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors = console_errors(page)
    await page.goto(site + "/")
    await expect(page.locator('#earn [data-earn="SOCIAL_SHARE"]')).to_have_count(1)
    await page.select_option("#demo-member", label=name)
    await page.click("#demo-go")
    await expect(page.locator("#who-name")).to_have_text(f"Signed in as {name}")
    await expect(page.locator('#earn [data-earn="REVIEW"]')).to_have_count(1)
    shown = 0 if ("EARNING_RULE", "SOCIAL_SHARE") in mine else 1
    await expect(page.locator('#earn [data-earn="SOCIAL_SHARE"]')).to_have_count(shown)
    columns = 3 if ("TIER_MULTIPLIER", "") in mine else 4
    await expect(page.locator("#tier-table thead th")).to_have_count(columns)
    badge = next(ref for kind, ref in targets if kind == "BADGE")
    await expect(page.locator("#shelf .badge").first).to_be_visible()
    count = 0 if ("BADGE", badge) in mine else 1
    await expect(page.locator(f'#shelf img[src^="/badges/{badge}/"]')).to_have_count(count)
    for kind, ref in targets:
        if kind == "CONTEST":
            count = 0 if (kind, ref) in mine else 1
            await expect(page.locator(f'#contests [data-contest="{ref}"]')).to_have_count(count)
    # Someone the sharing experiment treats still sees it.
    others = [n for n in held if ("EARNING_RULE", "SOCIAL_SHARE") not in held[n]]
    if others:
        await page.click("#signout")
        await page.select_option("#demo-member", label=others[0])
        await page.click("#demo-go")
        await expect(page.locator("#who-name")).to_have_text(f"Signed in as {others[0]}")
        await expect(page.locator('#earn [data-earn="SOCIAL_SHARE"]')).to_have_count(1)
    assert errors == []
    await context.close()
