"""The community page and the moderator console in a real browser: a shopper writes a
review, a moderator approves it in a second browser context, the shopper sees the points
and the badge toast without reloading, redeems a prize and sees the code, and the
leaderboard moves live."""

from __future__ import annotations

import io
import re
from typing import Any

from PIL import Image
from playwright.async_api import Browser, expect

from tests.e2e.conftest import pytestmark  # noqa: F401  (embedded only)
from tests.e2e.console import console_errors, number_in


async def test_shopper_and_moderator_in_two_browsers(site: str, browser: Browser) -> None:
    shopper_ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    shopper = await shopper_ctx.new_page()
    shopper_errors = console_errors(shopper)
    await shopper.goto(site + "/")
    # Anonymous: the board, badges and prizes are there, read-only.
    await expect(shopper.locator("#board tr").first).to_be_visible()
    await expect(shopper.locator("#prizes .prize").first).to_be_visible()
    await expect(shopper.locator("#me")).to_be_hidden()

    # Sign in through the demo picker: a member who has bought something not yet reviewed.
    await shopper.select_option("#demo-member", label="Hana Hart")
    await shopper.click("#demo-go")
    await expect(shopper.locator("#who-name")).to_have_text("Signed in as Hana Hart")
    await expect(shopper.locator("#tier")).to_have_text(
        re.compile(r"^(Bronze|Silver|Gold|Platinum)$")
    )
    balance_before = number_in(await shopper.locator("#balance").inner_text())
    my_row = shopper.locator("#board tr.me")
    await expect(my_row).to_have_count(1)
    score_before = number_in(await my_row.locator("td.num").inner_text())

    # Write a review; an empty one is refused next to its field.
    await shopper.click("#review-form button[type=submit]")
    await expect(shopper.locator("#review-text-error")).not_to_be_empty()
    await shopper.fill("#review-text", "Warm, well made and exactly the colour in the photos.")
    photo = io.BytesIO()
    Image.new("RGB", (800, 600), (160, 60, 30)).save(photo, "JPEG")
    await shopper.set_input_files(
        "#review-photo", {"name": "hat.jpg", "mimeType": "image/jpeg", "buffer": photo.getvalue()}
    )
    await shopper.click("#review-form button[type=submit]")
    await expect(shopper.locator("#review-result")).to_contain_text("wait for a moderator")

    # A moderator approves it in another browser context.
    mod_ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    moderator = await mod_ctx.new_page()
    moderator_errors = console_errors(moderator)
    await moderator.goto(site + "/moderate")
    await moderator.click("#demo-key")
    item = moderator.locator("#queue li", has_text="Hana Hart")
    await expect(item).to_have_count(1)
    await item.get_by_role("button", name="Approve").click()
    # 40 for a photo review, times the member's tier multiplier.
    approved = re.compile(r"Approved: (\d+) points to Hana Hart")
    await expect(moderator.locator("#toasts")).to_contain_text(approved)

    # The shopper sees the badge toast, the points and the board move, without reloading.
    await expect(shopper.locator("#toasts")).to_contain_text("New badge: First review")
    await expect(shopper.locator("#balance")).not_to_have_text(str(balance_before))
    balance_after = number_in(await shopper.locator("#balance").inner_text())
    assert balance_after >= balance_before + 40
    await expect(my_row.locator("td.num")).not_to_have_text(str(score_before), timeout=10_000)
    assert number_in(await my_row.locator("td.num").inner_text()) >= score_before + 40

    # Redeem a prize with a confirmation; the code is shown and kept in the history.
    prize = shopper.locator("#prizes .prize", has_text="10% off")
    await prize.get_by_role("button", name="Redeem").click()
    await shopper.locator("#confirm button[value=yes]").click()
    code = shopper.locator("#new-code")
    await expect(code).to_have_text(
        re.compile(r"^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$")
    )
    await expect(shopper.locator("#redemptions")).to_contain_text(await code.inner_text())

    # Points off the next order: the slider starts at the least (500 points, 5.00 off by
    # the default 100 points for 1.00); the button says when the balance is short.
    form = shopper.locator("#discount-form")
    await expect(form).to_be_visible()
    await expect(shopper.locator("#discount-value")).to_contain_text("500 points take 5.00 off")
    balance = number_in(await shopper.locator("#balance").inner_text())
    if balance >= 500:
        await shopper.click("#discount-go")
        await expect(shopper.locator("#discount-code")).to_have_text(
            re.compile(r"^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$")
        )
        await expect(shopper.locator("#balance")).to_have_text(f"{balance - 500:,}")
    else:
        await expect(shopper.locator("#discount-go")).to_have_text("Not enough points")
        await expect(shopper.locator("#discount-go")).to_be_disabled()

    assert shopper_errors == []
    assert moderator_errors == []
    await shopper_ctx.close()
    await mod_ctx.close()


async def test_small_screens_and_keyboard(site: str, browser: Browser) -> None:
    context = await browser.new_context(viewport={"width": 360, "height": 740})
    page = await context.new_page()
    errors = console_errors(page)
    await page.goto(site + "/")
    await expect(page.locator("#board tr").first).to_be_visible()
    width: Any = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360  # nothing overflows sideways
    # Every control is reachable by keyboard and shows where the focus is.
    await page.keyboard.press("Tab")  # the skip link first, then the sign-in
    assert await page.evaluate("document.activeElement.className") == "skip"
    await page.keyboard.press("Tab")
    focused = await page.evaluate("document.activeElement && document.activeElement.id")
    assert focused in {"demo-member", "token"}
    labels = await page.evaluate(
        "[...document.querySelectorAll('input,select,textarea')]"
        ".filter(e => !e.labels?.length && !e.getAttribute('aria-label')).map(e => e.id)"
    )
    assert labels == []
    assert errors == []
    await context.close()
