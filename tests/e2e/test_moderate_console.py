"""The moderator console's forms and contests in a real browser: an error is cleared by
the next success and said in plain words next to its field (never a raw GraphQL error),
dates show their times, a contest's status follows the clock, a finalized contest offers
no Publish, and the page is usable by keyboard (skip link first, one main landmark, a
visible focus ring, no sign-in by accident) with nothing for axe-core to report."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import pytestmark  # noqa: F401  (embedded only)
from tests.e2e.console import console_errors
from tests.e2e.moderator import Api, sign_in

TIME = re.compile(r"\d{1,2}:\d{2}")


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    # axe-core's script needs the page's CSP lifted.
    made = await browser.new_context(
        viewport={"width": 1280, "height": 900}, bypass_csp=True, timezone_id="UTC"
    )
    yield made
    await made.close()


def _local(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")  # a datetime-local value (the context is UTC)


async def test_form_errors_in_words_then_cleared(site: str, context: BrowserContext) -> None:
    page = await context.new_page()
    errors = console_errors(page, expect_4xx=True)  # the wrong key's 401
    await page.goto(site + "/moderate")
    # A key that is not one: said beside the box, then cleared by signing in.
    await page.fill("#key", "lrl_not-a-key")
    await page.press("#key", "Enter")
    await expect(page.locator("#signin-error")).not_to_be_empty()
    await expect(page.locator("#key")).to_have_attribute("aria-invalid", "true")
    await sign_in(page)
    await expect(page.locator("#signin-error")).to_be_empty()

    now = datetime.utcnow()
    await page.fill("#c-name", "Spring shares")
    await page.fill("#c-start", _local(now + timedelta(days=2)))
    await page.fill("#c-end", _local(now + timedelta(days=1)))
    prizes = page.locator("#c-prizes")
    # A line that is not a prize: in words, on the prize box, which gets the focus.
    await prizes.fill("1-x 500")
    await page.click("#contest-form button[type=submit]")
    first_line = re.compile(r"^Prizes, line 1: write a rank range")
    await expect(page.locator("#c-prizes-error")).to_have_text(first_line)
    await expect(prizes).to_have_attribute("aria-invalid", "true")
    await expect(prizes).to_have_attribute("aria-describedby", re.compile("c-prizes-error"))
    await expect(prizes).to_be_focused()
    # The server's refusal, its field names in words: "endsAt must be after startsAt."
    await prizes.fill("1-1 500\n2-3 100")
    await page.click("#contest-form button[type=submit]")
    await expect(page.locator("#c-end-error")).to_have_text("The end must be after the start.")
    await expect(page.locator("#c-end")).to_be_focused()
    await expect(page.locator("#c-prizes-error")).to_be_empty()
    await expect(prizes).not_to_have_attribute("aria-invalid", "true")
    await prizes.fill("1-3 100\n2-4 50")
    await page.fill("#c-end", _local(now + timedelta(days=9)))
    await page.click("#contest-form button[type=submit]")
    await expect(page.locator("#c-prizes-error")).to_have_text(
        "Prize ranges must be ascending and must not overlap."
    )
    await expect(page.locator("#c-end-error")).to_be_empty()

    # A GraphQL error (here a faked one) is never shown as it came: a sentence of ours.
    async def broken(route: object) -> None:
        await route.fulfill(  # type: ignore[attr-defined]
            json={"errors": [{"message": "Variable '$input' got invalid value None"}]}
        )

    await page.route("**/graphql", broken)
    await page.click("#contest-form button[type=submit]")
    await expect(page.locator("#contest-error")).to_have_text(re.compile("^That did not work."))
    await page.unroute("**/graphql")
    # The next success clears every error.
    await prizes.fill("1-1 500\n2-3 100")
    await page.click("#contest-form button[type=submit]")
    await expect(page.locator("#contest-result")).to_contain_text('Draft "Spring shares" created')
    for box in ("#contest-error", "#c-prizes-error", "#c-end-error", "#c-name-error"):
        await expect(page.locator(box)).to_be_empty()
    assert await page.locator("#contest-form [aria-invalid]").count() == 0
    # The new draft is open: Publish offered, with its dates and times.
    await expect(page.locator("#detail-when")).to_contain_text(TIME)
    await expect(page.get_by_role("button", name="Publish")).to_be_visible()
    assert errors == []


async def _open(page: Page, name: str) -> None:
    await page.locator("#contests li", has_text=name).get_by_role("button", name="Open").click()
    await expect(page.locator("#detail-title")).to_have_text(name)


async def test_statuses_by_the_clock_and_only_valid_actions(
    site: str, context: BrowserContext
) -> None:
    api = Api(site)
    api.contest("Short sprint", starts=-timedelta(hours=1), ends=timedelta(minutes=10))
    done = api.contest("Over already", starts=-timedelta(hours=1), ends=timedelta(seconds=3))
    api.contest("Next month", starts=timedelta(days=30), ends=timedelta(days=40), publish=False)
    await asyncio.sleep(3.5)
    api.finalize(done)

    page = await context.new_page()
    errors = console_errors(page)
    await page.clock.install()
    await page.goto(site + "/moderate")
    await sign_in(page)
    sprint = page.locator("#contests li", has_text="Short sprint")
    await expect(sprint).to_contain_text("Running")
    await expect(sprint).to_contain_text(TIME)  # dates with their times
    await _open(page, "Short sprint")
    await expect(page.get_by_role("button", name="Finalize")).to_have_count(0)
    await expect(page.get_by_role("button", name="Publish")).to_have_count(0)

    # Past its end by this page's clock, before the server says so: not "running".
    await page.clock.fast_forward("15:00")
    await expect(sprint.locator(".status")).to_have_text("Ended, awaiting results")
    await expect(page.locator("#detail-when")).to_contain_text("Ended, awaiting results")
    await expect(page.get_by_role("button", name="Finalize")).to_be_visible()

    # Finalized: results, and nothing to publish, finalize, cancel or disqualify.
    await _open(page, "Over already")
    await expect(page.locator("#detail-when")).to_contain_text("Finalized")
    await expect(page.locator("#detail-results h4")).to_have_text("Results")
    for name in ("Publish", "Finalize", "Cancel contest", "Disqualify"):
        await expect(page.get_by_role("button", name=name)).to_have_count(0)

    # A draft: Publish, then it is scheduled and Publish is gone.
    await _open(page, "Next month")
    await expect(page.locator("#detail-when")).to_contain_text("Draft")
    await page.get_by_role("button", name="Publish").click()
    await expect(page.locator("#detail-when")).to_contain_text("Scheduled")
    await expect(page.get_by_role("button", name="Publish")).to_have_count(0)
    await expect(page.locator("#contests li", has_text="Next month")).to_contain_text("Scheduled")
    await expect(page.locator("#detail-title")).to_be_focused()  # the pressed button went
    assert errors == []


async def test_a_failed_decision_in_the_queue_is_said_in_words(
    site: str, context: BrowserContext
) -> None:
    page = await context.new_page()
    errors = console_errors(page)
    await page.goto(site + "/moderate")
    await sign_in(page)
    item = page.locator("#queue li[data-activity]").first
    await expect(item).to_be_visible()
    activity = await item.get_attribute("data-activity")

    async def broken(route: object) -> None:
        await route.fulfill(  # type: ignore[attr-defined]
            json={"errors": [{"message": "Variable '$input' got invalid value None"}]}
        )

    # A GraphQL error on Approve: one sentence of ours beside the item, never the raw text.
    await page.route("**/graphql", broken)
    await item.get_by_role("button", name="Approve").click()
    await expect(item.locator(".field-error")).to_have_text(re.compile("^That did not work."))
    await page.unroute("**/graphql")
    # Then it works: the item leaves the queue.
    await item.get_by_role("button", name="Approve").click()
    await expect(page.locator(f'#queue li[data-activity="{activity}"]')).to_have_count(0)
    assert errors == []
