"""The document limits' errors in the caller's language.

The depth, alias and token limits are strawberry's and graphql-core's own rules, which
word their errors in English; the validation cache even keeps those error objects for
the next request. So they are translated where the answer is written (the view's
``process_result``), by their known English shapes; an English caller, and any other
message, reads them as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from server.i18n.catalogs import LANGUAGES
from server.i18n.context import language
from server.i18n.rendering import render
from server.rewards.text import Text, msg, msg_n

__all__ = ["localize_limits"]

_SHAPES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], Text]], ...] = (
    (
        re.compile(r"'(.{0,200})' exceeds maximum operation depth of (\d{1,6})"),
        lambda m: msg(
            "'{operation}' exceeds maximum operation depth of {most}",
            operation=m[1],
            most=int(m[2]),
        ),
    ),
    (
        re.compile(r"(\d{1,9}) aliases found\. Allowed: (\d{1,6})"),
        lambda m: msg_n(
            "{count} aliases found. Allowed: {most}",
            "{count} aliases found. Allowed: {most}",
            int(m[1]),
            count=int(m[1]),
            most=int(m[2]),
        ),
    ),
    (
        re.compile(
            r"Syntax Error: Document contains more than (\d{1,9}) tokens\. Parsing aborted\."
        ),
        lambda m: msg_n(
            "Syntax Error: Document contains more than {most} tokens. Parsing aborted.",
            "Syntax Error: Document contains more than {most} tokens. Parsing aborted.",
            int(m[1]),
            most=int(m[1]),
        ),
    ),
)


def localize_limits(errors: list[dict[str, Any]]) -> None:
    """Rewrite, in place, the message of each limit error in ``errors``."""
    if language() == LANGUAGES[0]:
        return
    for error in errors:
        message = error.get("message")
        if not isinstance(message, str):
            continue
        for shape, text in _SHAPES:
            found = shape.fullmatch(message)
            if found is not None:
                error["message"] = render(text(found))
                break
