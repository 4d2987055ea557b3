"""Use cases: one async verb per user action, taking explicit arguments and a Principal.

GraphQL resolvers and the CLI only call these. Expected failures are raised
as ``RewardsError`` subclasses and shown to callers as typed errors; every
point-moving call is idempotent by key, scoped to the caller so that two
shoppers' keys never collide. A board read while Redis is down raises
``BoardsUnavailable``; a ``Board`` is what ``parse_board`` makes of a client's
window, community or contest, for the board reads. Batch reads (``..._by_ids``, ``tier_standings``,
``community_ranks``, ``placements_of_members``) take a constant number of
queries however many ids, for per-request DataLoaders. A use case that fails because the
database is away raises whatever the driver raised; ``is_transient`` tells it from a bug.
"""

from leaderboards import Board, BoardsUnavailable
from server.actions.badges import (
    Exported,
    HostedAssertion,
    Revoked,
    badge_awards,
    badge_catalog,
    badge_image,
    badge_progress,
    badges_by_slug,
    define_badge,
    export_badge,
    hosted_assertion,
    member_badges,
    reevaluate_badges,
    revoke_badge,
    update_badge,
)
from server.actions.boards import (
    GLOBAL_COMMUNITY,
    CommunityRank,
    RankedPage,
    board_changes,
    community_rank,
    community_ranks,
    leaderboard,
    leaderboard_around,
    parse_board,
)
from server.actions.common import Recorded
from server.actions.community import (
    ActivityPage,
    activities_page,
    activity_cursor,
    record_share,
    submit_review,
)
from server.actions.consumers import install_consumers, services_for
from server.actions.contest_lifecycle import (
    ContestFields,
    cancel_contest,
    create_contest,
    disqualify,
    publish_contest,
    reinstate,
    update_contest,
)
from server.actions.contest_results import (
    Finalized,
    contest_board,
    finalize_contest,
    placements_of_contest,
    placements_of_contests,
    placements_of_member,
    placements_of_members,
)
from server.actions.contests import (
    contest_by_id,
    contest_status,
    contests_by_ids,
    contests_list,
    visible_contest,
)
from server.actions.discounts import (
    DiscountRedeemed,
    redeem_points_for_discount,
    update_discount_rule,
)
from server.actions.effects import inline_effects
from server.actions.hook_apply import apply_delivery
from server.actions.hooks import (
    HookRefused,
    Received,
    create_integration,
    hook_deliveries,
    integrations,
    receive_hook,
    rotate_integration_secret,
)
from server.actions.members import account, member, members_by_ids, upsert_member, viewer
from server.actions.metrics import Interval, Metrics, program_metrics
from server.actions.moderation import Decision, moderate_activity, moderation_queue
from server.actions.points import (
    Adjusted,
    Expiring,
    LedgerPage,
    adjust_points,
    expire_points,
    expiring_points,
    ledger_cursor,
    ledger_page,
    release_pending,
)
from server.actions.prizes import (
    PrizeFields,
    PrizePage,
    archive_prize,
    create_prize,
    load_codes,
    prize_cursor,
    prizes_by_ids,
    prizes_page,
    update_prize,
)
from server.actions.purchases import record_purchase, refund_purchase
from server.actions.rebuilds import (
    BoardsHealth,
    Rebuilt,
    adopt_boards,
    boards_health,
    check_leaderboards,
    heal_boards,
    rebuild_leaderboards,
)
from server.actions.redemptions import (
    Redeemed,
    RedemptionView,
    cancel_redemption,
    fulfill_redemption,
    redeem_prize,
    redemptions_of,
)
from server.actions.rules import earning_rules, update_earning_rule
from server.actions.services import Services, utcnow
from server.actions.status import Status, status
from server.actions.tiers import (
    tier_ladder,
    tier_standing,
    tier_standings,
    tiers_held,
    update_tier,
)
from server.actions.webhooks import (
    create_webhook_endpoint,
    redeliver_webhook,
    rotate_webhook_secret,
    update_webhook_endpoint,
    webhook_endpoints,
    webhook_messages,
)
from server.failures import (
    RETRY_AFTER_SECONDS,
    UNAVAILABLE_CODE,
    UNAVAILABLE_MESSAGE,
    is_transient,
)
from server.rewards.discounts import discount_rule

__all__ = [
    "GLOBAL_COMMUNITY",
    "RETRY_AFTER_SECONDS",
    "UNAVAILABLE_CODE",
    "UNAVAILABLE_MESSAGE",
    "ActivityPage",
    "Adjusted",
    "Board",
    "BoardsHealth",
    "BoardsUnavailable",
    "CommunityRank",
    "ContestFields",
    "Decision",
    "DiscountRedeemed",
    "Expiring",
    "Exported",
    "Finalized",
    "HookRefused",
    "HostedAssertion",
    "Interval",
    "LedgerPage",
    "Metrics",
    "PrizeFields",
    "PrizePage",
    "RankedPage",
    "Rebuilt",
    "Received",
    "Recorded",
    "Redeemed",
    "RedemptionView",
    "Revoked",
    "Services",
    "Status",
    "account",
    "activities_page",
    "activity_cursor",
    "adjust_points",
    "adopt_boards",
    "apply_delivery",
    "archive_prize",
    "badge_awards",
    "badge_catalog",
    "badge_image",
    "badge_progress",
    "badges_by_slug",
    "board_changes",
    "boards_health",
    "cancel_contest",
    "cancel_redemption",
    "check_leaderboards",
    "community_rank",
    "community_ranks",
    "contest_board",
    "contest_by_id",
    "contest_status",
    "contests_by_ids",
    "contests_list",
    "create_contest",
    "create_integration",
    "create_prize",
    "create_webhook_endpoint",
    "define_badge",
    "discount_rule",
    "disqualify",
    "earning_rules",
    "expire_points",
    "expiring_points",
    "export_badge",
    "finalize_contest",
    "fulfill_redemption",
    "heal_boards",
    "hook_deliveries",
    "hosted_assertion",
    "inline_effects",
    "install_consumers",
    "integrations",
    "is_transient",
    "leaderboard",
    "leaderboard_around",
    "ledger_cursor",
    "ledger_page",
    "load_codes",
    "member",
    "member_badges",
    "members_by_ids",
    "moderate_activity",
    "moderation_queue",
    "parse_board",
    "placements_of_contest",
    "placements_of_contests",
    "placements_of_member",
    "placements_of_members",
    "prize_cursor",
    "prizes_by_ids",
    "prizes_page",
    "program_metrics",
    "publish_contest",
    "rebuild_leaderboards",
    "receive_hook",
    "record_purchase",
    "record_share",
    "redeem_points_for_discount",
    "redeem_prize",
    "redeliver_webhook",
    "redemptions_of",
    "reevaluate_badges",
    "refund_purchase",
    "reinstate",
    "release_pending",
    "revoke_badge",
    "rotate_integration_secret",
    "rotate_webhook_secret",
    "services_for",
    "status",
    "submit_review",
    "tier_ladder",
    "tier_standing",
    "tier_standings",
    "tiers_held",
    "update_badge",
    "update_contest",
    "update_discount_rule",
    "update_earning_rule",
    "update_prize",
    "update_tier",
    "update_webhook_endpoint",
    "upsert_member",
    "utcnow",
    "viewer",
    "visible_contest",
    "webhook_endpoints",
    "webhook_messages",
]
