"""The community page's first leaderboard rows, in its first HTTP response.

A visitor sees the all-time top rows before any script runs; community.js then
replaces them with the live board (the same rows, so nothing flashes). The rows come
from the use case the GraphQL ``leaderboard`` field calls, so they share its short
cache (``Services.board_cache``: LAUREL_LEADERBOARD_CACHE_SECONDS). Without Redis the
page still renders, with an empty board and a message.
"""

from __future__ import annotations

from html import escape

from server import actions
from server.actions import Services

__all__ = ["FIRST_ROWS", "board_html", "with_board"]

FIRST_ROWS = 10
_TBODY = '<tbody id="board"></tbody>'
_STATUS = '<p id="board-status" class="muted" role="status" data-i18n="common.loading">Loading…</p>'


def _row(rank: int, name: str, score: int, member_id: int) -> str:
    return (
        f'<tr data-member="{member_id}"><td>{rank}</td><td>{escape(name)}</td>'
        f'<td class="num">{score:,}</td></tr>'
    )


def _status(total: int) -> str:
    if not total:
        key, text = "board.empty", "No points earned in this period yet."
        return f'<p id="board-status" class="muted" role="status" data-i18n="{key}">{text}</p>'
    # A counted message: community.js writes it in the page's language from data-count.
    word = "member" if total == 1 else "members"
    return (
        f'<p id="board-status" class="muted" role="status" data-count="{total}">'
        f"{total:,} {word} with points</p>"
    )


async def board_html(svc: Services) -> tuple[str, str]:
    """The board's ``<tbody>`` with the all-time top rows, and its status line."""
    try:
        board = await actions.parse_board("ALL_TIME", None, None)
        page = await actions.leaderboard(svc, board, first=FIRST_ROWS, offset=0)
    except actions.BoardsUnavailable:
        unavailable = (
            '<p id="board-status" class="muted" role="status" data-i18n="board.unavailable">'
            "The leaderboard is not available right now.</p>"
        )
        return '<tbody id="board" data-served=""></tbody>', unavailable
    rows = "".join(_row(r.rank, m.display_name, r.score, m.id) for r, m in page.rows)
    return f'<tbody id="board" data-served="ALL_TIME">{rows}</tbody>', _status(page.total_members)


async def with_board(html: str, svc: Services | None) -> str:
    """``index.html`` with the board's first rows filled in (unchanged without services)."""
    if svc is None or _TBODY not in html or _STATUS not in html:
        return html
    body, status = await board_html(svc)
    return html.replace(_TBODY, body, 1).replace(_STATUS, status, 1)
