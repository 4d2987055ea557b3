"""Holdout experiments (ADMIN): start one on a part of the program, end it, read its
report; and what a member is held out of now (README, "Experiments")."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError

from badges.models import BadgeDefinition
from server.actions.common import require
from server.actions.contest_lifecycle import refresh_board
from server.actions.services import Services
from server.auth import Principal, Role
from server.rewards import holdouts, snapshots
from server.rewards import validation as v
from server.rewards.activities import ActivityKind
from server.rewards.contests import Contest, ContestStatus, status_of
from server.rewards.errors import Conflict, Invalid, NotFound
from server.rewards.experiment_report import Report, experiment_report
from server.rewards.experiments import (
    Experiment,
    TargetKind,
    live_key,
    new_salt,
    validate_name,
    validate_percent,
)
from server.rewards.text import msg

__all__ = [
    "create_experiment",
    "end_experiment",
    "experiment_by_id",
    "experiments_list",
    "report_of_experiment",
    "viewer_holdouts",
]

_OVER = (ContestStatus.ENDED, ContestStatus.FINALIZED, ContestStatus.CANCELLED)


async def _target(svc: Services, kind: TargetKind, ref: str) -> tuple[str, Contest | None]:
    """The target's ref as stored, after checking that it exists (and the contest, if it
    is one, is not over)."""
    ref = v.clean_text("ref", ref, max_length=64, allow_empty=True)
    if kind is TargetKind.TIER_MULTIPLIER:
        if ref:
            raise Invalid("ref", msg("The tier multiplier takes no ref; leave it empty."))
        return "", None
    if kind is TargetKind.EARNING_RULE:
        if ref not in {k.value for k in ActivityKind}:
            raise Invalid(
                "ref",
                msg(
                    "No earning rule {ref!r}; name an activity kind such as REVIEW or PURCHASE.",
                    ref=ref,
                ),
            )
        return ref, None
    if kind is TargetKind.BADGE:
        if not ref or not await BadgeDefinition.exists(slug=ref):
            raise Invalid("ref", msg("No badge with the slug {ref!r}.", ref=ref))
        return ref, None
    pk = v.parse_id("ref", ref)
    contest = None if pk is None else await Contest.get_or_none(id=pk)
    if contest is None:
        raise Invalid("ref", msg("No contest with id {ref!r}.", ref=ref))
    if status_of(contest, svc.clock()) in _OVER:
        raise Invalid(
            "ref", msg("This contest is over: an experiment on it would hold no one out.")
        )
    return str(contest.id), contest


async def create_experiment(
    svc: Services,
    principal: Principal,
    *,
    name: str,
    target_kind: TargetKind,
    target_ref: str,
    holdout_percent: int,
) -> Experiment:
    """ADMIN: hold ``holdout_percent`` of the members out of a target from now on."""
    require(principal, Role.ADMIN)
    name = validate_name(name)
    validate_percent(holdout_percent)
    ref, contest = await _target(svc, target_kind, target_ref)
    live = live_key(target_kind, ref)
    try:
        experiment = await Experiment.create(
            name=name,
            target_kind=target_kind,
            target_ref=ref,
            holdout_percent=holdout_percent,
            salt=new_salt(),
            started_at=svc.clock(),
            created_by=principal.actor,
            live_target=live,
        )
    except IntegrityError:
        if await Experiment.exists(live_target=live):
            raise Conflict(
                msg("An experiment on this target is running already; end it first.")
            ) from None
        raise Invalid(
            "name", msg("An experiment named {name!r} exists already.", name=name)
        ) from None
    snapshots.changed()
    await _refresh_contest(svc, contest)
    return experiment


async def end_experiment(svc: Services, principal: Principal, experiment_id: str) -> Experiment:
    """ADMIN: end a running experiment: from now on everyone gets the target again."""
    require(principal, Role.ADMIN)
    experiment = await experiment_by_id(experiment_id)
    won = await Experiment.filter(id=experiment.id, ended_at__isnull=True).update(
        ended_at=max(svc.clock(), experiment.started_at),
        ended_by=principal.actor,
        live_target=None,
    )
    if won != 1:
        raise Conflict(msg("This experiment has ended already."))
    snapshots.changed()
    await experiment.refresh_from_db()
    if experiment.target_kind is TargetKind.CONTEST:
        await _refresh_contest(svc, await Contest.get_or_none(id=int(experiment.target_ref)))
    return experiment


async def _refresh_contest(svc: Services, contest: Contest | None) -> None:
    """A contest's live board from SQL again: the members an experiment holds out (or
    no longer holds out) leave it (or come back) at once."""
    if contest is not None and contest.finalized_at is None:
        await refresh_board(svc, contest)


async def experiment_by_id(experiment_id: str) -> Experiment:
    pk = v.parse_id("id", experiment_id)
    found = None if pk is None else await Experiment.get_or_none(id=pk)
    if found is None:
        raise NotFound(msg("No experiment with id {id!r}.", id=experiment_id))
    return found


async def experiments_list(principal: Principal) -> list[Experiment]:
    """ADMIN: every experiment, newest first."""
    require(principal, Role.ADMIN)
    return await Experiment.all().order_by("-started_at", "-id")


async def report_of_experiment(
    svc: Services, principal: Principal, experiment_id: str
) -> tuple[Experiment, Report]:
    """ADMIN: treatment against holdout over the experiment's period (so far)."""
    require(principal, Role.ADMIN)
    experiment = await experiment_by_id(experiment_id)
    return experiment, await experiment_report(experiment, svc.clock())


async def viewer_holdouts(svc: Services, member_id: int) -> list[tuple[TargetKind, str]]:
    """What the member does not get now, (kind, ref) per running experiment; read only
    where the member's private account is (the caller checked)."""
    return await holdouts.holdouts_of(member_id, svc.clock())
