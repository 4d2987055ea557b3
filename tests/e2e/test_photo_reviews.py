"""A photo review in a real browser, from the file input on the community page to its
approval in the moderator console with the thumbnail shown; and the shop's name, colour
and "How it works" text as the owner sets them in the owner's console. axe-core finds
nothing on the pages, and the console stays clean."""

from __future__ import annotations

import io

from PIL import Image
from playwright.async_api import Browser, expect

from tests.e2e.conftest import pytestmark  # noqa: F401  (embedded only)
from tests.e2e.console import axe, console_errors

REVIEW = "Warm, well made and the colour is exactly as in the photos."


def _photo() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"
    out = io.BytesIO()
    Image.new("RGB", (2400, 1800), (190, 90, 40)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


async def test_a_photo_review_from_upload_to_approval(site: str, browser: Browser) -> None:
    # The pages' CSP in force here; axe-core's script needs it lifted: an audit context.
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    audit = await browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = await context.new_page()
    errors = console_errors(page, expect_4xx=True)
    await page.goto(site + "/")
    # The demo shop's look: its name in the header and its rules under "How it works".
    await expect(page.locator("#shop-brand")).to_have_text("Bell & Birch")
    await expect(page.locator("#how")).to_contain_text("40 with a photo")
    await page.select_option("#demo-member", label="Hana Hart")
    await page.click("#demo-go")
    await expect(page.locator("#who-name")).to_have_text("Signed in as Hana Hart")
    assert await page.locator("#review-form input[type=checkbox]").count() == 0
    await page.set_input_files(
        "#review-photo", {"name": "boots.jpg", "mimeType": "image/jpeg", "buffer": _photo()}
    )
    await expect(page.locator("#review-photo-preview img")).to_be_visible()
    await page.fill("#review-text", REVIEW)
    await page.click("#review-form button[type=submit]")
    await expect(page.locator("#review-result")).to_contain_text("wait for a moderator")
    await expect(page.locator("#review-photo-preview img")).to_have_count(0)
    # The form with a photo chosen and its preview, as axe-core sees it.
    checked = await audit.new_page()
    await checked.goto(site + "/")
    await checked.select_option("#demo-member", label="Hana Hart")
    await checked.click("#demo-go")
    await checked.set_input_files(
        "#review-photo", {"name": "hat.jpg", "mimeType": "image/jpeg", "buffer": _photo()}
    )
    await expect(checked.locator("#review-photo-preview img")).to_be_visible()
    assert await axe(checked) == []

    moderator = await context.new_page()
    mod_errors = console_errors(moderator, expect_4xx=True)
    await moderator.goto(site + "/moderate")
    await expect(moderator.locator("#shop-brand")).to_have_text("Bell & Birch")
    await moderator.click("#demo-key")
    item = moderator.locator("#queue li", has_text=REVIEW)
    thumb = item.locator("a.review-photo img")
    await expect(thumb).to_be_visible()
    assert await thumb.evaluate("img => img.complete && img.naturalWidth") == 320
    href = await item.locator("a.review-photo").get_attribute("href")
    assert href is not None
    full = await context.request.get(site + href)
    assert full.headers["content-type"] == "image/jpeg"
    assert b"SpyCam" not in await full.body()
    audited = await audit.new_page()
    await audited.goto(site + "/moderate")
    await audited.click("#demo-key")
    await expect(audited.locator("#queue li a.review-photo img").first).to_be_visible()
    assert await axe(audited) == []
    await audit.close()
    await item.get_by_role("button", name="Approve").click()
    await expect(moderator.locator("#queue li", has_text=REVIEW)).to_have_count(0)

    await page.bring_to_front()
    history = page.locator("#activities li[data-status=APPROVED]", has_text="photo")
    await expect(history.first).to_be_visible()
    assert errors == []
    assert mod_errors == []
    await context.close()


async def test_the_owner_sets_the_shops_name_colour_and_faq(site: str, browser: Browser) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    admin = await context.new_page()
    errors = console_errors(admin, expect_4xx=True)
    await admin.goto(site + "/admin")
    await admin.click("#demo-key")
    await admin.click("#tab-settings")
    shop = admin.locator("#shop-settings form")
    await shop.get_by_label("Shop name").fill("Golden Goose")
    await shop.get_by_label("Main colour").fill("#ffd700")
    await shop.get_by_label("How it works").fill("First line <b>not bold</b>\n\nSecond paragraph.")
    await shop.get_by_role("button", name="Save").click()
    await expect(admin.locator("#toasts")).to_contain_text("Shop saved.")

    page = await context.new_page()
    page_errors = console_errors(page, expect_4xx=True)
    await page.goto(site + "/")
    await expect(page.locator("#shop-brand")).to_have_text("Golden Goose")
    faq = page.locator("#faq p")
    await expect(faq).to_have_count(2)
    await expect(faq.first).to_have_text("First line <b>not bold</b>")  # text, not HTML
    assert await page.locator("#faq b").count() == 0
    accent = await page.evaluate(
        "getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()"
    )
    assert accent not in ("#ffd700", "#256045", "")  # the gold, darkened for white text
    assert errors == []  # with the pages' CSP in force
    assert page_errors == []
    await context.close()
    audit = await browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = await audit.new_page()
    await page.goto(site + "/")
    await expect(page.locator("#shop-brand")).to_have_text("Golden Goose")
    assert await axe(page) == []
    await audit.close()
