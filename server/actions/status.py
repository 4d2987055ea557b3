"""What ``/healthz`` and ``laurel status`` report: the database, Redis and its boards,
and how far behind each consumer of the event log is."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from server.actions.rebuilds import boards_health
from server.actions.services import Services
from server.events import ConsumerStatus
from server.rewards.events import Event

__all__ = ["Status", "status"]


@dataclass(frozen=True, slots=True)
class Status:
    database: bool
    redis: str  # ok | rebuilding | down
    consumers: list[ConsumerStatus] = field(default_factory=list)
    last_event: int = 0
    depth: int = 0  # events some consumer has not handled yet

    @property
    def ok(self) -> bool:
        return self.database and self.redis == "ok"

    def as_json(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else "degraded",
            "database": self.database,
            "redis": self.redis,
            "events": {
                "last": self.last_event,
                "depth": self.depth,
                "consumers": {
                    c.name: {
                        "position": c.position,
                        "lag": c.lag,
                        "late": c.late,
                        "oldestSeconds": round(c.oldest_seconds, 1),
                        "failures": c.failures,
                        "lastError": c.last_error,
                        "leaseOwner": c.lease_owner,
                    }
                    for c in self.consumers
                },
            },
        }


async def status(svc: Services) -> Status:
    """The state of this installation as one process sees it."""
    try:
        last = await Event.all().order_by("-id").first()
        consumers = await svc.events.status()
    except Exception:  # the database is down: nothing more to say
        return Status(database=False, redis=(await _redis_only(svc)))
    health = await boards_health(svc)
    return Status(
        database=True,
        redis=health.redis,
        consumers=consumers,
        last_event=0 if last is None else last.id,
        depth=max((c.lag for c in consumers), default=0),
    )


async def _redis_only(svc: Services) -> str:
    return "ok" if svc.boards is not None and await svc.boards.ping() else "down"
