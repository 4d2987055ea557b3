"""What the browser tests read off a page: its console errors, numbers as shown, and what
axe-core (shipped in ``vendor/``) finds."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Page

__all__ = ["AXE", "axe", "console_errors", "number_in"]

AXE = Path(__file__).parent / "vendor" / "axe.min.js"

# Chromium logs every 4xx response as a console error; a test that asks for one expects it.
_NETWORK = "Failed to load resource"


def console_errors(page: Page, *, expect_4xx: bool = False) -> list[str]:
    """The page's console errors and uncaught exceptions from now on (a live list)."""
    errors: list[str] = []

    def console(message: object) -> None:
        text, kind = getattr(message, "text", ""), getattr(message, "type", "")
        if kind == "error" and not (expect_4xx and _NETWORK in text):
            errors.append(text)

    page.on("console", console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def number_in(text: str) -> int:
    """The digits of a shown number ("1,234 points" -> 1234)."""
    return int(re.sub(r"[^0-9]", "", text) or 0)


async def axe(page: Page) -> list[str]:
    """axe-core's violations on the page as it is now ("rule: targets"); the page's CSP
    must let the script in (a context made with ``bypass_csp=True``)."""
    await page.add_script_tag(path=str(AXE))
    found: list[str] = await page.evaluate(
        "async () => (await axe.run(document)).violations"
        ".map(v => `${v.id}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)"
    )
    return found
