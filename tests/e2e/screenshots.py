"""`make screenshots`: the community page, the moderator console and the owner's console
(its dashboard over the demo's year) at 1280 and 375 px, and the first two again in
Bulgarian (``-bg-``), signed in on the demo site, saved under docs/screenshots/."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from playwright.async_api import Browser, async_playwright

from tests.e2e.conftest import ARGS, CHROMIUM, demo_site

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


# The pages in another language than English ("" is the default, English).
LANGUAGES = ("", "bg")


async def _pages(browser: Browser, base: str, width: int, language: str) -> list[Path]:
    """The community page and the moderator console in ``language``."""
    written: list[Path] = []
    suffix, query = (f"-{language}", f"?lang={language}") if language else ("", "")
    context = await browser.new_context(viewport={"width": width, "height": 900})
    page = await context.new_page()
    await page.goto(base + "/" + query)
    await page.select_option("#demo-member", label="Eli Stone")
    await page.click("#demo-go")
    await page.wait_for_selector("#board tr.me")
    await page.wait_for_timeout(500)
    path = OUT / f"community{suffix}-{width}.png"
    await page.screenshot(path=str(path), full_page=True)
    written.append(path)
    console = await context.new_page()
    await console.goto(base + "/moderate" + query)
    await console.click("#demo-key")
    await console.wait_for_selector("#queue li")
    path = OUT / f"moderate{suffix}-{width}.png"
    await console.screenshot(path=str(path), full_page=True)
    written.append(path)
    await context.close()
    return written


async def _shoot(base: str) -> list[Path]:
    OUT.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for width in (1280, 375):
            for language in LANGUAGES:
                written += await _pages(browser, base, width, language)
            context = await browser.new_context(viewport={"width": width, "height": 900})
            owner = await context.new_page()
            await owner.goto(base + "/admin")
            await owner.click("#demo-key")
            await owner.wait_for_selector("#cohorts table")
            await owner.wait_for_timeout(500)
            path = OUT / f"admin-{width}.png"
            await owner.screenshot(path=str(path), full_page=True)
            written.append(path)
            await context.close()
        await browser.close()
    return written


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="laurel-shots-") as data, demo_site(Path(data)) as base:
        for path in asyncio.run(_shoot(base)):
            print(path.relative_to(OUT.parents[1]))


if __name__ == "__main__":
    main()
