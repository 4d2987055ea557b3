"""The reader's language: which one a request asks for, and messages rendered in it.

English is the message ids themselves; Russian, Bulgarian, Latvian and Georgian come
from gettext catalogs, ``server/locale/<lang>/LC_MESSAGES/laurel.po``, read with Babel
when the app starts (no compiled ``.mo`` files: docs/decisions/0035). ``Localized``, a
pure ASGI middleware, picks each request's language from ``Accept-Language`` (its
q-values honoured, English when none of ours is asked for) into a context variable;
the boundaries that answer (``schema.errors``, the JSON error bodies) call ``render``,
which reads it. Nothing is translated at import time.
"""

from __future__ import annotations

from server.i18n.catalogs import LANGUAGES, LOCALE_DIR, load_catalogs, translations
from server.i18n.context import Localized, choose, language, using
from server.i18n.negotiation import negotiate
from server.i18n.rendering import render

__all__ = [
    "LANGUAGES",
    "LOCALE_DIR",
    "Localized",
    "choose",
    "language",
    "load_catalogs",
    "negotiate",
    "render",
    "translations",
    "using",
]
