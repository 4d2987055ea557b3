"""The GraphQL layer: thin, typed, no business rules. ``build_schema`` assembles it;
``request_context`` builds each request's context with fresh DataLoaders.

Type modules import one another one way (shared -> tiers, badges, ranks -> members ->
activities, leaderboards -> contests -> prizes, accounts -> the mutation modules);
the loaders sit on top. ``make check`` keeps the graph acyclic.
"""

from __future__ import annotations

from pathlib import Path

import strawberry
from graphql import ASTValidationRule, GraphQLError, ValidationContext
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as _alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as _depth_rule
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from schema.accounts import AccountQueries
from schema.activity_mutations import ActivityMutations, ModerationQueries
from schema.api_keys import ApiKeyMutations, ApiKeyQueries
from schema.badge_mutations import BadgeArtQueries, BadgeMutations
from schema.badges import BadgeQueries, BadgeSubscriptions
from schema.contest_mutations import ContestMutations
from schema.contests import ContestQueries
from schema.context import Context
from schema.cost import QueryCost
from schema.discounts import DiscountMutations, DiscountQueries
from schema.errors import InsufficientPointsError, OutOfStockError
from schema.experiments import ExperimentMutations, ExperimentQueries
from schema.integrations import IntegrationMutations, IntegrationQueries
from schema.leaderboards import LeaderboardQueries, LeaderboardSubscriptions
from schema.loaders import Loaders
from schema.masking import Masking, transient, unexpected
from schema.member_mutations import MemberMutations
from schema.members import MemberQueries
from schema.metrics import MetricsQueries
from schema.prize_mutations import PrizeMutations
from schema.prizes import PrizeQueries
from schema.rules import RuleMutations, RuleQueries
from schema.shop import ShopMutations, ShopQueries
from schema.simulate import SimulationQueries
from schema.tiers import TierMutations, TierQueries
from schema.viewer_live import ViewerSubscriptions
from schema.webhooks import WebhookMutations, WebhookQueries
from server.actions import Services
from server.auth import Principal

__all__ = [
    "DEFAULT_MAX_QUERY_COST",
    "SCHEMA_FILE",
    "Context",
    "build_schema",
    "print_schema",
    "request_context",
]

SCHEMA_FILE = Path(__file__).with_name("schema.graphql")

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 2_000
# Checked before parsing: 2,000 tokens fit in far less, and graphql-core reads a long
# string literal (one token) character by character while nothing else runs.
MAX_QUERY_CHARS = 100_000
# The costliest reference page (a board of 100 with tier, badges and community rank)
# costs about 1,100; this leaves room without letting one document stall a worker.
DEFAULT_MAX_QUERY_COST = 5_000

Query = merge_types(
    "Query",
    (
        AccountQueries,
        MemberQueries,
        LeaderboardQueries,
        ModerationQueries,
        RuleQueries,
        BadgeQueries,
        BadgeArtQueries,
        TierQueries,
        PrizeQueries,
        ContestQueries,
        IntegrationQueries,
        ApiKeyQueries,
        DiscountQueries,
        MetricsQueries,
        ExperimentQueries,
        WebhookQueries,
        ShopQueries,
        SimulationQueries,
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
        TierMutations,
        ContestMutations,
        IntegrationMutations,
        ApiKeyMutations,
        DiscountMutations,
        ExperimentMutations,
        WebhookMutations,
        ShopMutations,
    ),
)
Subscription = merge_types(
    "Subscription", (LeaderboardSubscriptions, BadgeSubscriptions, ViewerSubscriptions)
)


# Built once: the validation cache is keyed by the rule classes, and
# QueryDepthLimiter / MaxAliasesLimiter make a new class per instance (per request).
_DepthRule = _depth_rule(MAX_DEPTH, None, None)


class _Depth(_DepthRule):  # type: ignore[misc,valid-type]
    """strawberry's depth limit, which raises KeyError on a spread of a fragment the
    document does not define; graphql-core's KnownFragmentNames then says so."""

    def __init__(self, context: ValidationContext) -> None:
        try:
            super().__init__(context)
        except KeyError:
            ASTValidationRule.__init__(self, context)


_LIMIT_RULES: list[type[ASTValidationRule]] = [
    _Depth,
    _alias_rule(MAX_ALIASES),
]


class _Limits(AddValidationRules):
    """Depth and alias limits as validation rules that the validation cache can reuse."""

    def __init__(self) -> None:
        super().__init__(_LIMIT_RULES)


class _Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log what is a bug; a client's bad input is its answer, not a server error."""
        bugs = [e for e in errors if unexpected(e) and not transient(e)]
        super().process_errors(bugs, execution_context)


def build_schema(
    max_query_cost: int = DEFAULT_MAX_QUERY_COST,
    max_page_size: int = 100,
    *,
    introspection: bool = True,
) -> strawberry.Schema:
    """The schema with its guards: ``LAUREL_MAX_QUERY_COST``, ``LAUREL_MAX_PAGE_SIZE`` and,
    with ``LAUREL_INTROSPECTION=false``, no ``__schema`` / ``__type`` (``__typename`` stays)."""
    hidden: list[type[AddValidationRules]] = [] if introspection else [DisableIntrospection]
    return _Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[InsufficientPointsError, OutOfStockError],
        extensions=[
            _Limits,
            *hidden,
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            Masking,
            lambda: ParserCache(maxsize=512),
            lambda: ValidationCache(maxsize=512),
            # After the validation cache: only a valid document is costed.
            lambda: QueryCost(limit=max_query_cost, max_page_size=max_page_size),
        ],
    )


def print_schema() -> str:
    """The SDL as committed in ``schema/schema.graphql``."""
    return str(build_schema()).rstrip() + "\n"


def request_context(
    principal: Principal,
    services: Services,
    request: Request | WebSocket | None = None,
    response: Response | None = None,
) -> Context:
    """The context of one request (or one subscription connection); ``response`` is the
    HTTP response strawberry will send, whose status and headers resolvers may set."""
    return Context(
        principal=principal,
        services=services,
        loaders=Loaders(services),
        request=request,
        response=response,
    )
