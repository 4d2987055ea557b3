"""The GraphQL layer: thin, typed, no business rules. ``build_schema`` assembles it."""

from __future__ import annotations

from pathlib import Path

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as _alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as _depth_rule
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from schema.activities import ActivityMutations, ActivityQueries
from schema.badges import BadgeMutations, BadgeQueries, BadgeSubscriptions
from schema.contests import ContestMutations, ContestQueries
from schema.errors import (
    InsufficientPointsError,
    OutOfStockError,
)
from schema.leaderboards import LeaderboardQueries, LeaderboardSubscriptions
from schema.members import MemberMutations, MemberQueries
from schema.prizes import PrizeMutations, PrizeQueries
from schema.rules import RuleMutations, RuleQueries

__all__ = ["SCHEMA_FILE", "build_schema", "print_schema"]

SCHEMA_FILE = Path(__file__).with_name("schema.graphql")

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 2_000

Query = merge_types(
    "Query",
    (
        MemberQueries,
        LeaderboardQueries,
        ActivityQueries,
        RuleQueries,
        BadgeQueries,
        PrizeQueries,
        ContestQueries,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        MemberMutations,
        ActivityMutations,
        RuleMutations,
        BadgeMutations,
        PrizeMutations,
        ContestMutations,
    ),
)
Subscription = merge_types("Subscription", (LeaderboardSubscriptions, BadgeSubscriptions))


# Built once: the validation cache is keyed by the rule classes, and
# QueryDepthLimiter / MaxAliasesLimiter make a new class per instance (per request).
_LIMIT_RULES: list[type[ASTValidationRule]] = [
    _depth_rule(MAX_DEPTH, None, None),
    _alias_rule(MAX_ALIASES),
]


class _Limits(AddValidationRules):
    """Depth and alias limits as validation rules that the validation cache can reuse."""

    def __init__(self) -> None:
        super().__init__(_LIMIT_RULES)


def _unexpected(error: GraphQLError) -> bool:
    """An error from an unexpected exception, not one of our own GraphQLErrors (bad input,
    limits, a dependency down): only these are masked and logged."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


class _Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log what is a bug; a client's bad input is its answer, not a server error."""
        super().process_errors([e for e in errors if _unexpected(e)], execution_context)


def build_schema() -> strawberry.Schema:
    return _Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[InsufficientPointsError, OutOfStockError],
        extensions=[
            _Limits,
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            lambda: MaskErrors(should_mask_error=_unexpected),
            lambda: ParserCache(maxsize=512),
            lambda: ValidationCache(maxsize=512),
        ],
    )


def print_schema() -> str:
    """The SDL as committed in ``schema/schema.graphql``."""
    return str(build_schema()).rstrip() + "\n"
