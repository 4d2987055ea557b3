"""The API's messages in the caller's language, and the catalogs behind both the API
(gettext ``.po``) and the pages (``frontend_stub/locales/*.json``).

The expected sentences are written out by hand: a catalog that loses a translation, a
plural form, or a placeholder fails here, not in front of a shopper.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from babel.messages.pofile import read_po

from server.i18n import LANGUAGES, negotiate, render
from server.i18n.catalogs import LOCALE_DIR, catalog_path
from server.rewards.text import msg_n
from tests.conftest import GraphQL, member_token
from tests.helpers import UPSERT

PAGES = Path(__file__).resolve().parents[2] / "frontend_stub"
LOCALES = PAGES / "locales"
OTHERS = LANGUAGES[1:]

REVIEW = """mutation Review($input: SubmitReviewInput!) {
  submitReview(input: $input) { __typename ... on ValidationError { field message } } }"""
SHORT_REVIEW = {
    "input": {"idempotencyKey": "short-1", "productId": "boots", "rating": 5, "text": "Nice."}
}

# "No such file." (a plain route's JSON 404) and a review too short (a GraphQL typed
# error), as each language says them.
NOT_FOUND = {
    "en": "No such file.",
    "ru": "Файл не найден.",
    "bg": "Няма такъв файл.",
    "lv": "Šāda faila nav.",
    "ka": "ასეთი ფაილი არ არსებობს.",
}
TOO_SHORT = {
    "en": "text must be 20 to 5000 characters long.",
    "ru": "Текст должен быть длиной от 20 до 5\xa0000 символов.",
    "bg": "Текстът трябва да е от 20 до 5\xa0000 знака.",
    "lv": "Tekstam jābūt no 20 līdz 5\xa0000 rakstzīmēm garam.",
    "ka": "ტექსტი უნდა შეიცავდეს 20-დან 5\xa0000 სიმბოლომდე.",
}


@pytest.mark.parametrize("language", LANGUAGES)
async def test_an_http_error_in_the_callers_language(
    client: httpx.AsyncClient, language: str
) -> None:
    answer = await client.get("/static/nothing.js", headers={"Accept-Language": language})
    assert answer.status_code == 404
    assert answer.json() == {"error": NOT_FOUND[language]}
    assert answer.headers["content-language"] == language
    assert "Accept-Language" in answer.headers["vary"]


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_graphql_typed_error_in_the_callers_language(
    client: httpx.AsyncClient, gql: GraphQL, keys: dict[str, str], language: str
) -> None:
    reader = {"externalId": f"reader-{language}", "displayName": "Reader"}
    await gql(UPSERT, {"input": reader}, auth=keys["SERVICE"])
    token = await member_token(reader["externalId"])
    answer = await client.post(
        "/graphql",
        json={"query": REVIEW, "variables": SHORT_REVIEW},
        headers={"Authorization": f"Bearer {token}", "Accept-Language": f"{language}-XX"},
    )
    result = answer.json()["data"]["submitReview"]
    # The message in words of the language; the field stays the API's name for the client.
    assert result["__typename"] == "ValidationError"
    assert (result["field"], result["message"]) == ("text", TOO_SHORT[language])


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        ("bg", "bg"),
        ("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "ru"),
        ("de-DE, lv;q=0.5, ru;q=0.4", "lv"),  # German is not ours: the next by q
        ("ru;q=0.3, ka;q=0.8", "ka"),  # q-values, not the order written
        ("en;q=0.2, bg;q=0.2", "en"),  # a tie: the order written
        ("ka;q=0, de", "en"),  # q=0 refuses Georgian
        ("de, fr;q=0.9, *;q=0.1", "en"),  # nothing of ours: English
        ("LV-lv", "lv"),
        ("", "en"),
        ("bg;q=abc, ;;;, \u0444\u0444", "en"),  # nonsense chooses nothing, and never raises
    ],
)
def test_the_language_by_accept_language(header: str, chosen: str) -> None:
    assert negotiate(header) == chosen


async def test_an_unknown_language_reads_english(client: httpx.AsyncClient) -> None:
    answer = await client.get("/static/nothing.js", headers={"Accept-Language": "de-DE, fr;q=0.5"})
    assert answer.json() == {"error": "No such file."}
    assert answer.headers["content-language"] == "en"
    ranked = await client.get("/static/nothing.js", headers={"Accept-Language": "de, bg;q=0.1"})
    assert ranked.json() == {"error": "Няма такъв файл."}


def _longer(count: int, language: str) -> str:
    text = msg_n(
        "The query is longer than {most:,} characters.",
        "The query is longer than {most:,} characters.",
        count,
        most=count,
    )
    return render(text, language)


def test_russian_plural_forms() -> None:
    # one (1, 21), few (2), many (5): the catalog's three forms by Russian's rule.
    assert _longer(1, "ru") == "Запрос длиннее 1 символа."
    assert _longer(2, "ru") == "Запрос длиннее 2 символов."
    assert _longer(5, "ru") == "Запрос длиннее 5 символов."
    assert _longer(21, "ru") == "Запрос длиннее 21 символа."
    assert _longer(100_000, "ru") == "Запрос длиннее 100\xa0000 символов."


def test_latvian_plural_forms() -> None:
    # zero (0, 10-20), one (1, 21), other (2): Latvian's three categories.
    assert _longer(0, "lv") == "Vaicājums ir garāks par 0 rakstzīmēm."
    assert _longer(1, "lv") == "Vaicājums ir garāks par 1 rakstzīmi."
    assert _longer(2, "lv") == "Vaicājums ir garāks par 2 rakstzīmēm."
    assert _longer(11, "lv") == "Vaicājums ir garāks par 11 rakstzīmēm."
    assert _longer(21, "lv") == "Vaicājums ir garāks par 21 rakstzīmi."


# --- The gettext catalogs (the API) ---------------------------------------------------

_FORMAT_FIELD = re.compile(r"(?<!\{)\{(\w+)(?:[:!][^{}]*)?\}")


def _fields(*texts: str) -> set[str]:
    return {name for text in texts for name in _FORMAT_FIELD.findall(text)}


def _entries(language: str) -> Any:
    with catalog_path(language).open("rb") as po:
        return read_po(po, locale=language)


@pytest.mark.parametrize("language", OTHERS)
def test_every_message_is_translated_with_its_placeholders(language: str) -> None:
    catalog = _entries(language)
    with (LOCALE_DIR / "laurel.pot").open("rb") as pot:
        template = read_po(pot)
    ids = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in template if m.id}
    ours = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in catalog if m.id}
    assert ids - ours == set(), "in the template, missing from the catalog: make messages"
    problems: list[str] = []
    for message in catalog:
        if not message.id:
            continue
        ids_ = (message.id,) if isinstance(message.id, str) else tuple(message.id)
        strings = (message.string,) if isinstance(message.string, str) else message.string
        if message.fuzzy:
            problems.append(f"fuzzy: {ids_[0]!r}")
        if len(ids_) > 1 and len(strings) != catalog.num_plurals:
            problems.append(f"{len(strings)} plural forms, not {catalog.num_plurals}: {ids_[0]!r}")
        for string in strings:
            if not string.strip():
                problems.append(f"untranslated: {ids_[0]!r}")
            elif _fields(string) != _fields(*ids_):
                problems.append(f"placeholders {_fields(string)} for {ids_[0]!r}")
    assert problems == []


# --- The pages' JSON catalogs -----------------------------------------------------------

# CLDR's plural categories (what Intl.PluralRules(lang).resolvedOptions().pluralCategories
# gives); a counted message needs every one of its language's.
PLURAL_CATEGORIES = {
    "en": {"one", "other"},
    "ru": {"one", "few", "many", "other"},
    "bg": {"one", "other"},
    "lv": {"zero", "one", "other"},
    "ka": {"one", "other"},
}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _page_catalog(language: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((LOCALES / f"{language}.json").read_text("utf-8"))
    return found


def test_the_plural_table_is_cldrs() -> None:
    from babel import Locale

    for language, categories in PLURAL_CATEGORIES.items():
        assert Locale.parse(language).plural_form.tags | {"other"} == categories, language


def _shape(entry: Any) -> tuple[str, set[str]]:
    """("text" or "plural", its placeholders), whatever form the entry has."""
    if isinstance(entry, str):
        return "text", set(_PLACEHOLDER.findall(entry))
    assert isinstance(entry, dict), entry
    return "plural", {n for text in entry.values() for n in _PLACEHOLDER.findall(text)}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_message_in_every_language(language: str) -> None:
    english = _page_catalog("en")
    catalog = _page_catalog(language)
    assert set(catalog) == set(english)
    problems: list[str] = []
    for key, entry in catalog.items():
        if _shape(entry) != _shape(english[key]):
            problems.append(f"{key}: {_shape(entry)} but English has {_shape(english[key])}")
        if isinstance(entry, dict):
            if set(entry) != PLURAL_CATEGORIES[language]:
                problems.append(f"{key}: categories {sorted(entry)}")
            if "count" not in _shape(entry)[1]:
                problems.append(f"{key}: a counted message without {{count}}")
            problems += [f"{key}.{c}: empty" for c, text in entry.items() if not text.strip()]
        elif not entry.strip():
            problems.append(f"{key}: empty")
    assert problems == []


_STATIC = re.compile(r'data-i18n(?:-([a-z-]+))?="([^"]+)"')
_CALLED = re.compile(r'\bt\("([^"]+)"')


@pytest.mark.parametrize("page", ["index.html", "moderate.html"])
def test_the_pages_static_text_is_the_english_catalogs(page: str) -> None:
    """What a page without script shows is what en.json says; every key exists."""
    english = _page_catalog("en")
    html = (PAGES / page).read_text("utf-8")
    marked = _STATIC.findall(html)
    assert len(marked) > 10
    for attribute, key in marked:
        assert key in english, key
        if attribute:
            shown = re.search(rf'{attribute}="([^"]*)"[^>]*data-i18n-{attribute}="{key}"', html)
            assert shown, key
            assert shown[1] == english[key], key
        else:
            shown = re.search(rf'data-i18n="{re.escape(key)}">([^<]*)<', html)
            assert shown, key
            assert shown[1].replace("&quot;", '"') == english[key], key


def test_every_message_the_scripts_ask_for_is_in_the_catalog() -> None:
    english = _page_catalog("en")
    scripts = [
        *("api.js", "community.js", "community_earn.js", "community_prizes.js", "moderate.js"),
        *("community_howto.js", "community_contests.js"),
        *("moderate_forms.js", "moderate_contests.js", "moderate_contest_detail.js"),
    ]
    asked = {key for name in scripts for key in _CALLED.findall((PAGES / name).read_text("utf-8"))}
    assert len(asked) > 50
    assert asked - set(english) == set()
