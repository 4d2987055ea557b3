"""How far each consumer of the event log stands (for ``/healthz`` and ``laurel status``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from server.rewards.events import ConsumerState, Event

__all__ = ["ConsumerStatus", "consumer_status"]


@dataclass(frozen=True, slots=True)
class ConsumerStatus:
    name: str
    position: int
    lag: int  # events after the cursor
    late: int  # ids it passed that were not committed yet (dropped after GAP_SECONDS)
    oldest_seconds: float  # age of the oldest event not yet handled (0 without any)
    failures: int
    last_error: str | None
    lease_owner: str | None


async def consumer_status(names: Sequence[str]) -> list[ConsumerStatus]:
    """Each named consumer's cursor, lag, failures and lease holder."""
    out = []
    rows = {r.name: r for r in await ConsumerState.filter(name__in=list(names))}
    now = datetime.now(UTC)
    for name in names:
        row = rows.get(name) or ConsumerState(name=name)
        behind = Event.filter(id__gt=row.position)
        oldest = await behind.order_by("id").first()
        out.append(
            ConsumerStatus(
                name=name,
                position=row.position,
                lag=await behind.count(),
                late=len(row.gaps or []),
                oldest_seconds=0.0
                if oldest is None
                else max(0.0, (now - oldest.created_at).total_seconds()),
                failures=row.failures,
                last_error=row.last_error,
                lease_owner=row.lease_owner,
            )
        )
    return out
