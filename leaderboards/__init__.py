"""Leaderboards in Redis: derived from the ledger, rebuildable, the only Redis client.

``Leaderboards`` reads pages and applies board updates; ``flush_outbox`` moves
committed updates from SQL to Redis exactly once; ``EmbeddedValkey`` runs a
private server when no Redis URL is configured; ``publish`` and ``listen``
carry notifications between worker processes.
"""

from leaderboards.boards import (
    BoardPage,
    BoardRow,
    BoardsUnavailable,
    Leaderboards,
    Standing,
    connect,
)
from leaderboards.cache import TTLCache
from leaderboards.channels import listen, publish
from leaderboards.embedded import EmbeddedValkey
from leaderboards.outbox import flush_outbox
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
    "EmbeddedValkey",
    "Leaderboards",
    "Standing",
    "TTLCache",
    "Window",
    "connect",
    "flush_outbox",
    "listen",
    "publish",
    "title_for",
]
