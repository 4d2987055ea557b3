"""What the browser tests read off a page: its console errors, numbers as shown, and what
axe-core (shipped in ``vendor/``) finds."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Page

__all__ = ["AXE", "admin_api", "admin_key", "axe", "console_errors", "number_in"]

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


async def admin_key(site: str) -> str:
    """A fresh ADMIN key of the demo site (its /demo/admin-key)."""
    async with httpx.AsyncClient(base_url=site) as client:
        key: str = (await client.post("/demo/admin-key")).json()["key"]
        return key


async def admin_api(
    site: str, key: str, query: str, variables: dict[str, Any] | None = None
) -> Any:
    """The ``data`` of a GraphQL call as ADMIN (the test fails on errors)."""
    async with httpx.AsyncClient(base_url=site, timeout=60) as client:
        answer = await client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {key}"},
        )
    body = answer.json()
    assert "errors" not in body, body
    return body["data"]
