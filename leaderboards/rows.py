"""What a board read returns: ranked rows, pages and one member's standing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["BoardPage", "BoardRow", "Standing", "rows_of", "standing_of"]


@dataclass(frozen=True, slots=True)
class BoardRow:
    rank: int
    score: int
    member_id: int


@dataclass(frozen=True, slots=True)
class BoardPage:
    total_members: int
    rows: list[BoardRow]


@dataclass(frozen=True, slots=True)
class Standing:
    """A member on one board: competition position (None without a score), score, total."""

    position: int | None
    score: int
    total_members: int


def rows_of(flat: list[Any], start: int, first_rank: int) -> list[BoardRow]:
    """Competition ranks for consecutive rows from position ``start`` (0-based)."""
    rows: list[BoardRow] = []
    for i in range(0, len(flat), 2):
        member_id, score = int(flat[i]), int(float(flat[i + 1]))
        if rows and rows[-1].score == score:
            rank = rows[-1].rank
        elif rows:
            rank = start + i // 2 + 1  # everyone above scored strictly more
        else:
            rank = first_rank
        rows.append(BoardRow(rank=rank, score=score, member_id=member_id))
    return rows


def standing_of(raw: list[Any]) -> Standing:
    total, position, score = int(raw[0]), int(raw[1]), int(float(raw[2]))
    return Standing(position=position or None, score=max(0, score), total_members=total)
