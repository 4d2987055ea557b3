"""Reading a client's JSON (request bodies, ``variables`` in a URL, WebSocket messages).

Strawberry's view reads JSON with ``json.loads`` and refuses only what raises
``JSONDecodeError``: bytes that are not UTF-8, nesting deeper than Python's recursion
limit, integers of more than 4,300 digits and a top level that is not an object each
failed further on as a 500. ``decode`` refuses all of them as ``BadJSON`` (a
``JSONDecodeError``, so a WebSocket message closes that socket with 4400 as any
malformed one does) with a message that names the problem. Lone surrogates
(``"\\ud800"``) are let through here: the argument that carries one is refused as
a ``ValidationError`` naming its field (``server.rewards.validation.argument_text``).
"""

from __future__ import annotations

import json
from typing import Any

from server.rewards.text import Text, msg, msg_n

__all__ = ["MAX_NESTING", "BadJSON", "decode", "encode_fallback"]

# The deepest input type (a contest's prizes in an input) is four levels; a document's
# variables, extensions and the body around them need a few more.
MAX_NESTING = 32
_KINDS = {
    str: msg("a string"),
    int: msg("a number"),
    float: msg("a number"),
    bool: msg("a boolean"),
}


class BadJSON(json.JSONDecodeError):
    """Malformed JSON; ``text`` is the message for the client (``reason`` its English)."""

    def __init__(self, text: Text) -> None:
        super().__init__(str(text), "", 0)
        self.text = text
        self.reason = str(text)


def decode(data: str | bytes, *, top_level_object: bool = True) -> Any:
    """The JSON value of ``data``: an object (or a list, which the view refuses as a batch)
    unless ``top_level_object`` is false."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadJSON(
                msg("The body is not UTF-8 (a bad byte at offset {offset}).", offset=exc.start)
            ) from None
    else:
        text = data
    try:
        value = json.loads(text)
    except RecursionError:
        raise BadJSON(_too_deep()) from None
    except json.JSONDecodeError as exc:
        raise BadJSON(
            msg(
                "Not valid JSON: {problem} (line {line}, column {column}).",
                problem=exc.msg,
                line=exc.lineno,
                column=exc.colno,
            )
        ) from None
    except ValueError:  # an integer of more than sys.get_int_max_str_digits() digits
        raise BadJSON(msg("The JSON has a number too large to read.")) from None
    if top_level_object and not isinstance(value, dict | list):
        kind = _KINDS.get(type(value), "null")
        raise BadJSON(msg("Expected a JSON object, got {kind}.", kind=kind))
    _check_nesting(value)
    return value


def _check_nesting(value: Any) -> None:
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        current, depth = pending.pop()
        if depth > MAX_NESTING:
            raise BadJSON(_too_deep())
        if isinstance(current, dict):
            pending.extend((item, depth + 1) for item in current.values())
        elif isinstance(current, list):
            pending.extend((item, depth + 1) for item in current)


def _too_deep() -> Text:
    return msg_n(
        "The JSON is nested more than {most} levels deep.",
        "The JSON is nested more than {most} levels deep.",
        MAX_NESTING,
        most=MAX_NESTING,
    )


def encode_fallback(data: object) -> bytes:
    """JSON for a response orjson refuses (a lone surrogate quoted in an error message):
    escaped as ``\\udXXX``, as the client sent it."""
    return json.dumps(data, separators=(",", ":"), default=str).encode()
