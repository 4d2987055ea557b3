"""Issue 21, items 1 and 6 in a real browser: "How it works" (ways to redeem, what a point
is worth, tier benefits with the viewer's current and next tier), the expiry notice,
running contests with their live board and past ones with their winners, each compared
with the GraphQL answer; dark mode (a dark page, axe clean) on the community page and the
moderator console; on a phone the points and the prizes above the badges and a visible
Sign-in; the first leaderboard rows in the first HTTP response (no script needed)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import demo_site, pytestmark  # noqa: F401  (embedded only)
from tests.e2e.console import axe, console_errors

SHOPPER = "Hana Hart"
TIERS = "{ tiers { name threshold multiplier entryBonus } }"
TIMES, DASH = "\u00d7", "\u2013"  # the page's multiplication sign and en dash
# Russian: the counted words of the expiry notice, by the count.
RU_EXPIRY = re.compile(r"\d+ балл(а|ов)? сгор(ит|ят)")  # noqa: RUF001


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # Points last 25 days here, so a fresh credit is among those that expire within 30.
    settings = {"LAUREL_POINTS_EXPIRE_DAYS": "25"}
    with demo_site(tmp_path_factory.mktemp("howto"), settings) as base:
        yield base


async def _api(
    site: str, query: str, variables: dict[str, Any] | None = None, key: str = ""
) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with httpx.AsyncClient(base_url=site, timeout=30) as http:
        body = (
            await http.post(
                "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
            )
        ).json()
    assert "errors" not in body, body
    return body["data"]


async def _key(site: str, role: str) -> str:
    async with httpx.AsyncClient(base_url=site) as http:
        key: str = (await http.post(f"/demo/{role}-key")).json()["key"]
    return key


async def _shopper_token(site: str, name: str = SHOPPER) -> str:
    async with httpx.AsyncClient(base_url=site) as http:
        members = (await http.get("/demo/members")).json()
        external = next(m["externalId"] for m in members if m["displayName"] == name)
        token: str = (await http.post("/demo/token", json={"externalId": external})).json()["token"]
    return token


async def _sign_in(page: Page, name: str = SHOPPER) -> None:
    await page.select_option("#demo-member", label=name)
    await page.click("#demo-go")
    await expect(page.locator("#who-name")).to_have_text(f"Signed in as {name}")


_ROW = re.compile(
    r'<tr data-member="(\d+)"><td>(\d+)</td><td>([^<]*)</td><td class="num">([\d,]+)</td></tr>'
)
BOARD = "{ leaderboard(first: 10) { entries { rank score member { id displayName } } } }"


async def test_the_first_rows_come_in_the_html(site: str, browser: Browser) -> None:
    async with httpx.AsyncClient(base_url=site) as http:
        html = (await http.get("/")).text
    entries = (await _api(site, BOARD))["leaderboard"]["entries"]
    assert len(entries) == 10
    assert _ROW.findall(html) == [
        (e["member"]["id"], str(e["rank"]), e["member"]["displayName"], f"{e['score']:,}")
        for e in entries
    ]
    # Without JavaScript the rows are there all the same.
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    await page.goto(site + "/")
    await expect(page.locator("#board tr")).to_have_count(10)
    await expect(page.locator("#board tr").first).to_contain_text(
        entries[0]["member"]["displayName"]
    )
    await context.close()


async def test_live_board_takes_over_without_duplicates(site: str, browser: Browser) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors = console_errors(page)
    # When the rows first appear, and when the live board first replaces them.
    await page.add_init_script("""
      window.__rows = null; window.__live = null;
      new MutationObserver((changes, seen) => {
        const body = document.getElementById('board');
        if (body && body.rows.length && window.__rows === null) {
          window.__rows = performance.now();
          const live = () => { window.__live ??= performance.now(); };
          new MutationObserver(live).observe(body, { childList: true });
          seen.disconnect();
        }
      }).observe(document, { childList: true, subtree: true });
    """)
    await page.goto(site + "/")
    await expect(page.locator("#board-status")).to_have_text(
        re.compile(r"^\d[\d,]* members with points$")
    )
    await page.wait_for_function("() => window.__live !== null", timeout=10_000)
    await expect(page.locator("#board tr")).to_have_count(10)
    first, live = await page.evaluate("[window.__rows, window.__live]")
    timing = await page.evaluate("performance.getEntriesByType('navigation')[0].responseStart")
    print(
        f"\nfirst rows at {first:.0f} ms (response started {timing:.0f} ms),"
        f" live board at {live:.0f} ms"
    )
    assert errors == []
    await context.close()


async def test_how_it_works_says_what_the_api_says(site: str, browser: Browser) -> None:
    token = await _shopper_token(site)
    me = (await _api(site, "{ viewer { member { id } } }", key=token))["viewer"]["member"]["id"]
    # A fresh credit: with points lasting 25 days, it expires within the notice's 30.
    adjust = (
        """mutation($input: AdjustPointsInput!) { adjustPoints(input: $input) { __typename } }"""
    )
    variables = {
        "input": {"idempotencyKey": "howto-1", "memberId": me, "amount": 37, "reason": "test"}
    }
    await _api(site, adjust, variables, key=await _key(site, "admin"))
    wanted = await _api(
        site,
        "{ "
        + TIERS[2:-2]
        + """ discountRule { pointsPerCurrencyUnit enabled minPoints }
        prizes { edges { node { id name cost } } } }""",
    )
    viewer = (
        await _api(
            site,
            """{ viewer { expiringPoints { points expiresAt }
        tierProgress { current { name } next { name } pointsToNext } } }""",
            key=token,
        )
    )["viewer"]

    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors = console_errors(page, expect_4xx=True)
    await page.goto(site + "/")
    await _sign_in(page)
    howto = page.locator("#howto")
    for tier in wanted["tiers"]:
        row = howto.locator(f"tr[data-tier='{tier['name']}']")
        await expect(row.locator("td").nth(0)).to_have_text(f"{tier['threshold']:,}")
        await expect(row.locator("td").nth(1)).to_have_text(f"{TIMES}{tier['multiplier']:g}")
        bonus = f"{tier['entryBonus']:,} points" if tier["entryBonus"] else DASH
        await expect(row.locator("td").nth(2)).to_have_text(bonus)
    progress = viewer["tierProgress"]
    await expect(howto.locator("tr[aria-current=true]")).to_have_attribute(
        "data-tier", progress["current"]["name"]
    )
    await expect(howto.locator("tr[aria-current=true]")).to_contain_text("your tier")
    if progress["next"]:
        nxt = howto.locator(f"tr[data-tier='{progress['next']['name']}']")
        await expect(nxt).to_contain_text(f"next: {progress['pointsToNext']:,} points to go")
    rule = wanted["discountRule"]
    assert rule["enabled"]
    await expect(page.locator("#point-worth")).to_contain_text(
        f"{rule['pointsPerCurrencyUnit']:,} points are worth 1.00 off your order."
    )
    for prize in (e["node"] for e in wanted["prizes"]["edges"]):
        await expect(howto.locator(f"li[data-redeem='{prize['id']}']")).to_contain_text(
            f"{prize['name']}: {prize['cost']:,} points"
        )
    await expect(howto.locator("li[data-redeem=discount]")).to_contain_text(
        f"from {rule['minPoints']:,} points"
    )
    # The expiry notice: the soonest lots, with their dates, plural-aware.
    soon = viewer["expiringPoints"]
    assert soon, viewer
    first = soon[0]
    day = datetime.fromisoformat(first["expiresAt"]).strftime("%b %-d, %Y")
    word = "point expires" if first["points"] == 1 else "points expire"
    await expect(page.locator("#expiry")).to_be_visible()
    await expect(page.locator("#expiry")).to_contain_text(f"{first['points']:,} {word} on {day}.")
    # In Russian the counted words follow Russian's plural rules.
    await page.select_option("#lang", "ru")
    await expect(page.locator("#howto-title")).to_have_text("Призы, баллы и уровни")
    await expect(page.locator("#expiry")).to_contain_text(RU_EXPIRY)
    assert errors == []
    await context.close()


CREATE = """mutation($input: CreateContestInput!) { createContest(input: $input) {
  __typename ... on ContestSaved { contest { id } } ... on Error { message } } }"""
PUBLISH = "mutation($id: ID!) { publishContest(id: $id) { __typename } }"
FINALIZE = "mutation($id: ID!) { finalizeContest(id: $id) { __typename ... on Error { message } } }"


async def _contest(site: str, key: str, name: str, ends: datetime) -> str:
    start = datetime.now(UTC) - timedelta(days=300)
    fields = {
        "name": name,
        "description": f"About {name}",
        "startsAt": start.isoformat(),
        "endsAt": ends.isoformat(),
        "activityKinds": ["PURCHASE", "REVIEW", "PHOTO_REVIEW", "SOCIAL_SHARE", "REFERRAL"],
        "prizes": [
            {"fromRank": 1, "toRank": 1, "points": 250},
            {"fromRank": 2, "toRank": 3, "points": 100},
        ],
    }
    saved = (await _api(site, CREATE, {"input": fields}, key=key))["createContest"]
    assert saved["__typename"] == "ContestSaved", saved
    contest_id: str = saved["contest"]["id"]
    await _api(site, PUBLISH, {"id": contest_id}, key=key)
    return contest_id


SHARE = """mutation($i: RecordShareInput!) { recordShare(input: $i) { __typename } }"""


async def _share(site: str, token: str, n: int) -> None:
    page = {"idempotencyKey": f"howto-share-{n}", "platform": "facebook"}
    page["url"] = f"https://shop.example.com/products/howto-{n}"
    done = (await _api(site, SHARE, {"i": page}, key=token))["recordShare"]
    assert done["__typename"] == "ActivityRecorded", done


async def test_running_and_past_contests(site: str, browser: Browser) -> None:
    key = await _key(site, "moderator")
    now = datetime.now(UTC)
    past = await _contest(site, key, "Autumn sprint", now + timedelta(seconds=5))
    running = await _contest(site, key, "Winter marathon", now + timedelta(days=10))
    # Contest boards count what is earned once they run: three shoppers share pages.
    async with httpx.AsyncClient(base_url=site) as http:
        members = (await http.get("/demo/members")).json()[:3]
    for n, member in enumerate(members):
        await _share(site, await _shopper_token(site, member["displayName"]), n)
    await asyncio.sleep(
        max(0.0, (now + timedelta(seconds=5.5) - datetime.now(UTC)).total_seconds())
    )
    done = (await _api(site, FINALIZE, {"id": past}, key=key))["finalizeContest"]
    assert done["__typename"] == "ContestSaved", done
    board = """query($id: ID!) { contest(id: $id) {
        leaderboard(first: 5) { entries { rank score member { displayName } } }
        results { rank score pointsAwarded member { displayName } } } }"""
    live = (await _api(site, board, {"id": running}))["contest"]["leaderboard"]["entries"]
    results = (await _api(site, board, {"id": past}))["contest"]["results"]
    assert live
    assert results

    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors = console_errors(page)
    await page.goto(site + "/")
    card = page.locator(f"#contests [data-contest='{running}']")
    await expect(card).to_contain_text("Winter marathon")
    await expect(card).to_contain_text(f"place 1: 250 points · places 2{DASH}3: 100 points")
    shown = card.locator("tbody tr")
    await expect(shown).to_have_count(len(live))
    for i, entry in enumerate(live):
        await expect(shown.nth(i)).to_have_text(
            f"{entry['rank']}{entry['member']['displayName']}{entry['score']:,}"
        )
    winners = page.locator(f"#contests [data-contest='{past}'] tbody tr")
    await expect(winners).to_have_count(min(3, len(results)))
    for i, placed in enumerate(results[:3]):
        prize = f"{placed['pointsAwarded']:,} points" if placed["pointsAwarded"] else DASH
        await expect(winners.nth(i)).to_have_text(
            f"{placed['rank']}{placed['member']['displayName']}{placed['score']:,}{prize}"
        )
    assert results[0]["pointsAwarded"] == 250
    assert errors == []
    await context.close()


_LUMINANCE = """(el) => {
  const [r, g, b] = getComputedStyle(el).backgroundColor.match(/\\d+/g).map(Number)
    .map((c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_both_schemes_are_axe_clean(
    site: str, browser: Browser, scheme: Literal["light", "dark"]
) -> None:
    # axe-core's script needs the page's CSP lifted: a context of its own.
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, bypass_csp=True, color_scheme=scheme
    )
    page = await context.new_page()
    errors = console_errors(page)
    await page.goto(site + "/")
    await _sign_in(page)
    await expect(page.locator("#prizes .prize").first).to_be_visible()
    await expect(page.locator("#tier-table")).to_be_visible()
    await expect(page.locator("#contests h3").first).to_be_visible()
    await page.wait_for_timeout(500)
    for where in ("body", "#howto-card"):
        light = await page.locator(where).evaluate(_LUMINANCE)
        assert (light < 0.05) if scheme == "dark" else (light > 0.8), (where, light)
    assert await axe(page) == []
    console = await context.new_page()
    console_log = console_errors(console)
    await console.goto(site + "/moderate")
    await console.click("#demo-key")
    await expect(console.locator("#queue li").first).to_be_visible()
    await console.wait_for_timeout(500)
    body = await console.locator("body").evaluate(_LUMINANCE)
    assert (body < 0.05) if scheme == "dark" else (body > 0.8), body
    assert await axe(console) == []
    assert errors == []
    assert console_log == []
    await context.close()


async def test_on_a_phone_points_and_prizes_come_before_the_badges(
    site: str, browser: Browser
) -> None:
    context = await browser.new_context(viewport={"width": 375, "height": 740}, color_scheme="dark")
    page = await context.new_page()
    errors = console_errors(page)
    await page.goto(site + "/")
    # Sign-in: a visible control in the header, white on the header's green.
    signin = page.locator("header.top #demo-go")
    await expect(signin).to_be_visible()
    box = await signin.bounding_box()
    header = await page.locator("header.top").bounding_box()
    assert box is not None
    assert header is not None
    assert header["y"] <= box["y"]
    assert box["y"] + box["height"] <= header["y"] + header["height"]
    assert await signin.evaluate(_LUMINANCE) > 0.9  # a white button on the dark green
    await _sign_in(page)
    await expect(page.locator("#prizes .prize").first).to_be_visible()
    tops = {}
    for name, where in [
        ("me", "#me"),
        ("prizes", "#prizes"),
        ("board", "#board"),
        ("badges", "#shelf"),
    ]:
        found = await page.locator(where).bounding_box()
        assert found is not None, name
        tops[name] = found["y"]
    assert tops["me"] < tops["badges"], tops
    assert tops["prizes"] < tops["badges"], tops
    print(f"\nat 375 px: leaderboard at {tops['board']:.0f} px, prizes at {tops['prizes']:.0f} px")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
    assert errors == []
    await context.close()
