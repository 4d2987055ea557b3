"""The consumers of the event log that Laurel runs, and the services that run them.

* ``boards`` projects points events onto the Redis boards (each event once per board,
  by its id), and rebuilds the boards itself when Redis lost them;
* ``effects`` grants and revokes badges and records tier changes for events whose
  request did not finish that work (a worker killed after the commit, the database
  lost on the way); it leaves events younger than ``EFFECTS_GRACE`` to their request;
* ``live`` publishes granted badges to the subscribers, late ones included once Redis
  is back, unless older than ``LIVE_MAX_AGE``;
* ``webhooks`` makes the outgoing webhook messages of the events the endpoints want
  (``server.actions.webhook_sender`` sends them);
* ``hooks`` applies the shop deliveries the worker that took them did not apply (it
  was killed, or the database failed): those older than ``HOOKS_GRACE`` still open.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from badges import Metric
from leaderboards import ContestUpdate, Leaderboards
from server.actions.effects import CAUSES_OF_EFFECTS, evaluate_badges
from server.actions.hook_apply import apply_delivery, open_deliveries
from server.actions.rebuilds import boards_health, heal_boards
from server.actions.services import Services, make_services
from server.actions.viewer_live import VIEWER, VIEWER_CAUSES, announce_viewers
from server.actions.webhook_messages import WEBHOOK_CAUSES, make_messages
from server.events import (
    BOARDS,
    EFFECTS,
    HOOKS,
    LIVE,
    LIVE_MAX_AGE,
    WEBHOOKS,
    Consumer,
    EventLog,
)
from server.rewards import holdouts
from server.rewards.activities import Activity, ActivityKind
from server.rewards.contests import Contest, Disqualification, counts
from server.rewards.errors import Conflict
from server.rewards.events import ConsumerState, EffectsDone, Event, EventType
from server.settings import Settings

__all__ = ["EFFECTS_GRACE", "HOOKS_GRACE", "install_consumers", "services_for"]

_log = logging.getLogger("laurel.consumers")

EFFECTS_GRACE = 5.0  # seconds a request has to carry out its own events' effects
HOOKS_GRACE = 5.0  # seconds the worker that took a delivery has to apply it

_POINTS = frozenset(
    {
        EventType.POINTS_CREDITED,
        EventType.POINTS_REVERSED,
        EventType.POINTS_SPENT,
        EventType.POINTS_EXPIRED,
        EventType.POINTS_RELEASED,
    }
)
# Points that effects pay themselves (bonuses): evaluating them again is their job.
_EFFECT_ACTORS = frozenset({"badges", "tiers"})


def services_for(settings: Settings, boards: Leaderboards | None) -> Services:
    """The services of a process configured by ``settings``, with its consumers."""
    svc = make_services(settings, boards)
    if settings.run_consumers:
        install_consumers(svc)
    # Test-only: stop forever right after a commit, before its effects (fault tests).
    svc.events.pause_after_commit = os.environ.get("LAUREL_TEST_PAUSE_AFTER_COMMIT")
    return svc


def install_consumers(svc: Services) -> None:
    """Give ``svc.events`` Laurel's consumers (a process runs them in the background)."""

    async def project(events: Sequence[Event]) -> None:
        await _project(svc, events)

    async def ready(inline: bool) -> bool:
        return await _boards_ready(svc, inline)

    async def effects(events: Sequence[Event]) -> None:
        await _effects(svc, events)

    async def live(events: Sequence[Event]) -> None:
        await _live(svc.events, events)

    async def webhooks(events: Sequence[Event]) -> None:
        await make_messages(events, svc.clock())

    async def viewers(events: Sequence[Event]) -> None:
        await announce_viewers(svc, events)

    async def hooks(events: Sequence[Event]) -> None:
        wanted = [int(e.payload["delivery"]) for e in events]
        still = await open_deliveries(wanted)  # most were applied by their worker
        for delivery in wanted:  # in order: a held refund may wait for an earlier order
            if delivery in still:
                await apply_delivery(svc, delivery)

    svc.events.install(
        [
            Consumer(BOARDS, project, _POINTS, inline=True, ready=ready),
            Consumer(EFFECTS, effects, CAUSES_OF_EFFECTS, grace=EFFECTS_GRACE, batch=200),
            Consumer(LIVE, live, frozenset({EventType.BADGE_GRANTED}), inline=True),
            Consumer(HOOKS, hooks, frozenset({EventType.HOOK_RECEIVED}), grace=HOOKS_GRACE),
            Consumer(WEBHOOKS, webhooks, WEBHOOK_CAUSES),
            Consumer(VIEWER, viewers, VIEWER_CAUSES),
        ]
    )


# The board projector.


@dataclass(slots=True)
class _Change:
    """A change of earned points as the boards take it (``id``: its event's)."""

    id: int
    member_id: int
    community: str | None
    delta: int
    occurred_at: datetime
    activity_id: int | None


