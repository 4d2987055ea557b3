"""The owner's console in a real browser on the demo site: the dashboard shows what
programMetrics answers for the same range, and the settings change the program
through the API's mutations."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.async_api import Browser, Locator, Page, expect

from tests.e2e.conftest import (
    demo_site,
    pytestmark,  # noqa: F401  (embedded only)
)
from tests.e2e.console import admin_api, admin_key, axe, console_errors
from tests.servers import REPO, free_port


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo site, allowed to send webhooks to this machine (the test's receiver)."""
    settings = {"LAUREL_WEBHOOKS_ALLOW_PRIVATE": "true"}
    with demo_site(tmp_path_factory.mktemp("admin"), settings) as base:
        yield base


async def _signed_in(page: Page, site: str) -> None:
    await page.goto(site + "/admin")
    await page.click("#demo-key")
    await expect(page.locator("#figures .figure").first).to_be_visible()
    await expect(page.locator("#cohorts table")).to_be_visible()


async def _numbers(page: Page, chart: str) -> list[list[str]]:
    rows: list[list[str]] = await page.locator(f"#{chart} tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.children].map(c => c.textContent))"
    )
    return rows


async def _shown_once(section: Locator, prefix: str) -> str:
    """The secret a section shows once after making something, as the owner reads it."""
    shown = section.locator(".once code")
    await expect(shown).to_have_text(re.compile(f"^{prefix}"))
    secret = await shown.text_content()
    assert secret is not None
    return secret


def _int(text: str) -> int:
    return int(re.sub(r"[^0-9-]", "", text))


def _cents(text: str) -> int:
    whole, _, fraction = text.replace(",", "").partition(".")
    return int(whole) * 100 + int(fraction or 0)


async def test_the_dashboard_shows_program_metrics(site: str, browser: Browser) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors = console_errors(page)
    await _signed_in(page, site)
    start, end = await page.input_value("#from"), await page.input_value("#to")
    key = await admin_key(site)
    data = await admin_api(
        site,
        key,
        """query($f: DateTime!, $t: DateTime!) {
          programMetrics(from: $f, to: $t, interval: MONTH) {
            revenueCents orders liabilityCents
            series {
              activeMembers newMembers pointsIssued pointsRedeemed pointsExpired liabilityCents
            }
          }
          cohortRetention(from: $f, to: $t) { members }
        }""",
        {"f": f"{start}T00:00:00Z", "t": f"{end}T00:00:00Z"},
    )
    metrics = data["programMetrics"]
    series = metrics["series"]
    assert len(series) == 12  # the default range: the last twelve months

    members = await _numbers(page, "chart-members")
    assert [(_int(a), _int(n)) for _, a, n in members] == [
        (s["activeMembers"], s["newMembers"]) for s in series
    ]
    points = await _numbers(page, "chart-points")
    assert [(_int(i), _int(r), _int(x)) for _, i, r, x in points] == [
        (s["pointsIssued"], s["pointsRedeemed"], s["pointsExpired"]) for s in series
    ]
    liability = await _numbers(page, "chart-liability")
    assert [_cents(v) for _, v in liability] == [s["liabilityCents"] for s in series]
    assert sum(s["activeMembers"] for s in series) > 0  # the demo's year says something
    revenue = await page.locator('[data-figure="revenueCents"] dd').text_content()
    assert revenue is not None
    assert _cents(revenue) == metrics["revenueCents"]
    cohort_sizes = await page.locator("#cohorts tbody tr td:nth-child(2)").all_text_contents()
    assert [_int(c) for c in cohort_sizes] == [c["members"] for c in data["cohortRetention"]]

    # The numbers are one click away for anyone (and in the page for screen readers).
    await page.locator("#chart-members summary").click()
    await expect(page.locator("#chart-members table")).to_be_visible()
    # The CSV of the same range downloads with the admin's key.
    async with page.expect_download() as download:
        await page.click("#csv")
    saved = await (await download.value).path()
    csv = await asyncio.to_thread(Path(saved).read_text, encoding="utf-8")
    assert csv.splitlines()[0].startswith("start,end,")
    assert len(csv.splitlines()) == 1 + 12 + 1  # the header, each month, the whole range

    # A backwards range is refused in words, next to the pickers.
    await page.fill("#to", start)
    await page.click("#range button[type=submit]")
    await expect(page.locator("#range-error")).to_have_text(
        "The end date must be after the start date."
    )
    assert errors == []
    await context.close()


