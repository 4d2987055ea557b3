"""The leaderboard windows enum, shared by member and leaderboard types."""

from __future__ import annotations

from enum import Enum

import strawberry

__all__ = ["LeaderboardWindow"]


@strawberry.enum(description="UTC periods; weeks are ISO weeks (Monday to Sunday).")
class LeaderboardWindow(Enum):
    ALL_TIME = "ALL_TIME"
    YEAR = "YEAR"
    MONTH = "MONTH"
    WEEK = "WEEK"
    DAY = "DAY"
