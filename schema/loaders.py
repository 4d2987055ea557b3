"""Per-request DataLoaders: a resolver never loops queries."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from badges import Grant
from server.actions import member_badges, members_by_ids
from server.rewards.members import Member

__all__ = ["Loaders"]


async def _load_members(ids: Sequence[int]) -> list[Member | None]:
    found = await members_by_ids(ids)
    return [found.get(i) for i in ids]


async def _load_badges(ids: Sequence[int]) -> list[list[Grant]]:
    found = await member_badges(ids)
    return [found.get(i, []) for i in ids]


class Loaders:
    """A fresh set per request, so cached rows never outlive the request."""

    def __init__(self) -> None:
        self.member: DataLoader[int, Member | None] = DataLoader(load_fn=_load_members)
        self.badges: DataLoader[int, list[Grant]] = DataLoader(load_fn=_load_badges)
