"""The community page's prize cards, history, signed-out state and keyboard use in a
real browser: each prize shows its description and what stands in the way ("N more
points needed", a tier), Redeem only when it can be afforded; a redeemed code comes
with how to use it and a copy button; pending points read as pending and a rejection
shows its reason, live; a sign-in that is no longer valid leaves a clean signed-out
page with a message; arrow keys on the member list never sign in, a skip link leads
to the one main landmark, and the focus ring keeps 3:1."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Browser, expect

from tests.e2e.conftest import pytestmark  # noqa: F401  (embedded only)
from tests.e2e.console import console_errors, number_in


async def test_prize_cards_say_what_stands_in_the_way(site: str, browser: Browser) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors = console_errors(page, expect_4xx=True)
    await page.goto(site + "/")
    tote = page.locator("#prizes .prize", has_text="Canvas tote bag")
    # Signed out: the description and the facts, and no way to redeem yet.
    await expect(tote).to_contain_text("Our sturdy tote, shipped to you.")
    await expect(tote).to_contain_text("400 points · 25 left")
    await expect(tote.get_by_role("button")).to_have_text("Sign in to redeem")
    await expect(tote.get_by_role("button")).to_be_disabled()

    await page.select_option("#demo-member", label="Hana Hart")
    await page.click("#demo-go")
    await expect(page.locator("#who-name")).to_have_text("Signed in as Hana Hart")
    balance = number_in(await page.locator("#balance").inner_text())
    gift = page.locator("#prizes .prize", has_text="Gift card 25.00")
    await expect(gift).to_contain_text("For members of the Gold tier and above.")
    tier = await page.locator("#tier").inner_text()
    if tier not in {"Gold", "Platinum"}:
        await expect(gift.get_by_role("button")).to_have_text("Needs Gold tier")
        await expect(gift.get_by_role("button")).to_be_disabled()
    if balance < 400:
        short = 400 - balance
        word = "point" if short == 1 else "points"
        await expect(tote.get_by_role("button")).to_have_text(f"{short:,} more {word} needed")
        await expect(tote.get_by_role("button")).to_be_disabled()
    else:
        await expect(tote.get_by_role("button")).to_have_text("Redeem")
        await expect(tote.get_by_role("button")).to_be_enabled()

    # The 150-point code (the demo members can all afford it): how to use it, and copy.
    coupon = page.locator("#prizes .prize", has_text="10% off your next order")
    assert balance >= 150, balance
    await coupon.get_by_role("button", name="Redeem").click()
    await page.locator("#confirm button[value=yes]").click()
    redeemed = page.locator("#redeemed")
    await expect(redeemed.locator("#new-code")).to_have_text(re.compile(r"^[2-9A-Z]{4}-"))
    await expect(redeemed).to_contain_text("Enter this code at checkout")
    await expect(page.locator("#balance")).to_have_text(f"{balance - 150:,}")
    await context.grant_permissions(["clipboard-read", "clipboard-write"])
    await redeemed.get_by_role("button", name="Copy code").click()
    copied = await page.evaluate("navigator.clipboard.readText()")
    assert copied == await redeemed.locator("#new-code").inner_text()
    assert errors == []
    await context.close()


async def test_history_shows_pending_points_and_a_rejection_reason(
    site: str, browser: Browser
) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors = console_errors(page, expect_4xx=True)
    await page.goto(site + "/")
    await page.select_option("#demo-member", label="Hana Hart")
    await page.click("#demo-go")
    await expect(page.locator("#who-name")).to_have_text("Signed in as Hana Hart")
    pending_before = number_in(await page.locator("#pending").inner_text())

    # An empty review: the error in the form's words, linked to its field, focus on it.
    await page.click("#review-form button[type=submit]")
    error = page.locator("#review-text-error")
    await expect(error).to_have_text("Your review must be 20 to 5000 characters long.")
    await expect(page.locator("#review-text")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#review-text")).to_have_attribute(
        "aria-describedby", "review-text-error"
    )
    await expect(page.locator("#review-text")).to_be_focused()
    await page.fill("#review-text", "Solid stitching, but the strap is shorter than I hoped.")
    await page.click("#review-form button[type=submit]")
    result = page.locator("#review-result")
    await expect(result).to_contain_text("wait for a moderator")
    await expect(error).to_have_text("")
    await expect(page.locator("#review-text")).not_to_have_attribute("aria-invalid", "true")
    waiting = number_in(await result.inner_text())
    newest = page.locator("#activities li").first
    await expect(newest).to_contain_text(f"{waiting:,} points pending")
    await expect(page.locator("#pending")).to_have_text(f"{pending_before + waiting:,}")

    # A moderator rejects it with a reason (over the API, with the demo moderator key).
    async with httpx.AsyncClient(base_url=site) as http:
        key = (await http.post("/demo/moderator-key")).json()["key"]
        auth = {"Authorization": f"Bearer {key}"}
        queue = await http.post(
            "/graphql",
            json={"query": "{ moderationQueue(first: 50) { id member { displayName } } }"},
            headers=auth,
        )
        mine = [
            a["id"]
            for a in queue.json()["data"]["moderationQueue"]
            if a["member"]["displayName"] == "Hana Hart"
        ]
        assert len(mine) == 1, queue.text
        decided = await http.post(
            "/graphql",
            json={
                "query": "mutation($i: ModerateActivityInput!) "
                "{ moderateActivity(input: $i) { __typename } }",
                "variables": {
                    "i": {"activityId": mine[0], "decision": "REJECT", "reason": "Off topic."}
                },
            },
            headers=auth,
        )
        assert decided.json()["data"]["moderateActivity"]["__typename"] == "ActivityRecorded"
    # Without a reload: the page hears of the change through viewerChanged.
    newest = page.locator("#activities li").first
    await expect(newest).to_contain_text("not approved: Off topic.", timeout=10_000)
    await expect(page.locator("#pending")).to_have_text(f"{pending_before:,}")
    assert errors == []
    await context.close()


async def test_a_sign_in_no_longer_valid_leaves_a_clean_signed_out_page(
    site: str, browser: Browser
) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors = console_errors(page, expect_4xx=True)
    # A token kept from an earlier visit that the server no longer accepts.
    await page.add_init_script(
        "sessionStorage.setItem('laurel.token', 'eyJhbGciOiJIUzI1NiJ9.e30.bad')"
    )
    await page.goto(site + "/")
    await expect(page.locator("#signin-error")).to_have_text(
        "Your sign-in has expired or is not valid. Please sign in again."
    )
    await expect(page.locator("#signin")).to_be_visible()
    for hidden in ("#me", "#act", "#history", "#who"):
        await expect(page.locator(hidden)).to_be_hidden()
    await expect(page.locator("#shelf .badge").first).to_be_visible()  # not "Loading badges…"
    tote = page.locator("#prizes .prize", has_text="Canvas tote bag").get_by_role("button")
    await expect(tote).to_have_text("Sign in to redeem")
    await expect(tote).to_be_disabled()
    await expect(page.locator("#board tr").first).to_be_visible()
    assert await page.evaluate("sessionStorage.getItem('laurel.token')") is None
    # Signing in again works from there.
    await page.select_option("#demo-member", label="Hana Hart")
    await page.click("#demo-go")
    await expect(page.locator("#who-name")).to_have_text("Signed in as Hana Hart")
    await expect(page.locator("#signin-error")).to_have_text("")
    assert errors == []
    await context.close()


def _luminance(rgb: str) -> float:
    """WCAG relative luminance of a CSS ``rgb(r, g, b)``."""
    channels = [int(c) / 255 for c in re.findall(r"\d+", rgb)[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


async def test_the_keyboard_never_signs_in_by_accident(site: str, browser: Browser) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors = console_errors(page, expect_4xx=True)
    await page.goto(site + "/")
    await expect(page.locator("#demo-pick")).to_be_visible()
    # One main landmark, and a skip link as the first stop of the keyboard.
    assert await page.locator("main").count() == 1
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the community")
    await expect(skip).to_be_focused()
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "main"
    # The focus ring is at least 3:1 against the white cards (WCAG 2.2, 1.4.11): the
    # first control in the page after the skip.
    await page.keyboard.press("Tab")
    ring = await page.evaluate("getComputedStyle(document.activeElement).outlineColor")
    assert await page.evaluate("document.activeElement.closest('main') !== null")
    assert _contrast(ring, "rgb(255, 255, 255)") >= 3, ring

    # Arrow keys on the member list move through it; nothing signs in until the button.
    await page.focus("#demo-member")
    for _ in range(3):
        await page.keyboard.press("ArrowDown")
    await page.wait_for_timeout(500)
    await expect(page.locator("#who")).to_be_hidden()
    assert await page.locator("#demo-member").input_value() != ""
    await page.keyboard.press("Tab")  # onto "Sign in as them", in the green header
    await expect(page.locator("#demo-go")).to_be_focused()
    header_ring = await page.evaluate("getComputedStyle(document.activeElement).outlineColor")
    header_bg = await page.evaluate(
        "getComputedStyle(document.querySelector('header.top')).backgroundColor"
    )
    assert _contrast(header_ring, header_bg) >= 3, (header_ring, header_bg)
    await page.click("#demo-go")
    await expect(page.locator("#who")).to_be_visible()
    assert errors == []
    await context.close()
