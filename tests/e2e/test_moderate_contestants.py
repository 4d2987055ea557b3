"""A running contest in the moderator console: a contestant is disqualified by picking
them from the live board (not by typing an id), listed with a Reinstate button, and
back on the board when reinstated; switching contests fast leaves one live socket and a
clean console; the keyboard finds the skip link first; axe-core reports nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from playwright.async_api import Browser, BrowserContext, Page, WebSocket, expect

from tests.e2e.conftest import pytestmark  # noqa: F401  (embedded only)
from tests.e2e.console import axe, console_errors
from tests.e2e.moderator import Api, sign_in


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    made = await browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    yield made
    await made.close()


@pytest.fixture(scope="module")
def board(site: str) -> tuple[str, str]:
    """Two running share contests; two demo shoppers on the first one's board."""
    api = Api(site)
    api.contest("Share sprint", starts=-timedelta(minutes=1), ends=timedelta(days=3))
    api.contest("Share marathon", starts=-timedelta(minutes=1), ends=timedelta(days=9))
    names = [m["displayName"] for m in api.http.get("/demo/members").json()[:2]]
    api.share(names[0])
    api.share(names[0])
    api.share(names[1])
    return names[0], names[1]


async def _open(page: Page, name: str) -> None:
    await page.locator("#contests li", has_text=name).get_by_role("button", name="Open").click()
    await expect(page.locator("#detail-title")).to_have_text(name)


async def test_disqualify_from_the_board_then_reinstate(
    site: str, context: BrowserContext, board: tuple[str, str]
) -> None:
    first, second = board
    page = await context.new_page()
    errors = console_errors(page)
    await page.goto(site + "/moderate")
    await sign_in(page)
    await _open(page, "Share sprint")
    rows = page.locator("#contest-board tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.first).to_contain_text(first)
    score = await rows.first.locator("td.num").inner_text()
    # The contestant is picked from the board's rows, by name; no id to type.
    picker = page.get_by_label("Contestant")
    await expect(picker.locator("option")).to_have_count(3)  # "Choose…" and the two
    # Nobody picked: said next to the picker; then the next success clears it.
    await page.get_by_role("button", name="Disqualify").click()
    await expect(page.locator("#dq-member-error")).to_have_text(
        "Choose a contestant from the board."
    )
    await expect(picker).to_have_attribute("aria-invalid", "true")
    await expect(picker).to_be_focused()
    await expect(picker.locator("option").nth(1)).to_have_text(f"#1 {first} ({score} points)")
    await picker.select_option(index=1)
    await page.get_by_label("Reason", exact=True).fill("Shares of a copied page")
    await page.get_by_role("button", name="Disqualify").click()
    # Off the board (recomputed from SQL: everyone whose shares fall in the window).
    await expect(rows.filter(has_text=first)).to_have_count(0)
    await expect(rows.filter(has_text=second)).to_have_count(1)
    await expect(page.locator("#dq-member-error")).to_be_empty()
    await expect(picker).not_to_have_attribute("aria-invalid", "true")
    gone = page.locator("#disqualified li", has_text=first)
    await expect(gone).to_contain_text("Shares of a copied page")

    # Reinstated: back on the board, off the list.
    await gone.get_by_role("button", name="Reinstate").click()
    await expect(rows.filter(has_text=first)).to_have_count(1)
    await expect(page.get_by_label("Contestant").locator("option", has_text=first)).to_have_count(1)
    await expect(page.locator("#disqualified")).to_have_count(0)
    assert errors == []


async def test_switching_contests_fast_keeps_the_console_clean(
    site: str, context: BrowserContext, board: tuple[str, str]
) -> None:
    page = await context.new_page()
    errors = console_errors(page)
    sockets: list[WebSocket] = []
    page.on("websocket", lambda ws: sockets.append(ws))
    await page.goto(site + "/moderate")
    await sign_in(page)
    buttons = [
        page.locator("#contests li", has_text=name).get_by_role("button", name="Open")
        for name in ("Share sprint", "Share marathon")
    ]
    for i in range(8):  # faster than a socket opens
        await buttons[i % 2].click()
    await expect(page.locator("#detail-title")).to_have_text("Share marathon")
    # The open contest's own board, not a row of the one left: as the API has it (the
    # shares count on every running share contest).
    contests = Api(site)("{ contests { name leaderboard(first: 25) { entries { rank } } } }")
    rows = next(
        len(c["leaderboard"]["entries"])
        for c in contests["contests"]
        if c["name"] == "Share marathon"
    )
    await expect(page.locator("#contest-board tbody tr")).to_have_count(rows)
    await page.wait_for_timeout(1500)
    live = [s for s in sockets if not s.is_closed()]
    assert len(live) == 1  # only the open contest's board
    assert errors == []


async def test_keyboard_landmarks_focus_ring_and_axe(
    site: str, context: BrowserContext, board: tuple[str, str]
) -> None:
    page = await context.new_page()
    errors = console_errors(page)
    await page.goto(site + "/moderate")
    # The skip link first; it goes to the one main landmark.
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.className") == "skip"
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "main"
    assert await page.evaluate("document.querySelectorAll('main, [role=main]').length") == 1
    assert await axe(page) == []  # signed out
    # Enter in an empty key box says what is missing; nothing signs in by accident.
    await page.focus("#key")
    await page.keyboard.press("Enter")
    await expect(page.locator("#signin-error")).to_have_text("Paste a moderator API key first.")
    await expect(page.locator("#console")).to_be_hidden()
    # The focus ring: at least 3:1 against what is behind it (white on the green header).
    ring = await page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor]; })()"
    )
    assert ring[0] != "none"
    assert ring[1] >= 2
    assert _contrast(ring[2], "rgb(37, 96, 69)") >= 3

    await sign_in(page)
    await _open(page, "Share sprint")
    await page.get_by_role("button", name="Disqualify").click()  # an error on show
    await page.keyboard.press("Tab")
    ring = await page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor]; })()"
    )
    assert ring[0] != "none"
    assert ring[1] >= 2
    assert _contrast(ring[2], "rgb(255, 255, 255)") >= 3
    labels = await page.evaluate(
        "[...document.querySelectorAll('input,select,textarea')]"
        ".filter(e => !e.labels?.length && !e.getAttribute('aria-label')).map(e => e.id)"
    )
    assert labels == []
    assert await axe(page) == []
    assert errors == []


def _contrast(a: str, b: str) -> float:
    def luminance(rgb: str) -> float:
        parts = [int(x) / 255 for x in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in parts]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)