async def test_the_owner_changes_the_program(site: str, browser: Browser, tmp_path: Path) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors = console_errors(page)
    await _signed_in(page, site)
    await page.click("#tab-settings")
    key = await admin_key(site)

    # An earning rule: reviews now earn 33 points.
    review = page.locator('[data-rule="REVIEW"]')
    await review.get_by_label("Points", exact=True).fill("33")
    await review.get_by_role("button", name="Save").click()
    await expect(review.locator(".status")).to_have_text("Saved.")
    rules = (await admin_api(site, key, "query { earningRules { kind points } }"))["earningRules"]
    assert {r["kind"]: r["points"] for r in rules}["REVIEW"] == 33
    # ... and the community page's "Ways to earn" says so.
    shopper = await context.new_page()
    await shopper.goto(site + "/")
    await expect(shopper.locator('[data-earn="REVIEW"]')).to_have_text(
        re.compile(r"^Write a product review: 33 points\b")
    )
    await shopper.close()

    # A bad value is refused next to its field, in the form's words.
    top = page.locator('[data-tier="Platinum"]')
    multiplier = top.get_by_label("Points multiplier")
    await multiplier.fill("20")
    await top.get_by_role("button", name="Save").click()
    await expect(multiplier).to_have_attribute("aria-invalid", "true")
    error_id = await multiplier.get_attribute("aria-describedby")
    await expect(page.locator(f"#{error_id}")).to_have_text(
        "Points multiplier must be between 1 and 10."
    )

    # A webhook endpoint: its secret is shown once, and a delivery to a real receiver
    # (its own process, verifying with the standardwebhooks package) shows in its log.
    port = free_port()
    url = f"http://127.0.0.1:{port}/laurel-hooks"
    endpoints = page.locator("#endpoints")
    await endpoints.get_by_label("Address (https)").fill(url)
    await endpoints.get_by_label("Events (comma separated)").fill("points.earned")
    await endpoints.get_by_role("button", name="Add endpoint").click()
    secret = await _shown_once(endpoints, "whsec_")
    received = tmp_path / "received.jsonl"
    receiver = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.hooks.receiver", str(port), secret, str(received), cwd=REPO
    )
    try:
        board = await admin_api(
            site, key, "query { leaderboard(first: 1) { entries { member { id } } } }"
        )
        member = board["leaderboard"]["entries"][0]["member"]["id"]
        credit = {"idempotencyKey": "admin-e2e", "memberId": member, "amount": 5, "reason": "Test"}
        await admin_api(
            site,
            key,
            "mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { __typename } }",
            {"i": credit},
        )
        deliveries = endpoints.get_by_role("button", name=f"Deliveries to {url}")
        delivered = endpoints.locator('[data-message="points.earned"]', has_text="DELIVERED")
        for _ in range(30):  # the event log's consumer and the sender, within moments
            await deliveries.click()
            if await delivered.count():
                break
            await page.wait_for_timeout(500)
        await expect(delivered.first).to_be_visible()
        lines = (await asyncio.to_thread(received.read_text, encoding="utf-8")).splitlines()
        assert any('"verified": true' in line and "points.earned" in line for line in lines)
    finally:
        receiver.terminate()
        await receiver.wait()
    assert errors == []
    await context.close()


async def test_small_screens_keyboard_and_axe(site: str, browser: Browser) -> None:
    context = await browser.new_context(viewport={"width": 360, "height": 740})
    page = await context.new_page()
    errors = console_errors(page)
    await page.goto(site + "/admin")
    await expect(page.locator("#demo-key")).to_be_visible()
    # Keyboard only: Tab to the demo key button and press Enter.
    for _ in range(5):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.id") == "demo-key":
            break
    await page.keyboard.press("Enter")
    await expect(page.locator("#cohorts table")).to_be_visible()
    for tab in ("#tab-dashboard", "#tab-settings"):
        await page.focus(tab)
        await page.keyboard.press("Enter")
        await page.wait_for_timeout(700)
        width: Any = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, tab  # nothing overflows sideways
    unlabelled = await page.evaluate(
        "[...document.querySelectorAll('input,select,textarea')]"
        ".filter(e => !e.labels?.length && !e.getAttribute('aria-label')).map(e => e.id)"
    )
    assert unlabelled == []
    assert errors == []
    await context.close()

    # axe-core (shipped with the tests) on both views; its script needs the page's CSP
    # lifted, so it runs in a context of its own.
    audit = await browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = await audit.new_page()
    await _signed_in(page, site)
    for tab in ("#tab-dashboard", "#tab-settings"):
        await page.click(tab)
        await page.wait_for_timeout(1000)
        violations = await axe(page)
        assert violations == [], (tab, violations)
    await audit.close()


