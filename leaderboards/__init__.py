"""Leaderboards in Redis: derived from the ledger, rebuildable, the only Redis client.

``Leaderboards`` reads pages and applies board updates (each event once);
``rebuild`` recomputes every board from the ledger; ``EmbeddedValkey`` runs a
private server when no Redis URL is configured; ``publish`` and ``listen``
carry notifications between worker processes.
"""

from leaderboards.boards import (
    BoardPage,
    BoardRow,
    BoardsUnavailable,
    ContestUpdate,
    Leaderboards,
    Standing,
    connect,
)
from leaderboards.cache import TTLCache
from leaderboards.channels import listen, publish
from leaderboards.embedded import EmbeddedValkey
from leaderboards.titles import DEFAULT_BANDS, NO_SCORE, Band, title_for
from leaderboards.windows import Board, Window

__all__ = [
    "DEFAULT_BANDS",
    "NO_SCORE",
    "Band",
    "Board",
    "BoardPage",
    "BoardRow",
    "BoardsUnavailable",
    "ContestUpdate",
    "EmbeddedValkey",
    "Leaderboards",
    "Standing",
    "TTLCache",
    "Window",
    "connect",
    "listen",
    "publish",
    "title_for",
]
