"""Holdout experiments for the shop owner (ADMIN): README, "Experiments"."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from schema.context import Info
from schema.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from schema.runner import caller, field, mutation
from server.actions.experiments import (
    create_experiment,
    end_experiment,
    experiments_list,
    report_of_experiment,
)
from server.i18n import render
from server.rewards.experiment_stats import LEVEL, Comparison
from server.rewards.experiments import Arm, TargetKind
from server.rewards.experiments import Experiment as ExperimentRow

__all__ = ["ExperimentMutations", "ExperimentQueries", "ExperimentTarget", "ExperimentTargetKind"]


@strawberry.enum(description="The part of the program an experiment holds members out of.")
class ExperimentTargetKind(Enum):
    EARNING_RULE = "EARNING_RULE"
    BADGE = "BADGE"
    TIER_MULTIPLIER = "TIER_MULTIPLIER"
    CONTEST = "CONTEST"


_REF = (
    "The activity kind of an earning rule (REVIEW, PURCHASE, ...), the badge's slug, or "
    'the contest\'s id; "" for the tier multiplier.'
)


@strawberry.type(description="What a holdout experiment withholds.")
class ExperimentTarget:
    kind: ExperimentTargetKind
    ref: str = strawberry.field(description=_REF)

    @classmethod
    def of(cls, kind: TargetKind, ref: str) -> ExperimentTarget:
        return cls(kind=ExperimentTargetKind(kind.value), ref=ref)


@strawberry.type(description="A holdout experiment: a share of the members go without its target.")
class Experiment:
    id: strawberry.ID
    name: str
    target: ExperimentTarget
    holdout_percent: int = strawberry.field(description="The share of members held out, 1-90.")
    started_at: datetime
    ended_at: datetime | None
    running: bool
    created_by: str

    @classmethod
    def of(cls, row: ExperimentRow) -> Experiment:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            target=ExperimentTarget.of(TargetKind(row.target_kind), row.target_ref),
            holdout_percent=row.holdout_percent,
            started_at=row.started_at,
            ended_at=row.ended_at,
            running=row.ended_at is None,
            created_by=row.created_by,
        )


@strawberry.input
class ExperimentTargetInput:
    kind: ExperimentTargetKind
    ref: str = strawberry.field(default="", description=_REF)


@strawberry.input
class CreateExperimentInput:
    name: str = strawberry.field(description="1 to 80 characters, unique.")
    target: ExperimentTargetInput
    holdout_percent: int = strawberry.field(description="The share of members held out, 1-90.")


@strawberry.type
class ExperimentSaved:
    experiment: Experiment


CreateExperimentResult = Annotated[
    ExperimentSaved | ValidationError | ConflictError | PermissionDeniedError,
    strawberry.union("CreateExperimentResult"),
]
EndExperimentResult = Annotated[
    ExperimentSaved | ValidationError | NotFoundError | ConflictError | PermissionDeniedError,
    strawberry.union("EndExperimentResult"),
]


@strawberry.type
class ConfidenceInterval:
    low: float
    high: float


@strawberry.type(description="One figure: each arm's mean, treatment - holdout, its interval.")
class ExperimentFigure:
    treatment: float | None = strawberry.field(description="The treatment arm's mean.")
    holdout: float | None = strawberry.field(description="The holdout arm's mean.")
    treatment_count: int = strawberry.field(description="Values behind the treatment's mean.")
    holdout_count: int = strawberry.field(description="Values behind the holdout's mean.")
    difference: float | None = strawberry.field(description="treatment - holdout.")
    difference_interval: ConfidenceInterval | None = strawberry.field(
        description="Its 95% confidence interval (Welch's t-test); null when undefined."
    )
    relative_difference: float | None = strawberry.field(
        description="difference / holdout; null when the holdout's mean is 0."
    )
    relative_interval: ConfidenceInterval | None
    warning: str | None = strawberry.field(
        description="Set when an arm has fewer than 30 values, or an interval is undefined."
    )

    @classmethod
    def of(cls, c: Comparison) -> ExperimentFigure:
        def interval(bounds: tuple[float, float] | None) -> ConfidenceInterval | None:
            return None if bounds is None else ConfidenceInterval(low=bounds[0], high=bounds[1])

        return cls(
            treatment=c.treatment.mean,
            holdout=c.holdout.mean,
            treatment_count=c.treatment.n,
            holdout_count=c.holdout.n,
            difference=c.difference,
            difference_interval=interval(c.interval),
            relative_difference=c.relative,
            relative_interval=interval(c.relative_interval),
            warning=" ".join(render(w) for w in c.warnings) or None,
        )


@strawberry.type
class ExperimentArm:
    members: int = strawberry.field(description="Members who joined before the period's end.")
    buyers: int = strawberry.field(description="Of them, those with an order in the period.")


@strawberry.type(description="Treatment against holdout over [start, end) (README, Experiments).")
class ExperimentReport:
    experiment: Experiment
    start: datetime
    end: datetime = strawberry.field(description="When it ended, else now.")
    method: str
    confidence_level: float
    treatment: ExperimentArm
    holdout: ExperimentArm
    retention_rate: ExperimentFigure
    repeat_purchase_rate: ExperimentFigure
    average_order_value_cents: ExperimentFigure
    revenue_per_member_cents: ExperimentFigure
    points_issued_per_member: ExperimentFigure


@strawberry.type
class ExperimentQueries:
    @field(description="ADMIN: every holdout experiment, newest first.")
    async def experiments(self, info: Info) -> list[Experiment]:
        return [Experiment.of(e) for e in await experiments_list(info.context.principal)]

    @field(description="ADMIN: an experiment's uplift, treatment against holdout.")
    async def experiment_report(self, info: Info, id: strawberry.ID) -> ExperimentReport:
        row, report = await report_of_experiment(*caller(info), id)
        figures = {name: ExperimentFigure.of(c) for name, c in report.figures.items()}
        return ExperimentReport(
            experiment=Experiment.of(row),
            start=report.start,
            end=report.end,
            method=report.method,
            confidence_level=LEVEL,
            treatment=ExperimentArm(
                members=report.members[Arm.TREATMENT], buyers=report.buyers[Arm.TREATMENT]
            ),
            holdout=ExperimentArm(
                members=report.members[Arm.HOLDOUT], buyers=report.buyers[Arm.HOLDOUT]
            ),
            retention_rate=figures["retention_rate"],
            repeat_purchase_rate=figures["repeat_purchase_rate"],
            average_order_value_cents=figures["average_order_value_cents"],
            revenue_per_member_cents=figures["revenue_per_member_cents"],
            points_issued_per_member=figures["points_issued_per_member"],
        )


@strawberry.type
class ExperimentMutations:
    @mutation(description="ADMIN: hold a share of the members out of a part of the program.")
    async def create_experiment(
        self, info: Info, input: CreateExperimentInput
    ) -> CreateExperimentResult:
        row = await create_experiment(
            *caller(info),
            name=input.name,
            target_kind=TargetKind(input.target.kind.value),
            target_ref=input.target.ref,
            holdout_percent=input.holdout_percent,
        )
        return ExperimentSaved(experiment=Experiment.of(row))

    @mutation(description="ADMIN: end a running experiment; everyone gets its target again.")
    async def end_experiment(self, info: Info, id: strawberry.ID) -> EndExperimentResult:
        return ExperimentSaved(experiment=Experiment.of(await end_experiment(*caller(info), id)))