async def _status(site: str, key: str) -> int:
    async with httpx.AsyncClient(base_url=site) as client:
        answer = await client.post(
            "/graphql",
            json={"query": "{ __typename }"},
            headers={"Authorization": f"Bearer {key}"},
        )
    return answer.status_code


async def test_badges_prizes_and_keys_from_the_console(
    site: str, browser: Browser, tmp_path: Path
) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors = console_errors(page)
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await _signed_in(page, site)
    await page.click("#tab-settings")

    # A badge, with its image previewed from the art before it exists.
    await page.get_by_role("button", name="New badge").click()
    editor = page.locator("#badge-editor")
    await editor.get_by_label("Short name in links").fill("owner-made")
    await editor.get_by_label("Name", exact=True).fill("Owner made")
    await editor.get_by_label("Shape").select_option("star")
    preview = editor.get_by_alt_text("Preview of the badge image")
    await expect(preview).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
    await editor.get_by_role("button", name="Create badge").click()
    made = page.locator('[data-badge="owner-made"] img')
    await expect(made).to_be_visible()
    width = await made.evaluate(  # once the browser has loaded it
        "img => img.complete ? img.naturalWidth : new Promise(done =>"
        " img.addEventListener('load', () => done(img.naturalWidth), { once: true }))"
    )
    assert width > 0

    # A prize whose codes come from a file; a shopper redeems it and gets one of them.
    codes = tmp_path / "codes.txt"
    await asyncio.to_thread(codes.write_text, "GIFT-AAA1\nGIFT-BBB2\n\n", encoding="utf-8")
    await page.locator("#prize-list").get_by_role("button", name="New prize").click()
    prize_editor = page.locator("#prize-editor")
    await prize_editor.get_by_label("Name", exact=True).fill("Gift card 5")
    await prize_editor.get_by_label("Points", exact=True).fill("10")
    await prize_editor.get_by_label("Kind").select_option("GIFT_CARD")
    await prize_editor.get_by_label("Codes to add (a text file, one per line)").set_input_files(
        codes
    )
    picture = tmp_path / "card.png"
    await asyncio.to_thread(Image.new("RGB", (1600, 800), "#c05621").save, picture)
    await prize_editor.get_by_label("Picture (PNG, JPEG or WebP)").set_input_files(picture)
    await prize_editor.get_by_role("button", name="Create prize").click()
    await expect(page.locator("#toasts")).to_contain_text("2 codes added")
    row = page.locator('[data-prize="Gift card 5"]')
    # The picture: made 1024 px wide by the browser, then 512 x 256 by the server.
    thumb = row.locator("img.thumb")
    await expect(thumb).to_be_visible()
    size = await thumb.evaluate(
        "img => new Promise(done => { const read = () => done([img.naturalWidth,"
        " img.naturalHeight]); if (img.complete) read();"
        " else img.addEventListener('load', read, { once: true }); })"
    )
    assert size == [512, 256]
    shopper = await context.new_page()
    await shopper.goto(site + "/")
    await shopper.select_option("#demo-member", label="Hana Hart")
    await shopper.click("#demo-go")
    offer = shopper.locator("#prizes .prize", has_text="Gift card 5")
    await offer.get_by_role("button", name="Redeem").click()
    await shopper.locator("#confirm button[value=yes]").click()
    await expect(shopper.locator("#new-code")).to_have_text(re.compile(r"^GIFT-(AAA1|BBB2)$"))
    await shopper.close()

    # An API key: shown once, works, and is refused at once after it is revoked.
    keys = page.locator("#keys")
    await keys.get_by_label("What it is for").fill("till")
    await keys.get_by_role("button", name="Create key").click()
    secret = await _shown_once(keys, "lrl_")
    assert await _status(site, secret) == 200
    await keys.get_by_role("button", name="Revoke till").click()
    await expect(keys.locator('[data-key="till"]')).to_contain_text("Revoked")
    assert await _status(site, secret) == 401
    assert errors == []
    await context.close()
