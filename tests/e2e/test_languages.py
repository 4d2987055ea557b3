"""Both pages in another language in a real browser: ``?lang=bg`` reads Bulgarian (its
text, ``<html lang>``, its numbers and dates, and the server's errors), the picker
switches at once and is remembered, the moderator console reads Georgian, and axe-core
finds nothing wrong with the Bulgarian pages."""

from __future__ import annotations

import re

from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import pytestmark  # noqa: F401  (embedded only)
from tests.e2e.console import axe, console_errors

# Bulgarian writes a date as day.month.year with "г." (CLDR's medium date) and a
# decimal comma.
BG_DATE = re.compile(r"\d{1,2}\.\d{2}\.\d{4}\sг\.")


async def _sign_in(page: Page, name: str = "Hana Hart") -> None:
    await page.select_option("#demo-member", label=name)
    await page.click("#demo-go")
    await expect(page.locator("#board tr.me")).to_have_count(1)


async def test_the_community_page_in_bulgarian(site: str, browser: Browser) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors = console_errors(page, expect_4xx=True)
    await page.goto(site + "/?lang=bg")
    await expect(page.locator("html")).to_have_attribute("lang", "bg")
    await expect(page).to_have_title("Награди на общността")
    await expect(page.locator("h1")).to_have_text("Награди на общността")
    await expect(page.locator("#board-title")).to_have_text("Класация")
    await expect(page.locator("#windows button").first).to_have_text("За всички времена")
    await expect(page.locator("#lang")).to_have_value("bg")
    await expect(page.get_by_label("Език")).to_be_visible()
    await expect(page.locator("#token")).to_have_attribute("placeholder", "Поставете токен")
    await expect(page.locator("#tier-bar")).to_have_attribute(
        "aria-label", "Напредък към следващото ниво"
    )

    await _sign_in(page)
    await expect(page.locator("#who-name")).to_have_text("Влезли сте като Hana Hart")
    # Plural forms: Bulgarian "точка" for one, "точки" for more.
    await expect(page.locator("#earn")).to_contain_text("Пазарувайте при нас: 1 точка за всеки")
    await expect(page.locator("#earn")).to_contain_text("20 точки (до 5 на ден")
    # Numbers and dates the Bulgarian way: a decimal comma, day.month.year г.
    await expect(page.locator("#discount-value")).to_contain_text("500 точки дават 5,00")
    await expect(page.locator("#activities li").first).to_contain_text(BG_DATE)
    await expect(page.locator("#activities li").first).to_contain_text("Поръчка DEMO-")

    # A server error comes back in Bulgarian (the page sent Accept-Language: bg).
    await page.fill("#review-text", "Твърде кратко.")
    await page.click("#review-form button[type=submit]")
    await expect(page.locator("#review-text-error")).to_have_text(
        "Текстът трябва да е от 20 до 5 000 знака."
    )
    await expect(page.locator("#review-text")).to_have_attribute("aria-invalid", "true")
    assert errors == []
    await context.close()


async def test_the_picker_switches_at_once_and_is_remembered(site: str, browser: Browser) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors = console_errors(page)
    await page.goto(site + "/")
    # No choice yet and an English browser: English.
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator("#board-status")).to_contain_text("members with points")
    await page.get_by_label("Language").select_option(label="Русский")
    # At once, without a reload: the static text, what the page drew, <html lang>.
    await expect(page.locator("h1")).to_have_text("Бонусы сообщества")
    await expect(page.locator("#board-status")).to_contain_text("участник")
    await expect(page.locator("#windows button").first).to_have_text("За всё время")
    await expect(page.locator("#earn")).to_contain_text("Напишите отзыв о товаре")
    await expect(page.locator("html")).to_have_attribute("lang", "ru")

    # Remembered: a reload, and a new page of the same site, read Russian.
    await page.reload()
    await expect(page.locator("h1")).to_have_text("Бонусы сообщества")
    await expect(page.locator("#lang")).to_have_value("ru")
    console = await context.new_page()
    await console.goto(site + "/moderate")
    await expect(console.locator("h1")).to_have_text("Консоль модератора")

    # ?lang= wins over the saved choice; the picker then rewrites it, so a reload keeps
    # the language just picked.
    await page.goto(site + "/?lang=lv")
    await expect(page.locator("h1")).to_have_text("Kopienas balvas")
    await page.select_option("#lang", "en")
    await expect(page.locator("h1")).to_have_text("Community rewards")
    assert page.url.endswith("/?lang=en")
    await page.reload()
    await expect(page.locator("h1")).to_have_text("Community rewards")
    assert errors == []
    await context.close()


async def test_the_browsers_languages_choose_when_nothing_else_does(
    site: str, browser: Browser
) -> None:
    context = await browser.new_context(locale="lv-LV")
    page = await context.new_page()
    await page.goto(site + "/")
    await expect(page.locator("html")).to_have_attribute("lang", "lv")
    await expect(page.locator("h1")).to_have_text("Kopienas balvas")
    # Latvian plurals: 1 punkts, 5 punkti (and 0, 10, 11 punktu).
    await expect(page.locator("#earn")).to_contain_text("1 punkts par katriem")
    await expect(page.locator("#earn")).to_contain_text("5 punkti")
    await context.close()


async def test_the_moderator_console_in_georgian(site: str, browser: Browser) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors = console_errors(page, expect_4xx=True)
    await page.goto(site + "/moderate?lang=ka")
    await expect(page.locator("html")).to_have_attribute("lang", "ka")
    await expect(page).to_have_title("მოდერატორის კონსოლი")
    await expect(page.locator("label[for=key]")).to_have_text("მოდერატორის API გასაღები")
    await page.click("#demo-key")
    await expect(page.locator("#queue-title")).to_have_text("გადაწყვეტილებას ელოდება")
    first = page.locator("#queue li").first
    await expect(first.get_by_role("button", name="დამტკიცება")).to_be_visible()
    await expect(first.get_by_role("button", name="უარყოფა")).to_be_visible()
    await expect(first.locator("input")).to_have_attribute("placeholder", "მიზეზი (არასავალდებულო)")
    await expect(page.locator("#contests")).to_have_text("კონკურსები ჯერ არ არის.")
    # The page's own check before it asks the server, in Georgian.
    await page.fill("#c-name", "ზაფხულის კონკურსი")
    await page.click("#contest-form button[type=submit]")
    await expect(page.locator("#c-end-error")).to_have_text(
        "აირჩიეთ, როდის იწყება და როდის მთავრდება."
    )
    assert errors == []
    await context.close()


async def test_axe_and_a_clean_console_in_bulgarian(site: str, browser: Browser) -> None:
    # axe-core's script needs the page's CSP lifted: a context of its own.
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = await context.new_page()
    errors = console_errors(page)
    await page.goto(site + "/?lang=bg")
    await _sign_in(page)
    await expect(page.locator("#prizes .prize").first).to_be_visible()
    await page.wait_for_timeout(500)
    assert await axe(page) == []
    console = await context.new_page()
    console_log = console_errors(console)
    await console.goto(site + "/moderate?lang=bg")
    await console.click("#demo-key")
    await expect(console.locator("#queue li").first).to_be_visible()
    await expect(console.locator("#queue-title")).to_have_text("Чакат решение")
    await console.wait_for_timeout(500)
    assert await axe(console) == []
    assert errors == []
    assert console_log == []
    await context.close()
