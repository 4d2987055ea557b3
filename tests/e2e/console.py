"""What the browser tests read off a page: its console errors and numbers as shown."""

from __future__ import annotations

import re

from playwright.async_api import Page

__all__ = ["console_errors", "number_in"]

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
