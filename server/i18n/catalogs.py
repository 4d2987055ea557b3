"""The message catalogs: one gettext ``.po`` file per language, read once per process.

Each is parsed with ``babel.messages.pofile`` and compiled in memory into a
``gettext.GNUTranslations``, which evaluates the plural rule of the file's
``Plural-Forms`` header (Babel writes it from CLDR). Entries still marked fuzzy are
left out, so an unreviewed translation falls back to English.
"""

from __future__ import annotations

import functools
import gettext
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

__all__ = ["DOMAIN", "LANGUAGES", "LOCALE_DIR", "catalog_path", "load_catalogs", "translations"]

DOMAIN = "laurel"
# English first: it is the message ids, and the answer when nothing else matches.
LANGUAGES = ("en", "ru", "bg", "lv", "ka")
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalog of ``language`` (English, or an unknown one: the ids as they are)."""
    if language not in LANGUAGES[1:]:
        return gettext.NullTranslations()
    with catalog_path(language).open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def load_catalogs() -> None:
    """Read every catalog now (the app's start), so a broken file stops start-up and no
    request waits for the parse."""
    for language in LANGUAGES:
        translations(language)
