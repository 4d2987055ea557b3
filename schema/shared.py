"""Types every domain module shares, kept apart so that no domain module is both the
hub of the type graph and a leaf of it."""

from __future__ import annotations

import strawberry

__all__ = ["PageInfo"]


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None
