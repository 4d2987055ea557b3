"""Per-request DataLoaders: a resolver never loops queries.

One loader per relation a list can reach; each batches the keys of one tick
into one use-case call (a constant number of statements). The loaders sit above
every type module: ``contest_results`` makes the nodes of a type that points up
the type graph, so the modules below need not import it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from strawberry.dataloader import DataLoader

from badges import Grant
from schema.contests import ContestPlacement, placement_of
from server import actions
from server.rewards.contests import Contest, Placement
from server.rewards.members import Member
from server.rewards.prizes import Prize
from server.rewards.standings import Standing
from server.rewards.tiers import Tier

__all__ = ["Loaders"]

K = TypeVar("K")
V = TypeVar("V")


def _in_order(keys: Sequence[K], found: Mapping[K, V], missing: V) -> list[V]:
    return [found.get(k, missing) for k in keys]


class Loaders:
    """A fresh set per request, so cached rows never outlive the request; a live
    subscription clears them before each push (``clear``)."""

    def __init__(self, services: actions.Services) -> None:
        self._services = services
        self.member: DataLoader[int, Member | None] = DataLoader(load_fn=self._members)
        self.badges: DataLoader[int, list[Grant]] = DataLoader(load_fn=self._badges)
        self.tier: DataLoader[int, Tier | None] = DataLoader(load_fn=self._held)
        self.standing: DataLoader[int, Standing] = DataLoader(load_fn=self._standings)
        self.tier_by_id: DataLoader[int, Tier | None] = DataLoader(load_fn=self._tiers)
        self.community_rank: DataLoader[tuple[Member, str], actions.CommunityRank] = DataLoader(
            load_fn=self._ranks
        )
        self.contest_results: DataLoader[int, list[ContestPlacement]] = DataLoader(
            load_fn=self._contest_results
        )
        self.contest_placements: DataLoader[int, list[Placement]] = DataLoader(
            load_fn=self._contest_placements
        )
        self.contest: DataLoader[int, Contest | None] = DataLoader(load_fn=self._contests)
        self.prize: DataLoader[int, Prize | None] = DataLoader(load_fn=self._prizes)

    def clear(self) -> None:
        for loader in vars(self).values():
            if isinstance(loader, DataLoader):
                loader.clear_all()

    async def _members(self, ids: Sequence[int]) -> list[Member | None]:
        return _in_order(ids, await actions.members_by_ids(ids), None)

    async def _badges(self, ids: Sequence[int]) -> list[list[Grant]]:
        return _in_order(ids, await actions.member_badges(ids), [])

    async def _held(self, ids: Sequence[int]) -> list[Tier | None]:
        return _in_order(ids, await actions.tiers_held(self._services, ids), None)

    async def _standings(self, ids: Sequence[int]) -> list[Standing]:
        found = await actions.tier_standings(self._services, ids)
        return [found[i] for i in ids]

    async def _tiers(self, ids: Sequence[int]) -> list[Tier | None]:
        ladder = {t.id: t for t in await actions.tier_ladder()}
        return _in_order(ids, ladder, None)

    async def _ranks(self, keys: Sequence[tuple[Member, str]]) -> list[actions.CommunityRank]:
        found: dict[tuple[int, str], actions.CommunityRank] = {}
        for window in {w for _, w in keys}:
            members = [m for m, w in keys if w == window]
            ranks = await actions.community_ranks(self._services, members, window)
            found.update({(m_id, window): r for m_id, r in ranks.items()})
        return [found[(m.id, w)] for m, w in keys]

    async def _contest_results(self, ids: Sequence[int]) -> list[list[ContestPlacement]]:
        placements = await actions.placements_of_members(ids)
        contests = await actions.contests_by_ids(
            sorted({p.contest_id for rows in placements.values() for p in rows})
        )
        members = await self.member.load_many(ids)
        return [
            []
            if m is None
            else [placement_of(p, contests[p.contest_id], m) for p in placements.get(i, [])]
            for i, m in zip(ids, members, strict=True)
        ]

    async def _contest_placements(self, ids: Sequence[int]) -> list[list[Placement]]:
        return _in_order(ids, await actions.placements_of_contests(ids), [])

    async def _contests(self, ids: Sequence[int]) -> list[Contest | None]:
        return _in_order(ids, await actions.contests_by_ids(ids), None)

    async def _prizes(self, ids: Sequence[int]) -> list[Prize | None]:
        return _in_order(ids, await actions.prizes_by_ids(ids), None)
