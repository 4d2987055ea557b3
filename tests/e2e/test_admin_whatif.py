"""The owner's console's "What if" and "Experiments" views in a real browser on the demo
site: the draft's figures are what simulateProgram answers for the same input, bad input
is refused in words beside its field, and an experiment is started, reported on and
ended from the page. After each step axe-core finds nothing and the console is clean."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from playwright.async_api import Browser, BrowserContext, Locator, Page, Route, expect

from tests.e2e.conftest import pytestmark  # noqa: F401  (embedded only)
from tests.e2e.console import admin_api, admin_key, axe, console_errors, number_in

_SIDE = "pointsIssued byKind { kind points } liabilityCents tierDistribution { tier members }"
_SIMULATE = f"""query($i: SimulationInput!) {{ simulateProgram(input: $i) {{
  current {{ {_SIDE} }} draft {{ {_SIDE} }} membersMovingUp top {{ memberId }}
  pointChanges {{ median }} }} }}"""


async def _api(site: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    return await admin_api(site, await admin_key(site), query, variables)


async def _audited(browser: Browser, width: int = 1280) -> tuple[BrowserContext, Page]:
    """A signed-in console; axe-core's script needs the page's CSP lifted (test_csp.py
    runs the same views under it)."""
    context = await browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = await context.new_page()
    return context, page


async def _signed_in(page: Page, site: str) -> None:
    await page.goto(site + "/admin")
    await page.click("#demo-key")
    await expect(page.locator("#figures .figure").first).to_be_visible()


async def _clean(page: Page, errors: list[str], step: str) -> None:
    assert await axe(page) == [], step
    assert errors == [], step


def _cents(text: str) -> int:
    whole, _, fraction = text.replace(",", "").partition(".")
    return int(whole) * 100 + int(fraction or 0)


def _by_kind(side: dict[str, Any], kind: str) -> int:
    return next((k["points"] for k in side["byKind"] if k["kind"] == kind), 0)


async def _error_of(page: Page, field: Locator) -> str:
    """The message a field is described by (its aria-describedby)."""
    described = await field.get_attribute("aria-describedby")
    assert described
    text = await page.locator(f"#{described}").text_content()
    return text or ""


async def _cell(row: Locator, series: int) -> int:
    return number_in(await row.locator(f'td[data-series="{series}"]').text_content() or "")


async def test_a_draft_that_doubles_review_points(site: str, browser: Browser) -> None:
    context, page = await _audited(browser)
    errors = console_errors(page)
    await _signed_in(page, site)
    await page.click("#tab-whatif")
    review = page.locator('[data-whatif-rule="REVIEW"]').get_by_label("Points", exact=True)
    await expect(review).to_have_value(re.compile(r"^\d+$"))  # prefilled from earningRules
    rules = (await _api(site, "query { earningRules { kind points } }"))["earningRules"]
    points = {r["kind"]: r["points"] for r in rules}["REVIEW"]
    assert await review.input_value() == str(points)
    tiers = page.locator("[data-whatif-tier]")
    await expect(tiers).to_have_count(4)  # the demo's ladder, from the tiers query
    await expect(tiers.first.get_by_label("Name")).to_have_value("Bronze")
    await _clean(page, errors, "the what-if form")

    # Reviews earn twice as much; the replay is held back a moment to see the busy state.
    async def slowly(route: Route) -> None:
        if "simulateProgram" in (route.request.post_data or ""):
            await asyncio.sleep(1)
        await route.continue_()

    await page.route("**/graphql", slowly)
    await review.fill(str(2 * points))
    start = await page.input_value("#whatif-form [name=from]")
    end = await page.input_value("#whatif-form [name=to]")
    run = page.get_by_role("button", name="Try it")
    await run.click()
    busy = page.get_by_role("button", name="Replaying…")
    await expect(busy).to_be_disabled()
    await expect(page.locator("#whatif-form")).to_have_attribute("aria-busy", "true")
    await expect(run).to_be_enabled(timeout=60_000)
    await page.unroute("**/graphql")

    draft = {
        "from": f"{start}T00:00:00Z",
        "to": f"{end}T00:00:00Z",
        "earningRules": [{"kind": "REVIEW", "points": 2 * points}],
    }
    answer = (await _api(site, _SIMULATE, {"i": draft}))["simulateProgram"]
    bars = page.locator('#whatif-chart tr[data-row="REVIEW"]')
    await expect(bars).to_have_count(1)
    await expect(page.locator("#whatif-chart canvas")).to_be_visible()
    shown_now, shown_draft = await _cell(bars, 0), await _cell(bars, 1)
    assert shown_now == _by_kind(answer["current"], "REVIEW") > 0
    assert shown_draft == _by_kind(answer["draft"], "REVIEW") == 2 * shown_now
    issued = page.locator('.whatif-totals [data-figure="pointsIssued"] td')
    assert [number_in(t) for t in (await issued.all_text_contents())[:2]] == [
        answer["current"]["pointsIssued"],
        answer["draft"]["pointsIssued"],
    ]
    liability = page.locator('.whatif-totals [data-figure="liabilityCents"] td')
    assert [_cents(t) for t in (await liability.all_text_contents())[:2]] == [
        answer["current"]["liabilityCents"],
        answer["draft"]["liabilityCents"],
    ]
    for tier in answer["draft"]["tierDistribution"]:
        cells = page.locator(f'.whatif-totals [data-tier="{tier["tier"]}"] td')
        assert number_in((await cells.all_text_contents())[1]) == tier["members"]
    await expect(page.locator(".whatif-top tbody tr")).to_have_count(len(answer["top"]))
    median = await page.locator('[data-change="median"] dd').text_content() or ""
    shown_median = float(median.replace(",", "").replace("+", "").replace("\u2212", "-"))
    assert shown_median == round(answer["pointChanges"]["median"], 1)
    await expect(page.locator("#whatif-results")).to_contain_text("The draft changes ways to earn.")
    assert await page.evaluate("document.activeElement.id") == "whatif-results-title"
    await _clean(page, errors, "the what-if results")
    await context.close()


async def test_bad_what_if_input_is_refused_beside_its_field(site: str, browser: Browser) -> None:
    context, page = await _audited(browser)
    errors = console_errors(page)
    await _signed_in(page, site)
    await page.click("#tab-whatif")
    form = page.locator("#whatif-form")
    run = form.get_by_role("button", name="Try it")
    start, to = form.get_by_label("From", exact=True), form.get_by_label("To (not included)")
    await expect(start).to_have_value(re.compile(r"^\d{4}-\d{2}-\d{2}$"))

    # The range backwards: the API's words, on the end date, which gets the focus.
    await to.fill(await start.input_value())
    await run.click()
    await expect(to).to_have_attribute("aria-invalid", "true")
    assert await _error_of(page, to) == "The end of the range must be after its start."
    await expect(to).to_be_focused()
    await _clean(page, errors, "a backwards range")

    # A badge's thresholds that do not rise: on the thresholds, the range's error gone.
    await page.get_by_role("button", name="Start again from today's rules").click()
    await form.get_by_label("Badge", exact=True).select_option(label="Prolific reviewer")
    thresholds = form.get_by_label("Levels (the count each needs, lowest first)")
    await expect(thresholds).to_have_value("5, 25, 100")  # prefilled from the badges query
    await thresholds.fill("5, 3, 100")
    await run.click()
    await expect(thresholds).to_have_attribute("aria-invalid", "true")
    assert await _error_of(page, thresholds) == "Badge thresholds must be positive and rise."
    await expect(thresholds).to_be_focused()
    assert await form.get_by_label("To (not included)").get_attribute("aria-invalid") is None
    await _clean(page, errors, "thresholds that do not rise")

    # A tier ladder with two tiers at 0: the second tier's threshold is the one at fault.
    await page.get_by_role("button", name="Start again from today's rules").click()
    second = page.locator('[data-whatif-tier="2"]').get_by_label("Points in 12 months to reach it")
    await second.fill("0")
    await run.click()
    await expect(second).to_have_attribute("aria-invalid", "true")
    assert await _error_of(page, second) == "Each tier's threshold must be above the one below."
    await expect(second).to_be_focused()

    # Not a number at all: refused in the page, before any request.
    await page.get_by_role("button", name="Start again from today's rules").click()
    share = page.locator('[data-whatif-rule="SOCIAL_SHARE"]').get_by_label("Points", exact=True)
    await share.fill("")
    await run.click()
    await expect(share).to_have_attribute("aria-invalid", "true")
    assert await _error_of(page, share) == "Write a number."
    await _clean(page, errors, "an empty field")
    await context.close()


async def test_an_experiment_from_start_to_end(site: str, browser: Browser) -> None:
    context, page = await _audited(browser)
    errors = console_errors(page)
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await _signed_in(page, site)
    await page.click("#tab-experiments")
    new = page.locator("#experiment-new")
    await expect(new.get_by_label("Which one")).to_have_value("REVIEW")
    await _clean(page, errors, "the experiments view")

    # The holdout share out of bounds: refused beside it.
    await new.get_by_label("Name", exact=True).fill("Do review points pay?")
    share = new.get_by_label("Share of members held out (%)")
    await share.fill("95")
    await new.get_by_role("button", name="Start experiment").click()
    await expect(share).to_have_attribute("aria-invalid", "true")
    assert "between 1 and 90" in await _error_of(page, share)

    # A badge's slug, then reviews after all: the choices follow the target kind.
    await new.get_by_label("Hold members out of").select_option("BADGE")
    await expect(new.get_by_label("Which one")).to_have_value("first-review")
    await new.get_by_label("Hold members out of").select_option("EARNING_RULE")
    await new.get_by_label("Which one").select_option("REVIEW")
    await share.fill("20")
    await new.get_by_role("button", name="Start experiment").click()
    row = page.locator('[data-experiment="Do review points pay?"]')
    await expect(row).to_contain_text("Running")
    await expect(row).to_contain_text("Points for reviews")
    await expect(row).to_contain_text("20%")
    listed = (await _api(site, "query { experiments { id name running target { kind ref } } }"))[
        "experiments"
    ]
    made = next(x for x in listed if x["name"] == "Do review points pay?")
    assert made["running"]
    assert made["target"] == {"kind": "EARNING_RULE", "ref": "REVIEW"}
    await _clean(page, errors, "an experiment started")

    # Its report: both arms, five figures, the method, and the small sample's warning.
    await row.get_by_role("button", name="Report of Do review points pay?").click()
    title = page.locator("#experiment-report-title")
    await expect(title).to_have_text("Report: Do review points pay?")
    await expect(title).to_be_focused()
    report = (
        await _api(
            site,
            """query($id: ID!) { experimentReport(id: $id) { method
              treatment { members } holdout { members } retentionRate { warning } } }""",
            {"id": made["id"]},
        )
    )["experimentReport"]
    box = page.locator("#experiment-report")
    treated = box.locator('[data-arm="treatment"] td').nth(1)
    assert number_in(await treated.text_content() or "") == report["treatment"]["members"]
    held = box.locator('[data-arm="holdout"] td').nth(1)
    assert number_in(await held.text_content() or "") == report["holdout"]["members"]
    await expect(box.locator("tr[data-figure]")).to_have_count(5)
    await expect(box.locator(".method")).to_contain_text(f"Method: {report['method']}")
    if report["retentionRate"]["warning"]:  # the demo's few members: expected
        await expect(box.locator("[data-warning]")).to_contain_text(
            report["retentionRate"]["warning"]
        )
    await _clean(page, errors, "the report")

    # Ended: the list and the open report say so, and so does the API.
    await row.get_by_role("button", name="End Do review points pay?").click()
    await expect(row).to_contain_text("Ended")
    await expect(row.get_by_role("button", name="End Do review points pay?")).to_have_count(0)
    await expect(box).not_to_contain_text("running: so far")
    listed = (await _api(site, "query { experiments { name running } }"))["experiments"]
    assert {x["name"]: x["running"] for x in listed}["Do review points pay?"] is False
    await _clean(page, errors, "the experiment ended")
    await context.close()


async def test_both_views_fit_a_small_screen(site: str, browser: Browser) -> None:
    context, page = await _audited(browser, width=360)
    errors = console_errors(page)
    await _signed_in(page, site)
    await page.click("#tab-whatif")
    await page.get_by_role("button", name="Try it").click()
    await expect(page.locator("#whatif-chart canvas")).to_be_visible(timeout=60_000)
    await page.click("#tab-experiments")
    await expect(page.locator("#experiment-new form")).to_be_visible()
    for tab in ("#tab-whatif", "#tab-experiments"):
        await page.click(tab)
        await page.wait_for_timeout(300)
        width: Any = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, tab  # nothing overflows sideways
        await _clean(page, errors, tab)
    await context.close()
