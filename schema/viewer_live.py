"""The ``viewerChanged`` subscription: the signed-in shopper's page hears of every
change to their account and reads ``viewer`` again."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from graphql import GraphQLError

from schema.context import Info
from server import actions
from server.i18n import render
from server.rewards.errors import RewardsError

__all__ = ["ViewerChange", "ViewerSubscriptions"]


@strawberry.type(description="Something about the viewer's account changed: read `viewer` again.")
class ViewerChange:
    reason: str = strawberry.field(
        description="The last change of a batch, as its event type (`points.credited`, "
        "`activity.rejected`, `tier.changed`, `redemption.created`...), or `resync` after "
        "an interruption, when anything may have changed."
    )


@strawberry.type
class ViewerSubscriptions:
    @strawberry.subscription(
        description="SHOPPER: each change to the viewer's points, pending points, activities, "
        "tier, badges or redemptions, from any worker, within about a second."
    )
    async def viewer_changed(self, info: Info) -> AsyncGenerator[ViewerChange, None]:
        try:
            changes = actions.viewer_changes(info.context.services, info.context.principal)
        except RewardsError as exc:
            raise GraphQLError(render(exc.text), extensions={"code": "FORBIDDEN"}) from None
        async for reason in changes:
            yield ViewerChange(reason=reason)
