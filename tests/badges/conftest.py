"""The badge catalog for badge tests (other tests run with an empty catalog, so that
their exact balances are not moved by badge bonuses)."""

from __future__ import annotations

import pytest

from badges import ensure_badges
from server.actions import Services
from server.rewards.activities import ActivityKind
from server.rewards.rules import RuleValues, rule_for, update_rule, values_of


@pytest.fixture
async def catalog(svc: Services) -> Services:
    """The default catalog, and daily caps lifted so a test reaches the top levels quickly."""
    await ensure_badges()
    for kind in (ActivityKind.REVIEW, ActivityKind.PHOTO_REVIEW, ActivityKind.SOCIAL_SHARE):
        rule = values_of(await rule_for(kind))
        values = {name: getattr(rule, name) for name in RuleValues.__slots__}
        await update_rule(kind, RuleValues(**{**values, "daily_cap": None}), "tests")
    return svc