async def _boards_ready(svc: Services, inline: bool) -> bool:
    """The boards may move: Redis holds the boards SQL expects and no rebuild runs.
    When Redis lost them, the background pass rebuilds them first (inline passes wait)."""
    health = await boards_health(svc)
    if health.redis == "ok":
        return True
    if health.redis == "down" or inline:
        return False
    _log.warning("the boards in Redis are gone or stale (epoch %s): rebuilding", health.epoch)
    try:
        done = await heal_boards(svc)
    except Conflict:
        return False  # another process started one first
    if done is None:
        return False
    _log.warning("boards rebuilt: %d boards from %d entries", done.boards, done.entries)
    return True


async def _project(svc: Services, events: Sequence[Event]) -> None:
    boards = svc.boards
    if boards is None:
        raise RuntimeError("the board projector needs Redis")
    row = await ConsumerState.get(name=BOARDS)
    covered = int(row.state.get("covered", 0))  # in the boards since their rebuild
    changes = [
        _Change(
            id=e.id,
            member_id=int(e.member_id or 0),
            community=e.payload.get("community"),
            delta=int(e.payload["lifetime_delta"]),
            occurred_at=datetime.fromisoformat(e.payload["occurred_at"]),
            activity_id=e.payload.get("activity_id"),
        )
        for e in events
        if e.payload.get("lifetime_delta") and int(e.payload["entry_id"]) > covered
    ]
    if not changes:
        return
    changed = await boards.apply(changes)
    changed |= await boards.apply_contests(await _contest_updates(changes))
    await boards.announce(changed)


async def _contest_updates(changes: Sequence[_Change]) -> list[ContestUpdate]:
    """The part of each change that counts for a contest not yet finalized."""
    contests = await Contest.filter(
        published_at__isnull=False, cancelled_at__isnull=True, finalized_at__isnull=True
    )
    if not contests:
        return []
    ids = {c.activity_id for c in changes if c.activity_id is not None}
    activities = {a.id: a for a in await Activity.filter(id__in=list(ids))}
    banned = set(
        await Disqualification.filter(
            contest_id__in=[c.id for c in contests], active=True
        ).values_list("contest_id", "member_id")
    )
    banned |= await holdouts.contest_exclusions(
        [(c.id, c.ends_at) for c in contests], {c.member_id for c in changes}
    )
    out: list[ContestUpdate] = []
    for change in changes:
        activity = activities.get(change.activity_id or 0)
        if activity is None:
            continue
        for contest in contests:
            if (contest.id, change.member_id) in banned:
                continue
            if counts(contest, activity.kind.value, activity.occurred_at, change.community):
                out.append(
                    ContestUpdate(
                        change.id, contest.id, contest.ends_at, change.member_id, change.delta
                    )
                )
    return out


# The badge granter and tier tracker.


async def _effects(svc: Services, events: Sequence[Event]) -> None:
    """Evaluate, per member, the badges these events can affect (and the tier): the
    granter's unique keys make a level granted once however often this runs."""
    ids = [e.id for e in events]
    done = set(await EffectsDone.filter(event_id__in=ids).values_list("event_id", flat=True))
    todo = [e for e in events if e.id not in done]
    activity_ids = {int(a) for e in todo if (a := e.payload.get("activity_id"))}
    kind_of = dict(await Activity.filter(id__in=list(activity_ids)).values_list("id", "kind"))
    kinds: dict[int, set[ActivityKind]] = defaultdict(set)
    metrics: dict[int, set[Metric]] = defaultdict(set)
    for event in todo:
        payload = event.payload
        if event.type is EventType.CONTEST_FINALIZED:
            for member_id in payload.get("members", []):
                metrics[int(member_id)].add(Metric.CONTESTS_WON)
            continue
        if event.member_id is None:
            continue
        if event.type in _POINTS:
            if payload.get("actor") in _EFFECT_ACTORS:
                continue
            metrics[event.member_id].add(Metric.LIFETIME_POINTS)
        kind = payload.get("kind") if event.type not in _POINTS else None
        kind = kind or kind_of.get(int(payload.get("activity_id") or 0))
        if kind:
            kinds[event.member_id].add(ActivityKind(kind))
    for member_id in sorted(set(kinds) | set(metrics)):
        await evaluate_badges(svc, member_id, kinds[member_id], metrics=metrics[member_id])
    if done:
        await EffectsDone.filter(event_id__in=list(done)).delete()


# Live notifications.


async def _live(log: EventLog, events: Sequence[Event]) -> None:
    """Publish each granted level; raises while Redis is down, so they wait in the log."""
    now = datetime.now(UTC)
    for event in events:
        if event.member_id is None or now - event.created_at > LIVE_MAX_AGE:
            continue
        await log.publish_badge(event.member_id, int(event.payload["award_id"]))
