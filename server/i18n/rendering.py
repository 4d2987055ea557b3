"""A catalog message in the reader's language.

English is the message id formatted as it is, so English answers read exactly as they
did before catalogs. In another language the translation is formatted with its
numbers written the way that language writes them (Babel, from CLDR: ``5 000``), an
API field name (the value named ``field``) in the language's plain words (the
catalog's ``field`` context), and nested messages rendered in the same language. A
translation that is missing or cannot be formatted falls back to the English: an error
is never lost to a catalog's mistake.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from babel.numbers import format_decimal

from server.i18n.catalogs import LANGUAGES, translations
from server.i18n.context import language
from server.rewards.text import Text

__all__ = ["render"]

_log = logging.getLogger("laurel.i18n")
FIELD_CONTEXT = "field"


def render(text: Text | str, chosen: str | None = None) -> str:
    """``text`` in ``chosen``, or else in the current request's language."""
    if not isinstance(text, Text):
        text = Text(text)
    target = chosen or language()
    if target == LANGUAGES[0] or target not in LANGUAGES:
        return str(text)
    catalog = translations(target)
    if text.plural is None:
        template = catalog.gettext(text.msgid)
    else:
        template = catalog.ngettext(text.msgid, text.plural, text.count)
    values = {name: _value(name, value, target) for name, value in text.params.items()}
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError, AttributeError):
        _log.warning("the %s catalog cannot format %r; answering in English", target, text.msgid)
        return str(text)


class _Shown(str):
    """A number already written the language's way: a format spec in the template
    (``{most:,}``, the English grouping) has nothing left to do to it."""

    __slots__ = ()

    def __format__(self, spec: str) -> str:
        return str(self)


def _value(name: str, value: object, target: str) -> object:
    if isinstance(value, Text):
        return render(value, target)
    if name == FIELD_CONTEXT and isinstance(value, str):
        return translations(target).pgettext(FIELD_CONTEXT, value)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return _Shown(format_decimal(value, locale=target))
    return value
