"""Use cases: one async verb per user action, taking explicit arguments and a Principal.

GraphQL resolvers and the CLI only call these. Expected failures are raised
as ``RewardsError`` subclasses and shown to callers as typed errors; every
point-moving call is idempotent by key, scoped to the caller so that two
shoppers' keys never collide.
"""

from server.actions.badges import (
    Exported,
    HostedAssertion,
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
    Rebuilt,
    board_changes,
    check_leaderboards,
    community_rank,
    leaderboard,
    leaderboard_around,
    parse_board,
    rebuild_leaderboards,
)
from server.actions.common import Recorded, Services, utcnow
from server.actions.community import (
    ActivityPage,
    Decision,
    activities_page,
    activity_cursor,
    moderate_activity,
    moderation_queue,
    record_share,
    submit_review,
)
from server.actions.members import account, member, members_by_ids, upsert_member, viewer
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
from server.actions.purchases import record_purchase, refund_purchase
from server.actions.rules import earning_rules, update_earning_rule

__all__ = [
    "GLOBAL_COMMUNITY",
    "ActivityPage",
    "Adjusted",
    "CommunityRank",
    "Decision",
    "Expiring",
    "Exported",
    "HostedAssertion",
    "LedgerPage",
    "RankedPage",
    "Rebuilt",
    "Recorded",
    "Services",
    "account",
    "activities_page",
    "activity_cursor",
    "adjust_points",
    "badge_awards",
    "badge_catalog",
    "badge_image",
    "badge_progress",
    "badges_by_slug",
    "board_changes",
    "check_leaderboards",
    "community_rank",
    "define_badge",
    "earning_rules",
    "expire_points",
    "expiring_points",
    "export_badge",
    "hosted_assertion",
    "leaderboard",
    "leaderboard_around",
    "ledger_cursor",
    "ledger_page",
    "member",
    "member_badges",
    "members_by_ids",
    "moderate_activity",
    "moderation_queue",
    "parse_board",
    "rebuild_leaderboards",
    "record_purchase",
    "record_share",
    "reevaluate_badges",
    "refund_purchase",
    "release_pending",
    "revoke_badge",
    "submit_review",
    "update_badge",
    "update_earning_rule",
    "upsert_member",
    "utcnow",
    "viewer",
]
