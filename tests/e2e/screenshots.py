"""`make screenshots`: the community page, the moderator console and the owner's console
(its dashboard over the demo's year) at 1280 and 375 px,
signed in on the demo site, saved under docs/screenshots/."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from playwright.async_api import async_playwright

from tests.e2e.conftest import ARGS, CHROMIUM, demo_site

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


async def _shoot(base: str) -> list[Path]:
    OUT.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for width in (1280, 375):
            context = await browser.new_context(viewport={"width": width, "height": 900})
            page = await context.new_page()
            await page.goto(base + "/")
            await page.select_option("#demo-member", label="Eli Stone")
            await page.click("#demo-go")
            await page.wait_for_selector("#board tr.me")
            await page.wait_for_timeout(500)
            path = OUT / f"community-{width}.png"
            await page.screenshot(path=str(path), full_page=True)
            written.append(path)
            console = await context.new_page()
            await console.goto(base + "/moderate")
            await console.click("#demo-key")
            await console.wait_for_selector("#queue li")
            path = OUT / f"moderate-{width}.png"
            await console.screenshot(path=str(path), full_page=True)
            written.append(path)
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
