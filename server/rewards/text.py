"""Messages for people, kept as their catalog id and values until someone reads them.

The domain does not know who will read a failure, so it does not translate: it raises
``Invalid("rating", msg("rating must be 1 to 5."))`` or, where the sentence counts
something, ``msg_n(singular, plural, count, **values)``. The English text is the
catalog's message id (``str()`` of a ``Text`` is that English, exactly as before
catalogs); ``server.i18n`` renders it in the reader's language at the boundary that
answers, from ``server/locale/<lang>/LC_MESSAGES/laurel.po`` (docs/decisions/0035).
``make messages`` extracts every ``msg``/``msg_n`` call into the catalogs.

Placeholders are ``str.format`` fields named by the keyword values. A value named
``field`` is an API field name (``displayName``): other languages show it in plain
words (the catalog's ``field`` context). A value that is itself a ``Text`` is rendered
in the same language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["Text", "msg", "msg_n"]

_NONE: Mapping[str, object] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Text:
    """A message id, its plural id and count (for ``msg_n``), and its values."""

    msgid: str
    params: Mapping[str, object] = field(default_factory=lambda: _NONE)
    plural: str | None = None
    count: int = 1

    def template(self) -> str:
        """The English template this count picks (English: one, or other)."""
        return self.msgid if self.plural is None or self.count == 1 else self.plural

    def __str__(self) -> str:
        values = {k: str(v) if isinstance(v, Text) else v for k, v in self.params.items()}
        return self.template().format(**values)


def msg(msgid: str, /, **params: object) -> Text:
    """A message from the catalog: ``msgid`` is its English text."""
    return Text(msgid, MappingProxyType(params) if params else _NONE)


def msg_n(singular: str, plural: str, count: int, /, **params: object) -> Text:
    """A message whose words depend on ``count`` (its plural forms differ per language)."""
    return Text(singular, MappingProxyType(params), plural, count)
