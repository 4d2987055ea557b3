"""``make messages``: the API's field names, for the catalogs to say in plain words.

A message such as "{field} must not be empty." names the input field at fault; in
English it stays the API's name (``displayName``), in the other languages it reads as
words ("Отображаемое имя"). Every argument and input field of the printed schema is a
catalog entry in the ``field`` context, so a field added to the API is a message the
catalog test finds untranslated.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from graphql import GraphQLInputObjectType, GraphQLObjectType, build_schema

__all__ = ["EXTRA_FIELDS", "extract_fields"]

# Fields named by error messages that are not GraphQL arguments (URL parameters).
EXTRA_FIELDS = ("size",)


def extract_fields(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, tuple[str, str], list[str]]]:
    """A Babel extraction method for ``schema/schema.graphql``: one ``pgettext("field",
    name)`` per argument or input field name."""
    schema = build_schema(fileobj.read().decode("utf-8"))
    names: set[str] = set(EXTRA_FIELDS)
    for kind in schema.type_map.values():
        if kind.name.startswith("__"):
            continue
        if isinstance(kind, GraphQLInputObjectType):
            names.update(kind.fields)
        elif isinstance(kind, GraphQLObjectType):
            for field in kind.fields.values():
                names.update(field.args)
    for name in sorted(names):
        yield 1, "pgettext", ("field", name), ["An API field name; say it in plain words."]
