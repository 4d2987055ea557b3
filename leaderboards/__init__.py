"""Leaderboards in Redis: derived from the ledger, rebuildable, the only Redis client.

``Leaderboards`` reads pages and applies board updates (each event once);
``rebuild`` recomputes every board from the ledger; ``EmbeddedValkey`` runs a
private server when no Redis URL is configured; ``publish`` and ``listen``
carry notifications between worker processes; ``RateLimiter`` keeps the request
counters every worker shares.
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
from leaderboards.channels import NotPublished, listen, publish
from leaderboards.embedded import EmbeddedValkey
from leaderboards.rate_limits import Rate, RateLimiter, Verdict, parse_rate
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
    "NotPublished",
    "Rate",
    "RateLimiter",
    "Standing",
    "TTLCache",
    "Verdict",
    "Window",
    "connect",
    "listen",
    "parse_rate",
    "publish",
    "title_for",
]
