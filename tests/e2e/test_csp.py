"""The community page, the moderator console and GraphiQL under the Content-Security-Policy,
with the network cut off except this server: they work, nothing is refused, nothing is
logged as an error, and no request even tries to leave the machine."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

import pytest
from playwright.async_api import Browser, BrowserContext, Page, Route, expect

# On both back ends (the other browser tests run on the embedded defaults only).

# Runs before any script of the page; Playwright injects it outside the page's CSP.
_RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${where}`);
});
"""


@dataclass
class Watched:
    page: Page
    origin: str
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    async def violations(self) -> list[str]:
        found: list[str] = await self.page.evaluate("window.__violations")
        return found

    async def assert_clean(self) -> None:
        assert await self.violations() == []
        assert self.errors == []
        assert self.outside == []  # nothing even tried to leave
        assert self.requests, "the page made no request at all"


@pytest.fixture
async def offline(browser: Browser, site: str) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    await context.add_init_script(_RECORD_VIOLATIONS)
    try:
        yield context
    finally:
        await context.close()


async def _watch(context: BrowserContext, site: str) -> Watched:
    page = await context.new_page()
    watched = Watched(page, _origin(site))

    async def only_the_server(route: Route) -> None:
        url = route.request.url
        if url.startswith("data:") or _origin(url) == watched.origin:
            watched.requests.append(url)
            await route.continue_()
        else:
            watched.outside.append(url)
            await route.abort("blockedbyclient")

    await page.route("**/*", only_the_server)
    page.on("console", lambda m: watched.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watched.errors.append(str(e)))
    page.on("websocket", lambda ws: _same_host(watched, ws.url))
    return watched


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _same_host(watched: Watched, url: str) -> None:
    if urlsplit(url).netloc != urlsplit(watched.origin).netloc:
        watched.outside.append(url)


async def test_community_page_under_the_csp(offline: BrowserContext, site: str) -> None:
    watched = await _watch(offline, site)
    response = await watched.page.goto(site + "/")
    assert response is not None
    assert "script-src 'self'" in (await response.all_headers())["content-security-policy"]
    await expect(watched.page.locator("#board tr").first).to_be_visible()
    await expect(watched.page.locator("#prizes .prize").first).to_be_visible()
    # Signing in runs the scripted parts: the tier bar's width, live updates over ws.
    await watched.page.select_option("#demo-member", label="Hana Hart")
    await watched.page.click("#demo-go")
    await expect(watched.page.locator("#who-name")).to_have_text("Signed in as Hana Hart")
    bar = watched.page.locator("#tier-bar")
    await expect(bar).to_have_attribute("aria-valuenow", re.compile(r"^\d+$"))
    # The sign-in error's layout moved from a style attribute to app.css.
    max_width = await watched.page.eval_on_selector(
        "#signin-error", "e => getComputedStyle(e).maxWidth"
    )
    assert max_width == "1152px"  # 72rem
    await watched.assert_clean()


async def test_moderator_console_under_the_csp(offline: BrowserContext, site: str) -> None:
    watched = await _watch(offline, site)
    await watched.page.goto(site + "/moderate")
    await watched.page.click("#demo-key")
    await expect(watched.page.locator("#console")).to_be_visible()
    await expect(watched.page.locator("#contests li").first).to_be_visible()
    # Checkboxes keep their own width now that the inline style is gone.
    width = await watched.page.eval_on_selector(
        "input[name=kind]", "e => e.getBoundingClientRect().width"
    )
    assert width < 40
    await watched.assert_clean()


async def test_owner_console_under_the_csp(offline: BrowserContext, site: str) -> None:
    watched = await _watch(offline, site)
    await watched.page.goto(site + "/admin")
    await watched.page.click("#demo-key")
    await expect(watched.page.locator("#chart-members canvas")).to_be_visible()
    await expect(watched.page.locator("#cohorts table")).to_be_visible()
    await watched.page.click("#tab-settings")
    await expect(watched.page.locator("#badge-list img").first).to_be_visible()
    # What if: the grouped bars (uPlot), the box plot's widths set from the script.
    await watched.page.click("#tab-whatif")
    await watched.page.get_by_role("button", name="Try it").click()
    await expect(watched.page.locator("#whatif-chart canvas")).to_be_visible(timeout=60_000)
    await expect(watched.page.locator(".boxplot .box")).to_be_attached()
    await watched.page.click("#tab-experiments")
    await expect(watched.page.locator("#experiment-new form")).to_be_visible()
    served = {urlsplit(u).path for u in watched.requests}
    assert "/static/vendor/uplot/uPlot.esm.js" in served  # the chart library, shipped
    await watched.assert_clean()


async def test_graphiql_offline_under_the_csp(offline: BrowserContext, site: str) -> None:
    watched = await _watch(offline, site)
    await watched.page.goto(site + "/graphql?q=" + quote("{ __typename }"))
    run = watched.page.locator("button.graphiql-execute-button")
    await expect(run).to_be_visible(timeout=20_000)
    # The schema came over introspection: the docs know the Query type.
    await watched.page.locator("button[aria-label='Show Documentation Explorer']").click()
    await expect(watched.page.locator(".graphiql-doc-explorer")).to_contain_text("Query")
    await run.click()
    result = watched.page.locator(".graphiql-response")
    await expect(result).to_contain_text('"__typename": "Query"')
    text = await result.locator(".CodeMirror-code").inner_text()
    assert json.loads(text.replace("\xa0", " ")) == {"data": {"__typename": "Query"}}
    # The dialogs add react-remove-scroll's <style>: allowed by its hash, nothing refused.
    for label in ["Open settings dialog", "Open short keys dialog"]:
        await watched.page.locator(f"button[aria-label='{label}']").click()
        await expect(watched.page.get_by_role("dialog")).to_be_visible()
        await watched.page.keyboard.press("Escape")
        await expect(watched.page.get_by_role("dialog")).to_have_count(0)
    served = {urlsplit(u).path for u in watched.requests}
    assert "/static/vendor/graphiql/graphiql.min.js" in served
    assert "/static/graphiql.js" in served
    await watched.assert_clean()
