"""The backtest: the recorded history of a range replayed under a set of rules, in memory.

The replay reads the ledger as it is and writes nothing: a scratch copy of each
member's state (points, lifetime, lots for expiry, qualifying points for the tier)
is built from the entries before the range, then the range's entries are re-decided:

* an activity's own entries (its earning, release, reversals) are scaled to what
  ``engine.activity_points`` gives under the rules at the member's replayed tier;
  an activity that earned nothing as recorded but would under the rules gets one
  credit at its time;
* expiry is recomputed from the replayed lots (oldest first, ``engine.take_oldest``)
  with the rules' expiry period; recorded expiries are dropped;
* badges the rules replay (``Rules.badges``) are granted and revoked by
  ``engine.levels_reached`` over counted metrics, their recorded bonuses dropped;
  with ``Rules.tier_bonuses`` tier entry bonuses are granted on reaching a tier;
* everything else (redemptions, returns, adjustments, contest prizes, other badges)
  is kept as recorded. Decision 0037 says what this leaves out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from server.rewards.backtest_state import (
    Activity,
    BadgeRule,
    Count,
    Entry,
    Lot,
    Member,
    Outcome,
    Rules,
    Scratch,
)
from server.rewards.engine import (
    activity_points,
    levels_reached,
    multiplier_for,
    take_oldest,
    tier_for,
)
from server.rewards.tiers import ROLLING_DAYS

__all__ = ["LIFETIME", "BadgeRule", "Count", "Entry", "Outcome", "Replay", "Rules", "Scratch"]

_DAY = 86_400.0
_WINDOW = ROLLING_DAYS * _DAY
LIFETIME = "LIFETIME_POINTS"


class Replay:
    """One replay of the range under ``rules``. ``keep_days`` is the expiry period the
    entries were recorded with: a credit's replayed expiry is its recorded one moved by
    the difference."""

    def __init__(
        self,
        rules: Rules,
        scratch: Scratch,
        activities: Mapping[int, Activity],
        *,
        keep_days: int,
        start: float,
    ) -> None:
        self.rules = rules
        self.members = scratch.copy()
        self.activities = activities
        self.out = Outcome()
        self._shift = (rules.keep_days - keep_days) * _DAY
        self._keep = rules.keep_days * _DAY
        self._ratio: dict[int, tuple[int, int]] = {}
        self._scaled: dict[tuple[int, str], int] = defaultdict(int)
        self._by_metric: dict[str, list[BadgeRule]] = defaultdict(list)
        for badge in rules.badges.values():
            self._by_metric[badge.metric].append(badge)
        for m in self.members.values():
            m.window_points = sum(points for _, points in m.qualifying)
            for badge in rules.badges.values():
                m.levels[badge.slug] = levels_reached(badge.thresholds, self._value(m, badge))
            if rules.tier_bonuses:
                m.bonused = set(range(self._tier(m, start) + 1))

    # -- the stream -------------------------------------------------------------------

    def record(self, activity_id: int, member: int, at: float) -> None:
        """An activity recorded in the range: decide its points under the rules."""
        act = self.activities[activity_id]
        m = self.members.setdefault(member, Member())
        rule = self.rules.earning.get(act.kind)
        tier = self._tier(m, at)
        multiplier = multiplier_for(
            act.kind, self.rules.ladder[tier].multiplier if tier >= 0 else None
        )
        if multiplier is not None and self._held(member, "TIER_MULTIPLIER", "", at):
            multiplier = None
        points = 0
        if rule is not None and not self._held(member, "EARNING_RULE", act.kind, at):
            points = activity_points(
                rule, multiplier, purchase_cents=act.cents, default_rate=self.rules.default_rate
            )
        self._ratio[activity_id] = (points, act.points)
        if act.points == 0 and points > 0 and not act.rejected:
            self._apply(m, self._credit(member, points, at, activity_id), act.kind)

    def entry(self, e: Entry) -> None:
        m = self.members.setdefault(e.member, Member())
        self._expire(m, e.at)
        role = e.role
        if role == "expire" or (role == "tier" and self.rules.tier_bonuses):
            return
        if role.startswith("badge:") and role[6:] in self.rules.badges:
            return
        kind = ""
        if e.activity is not None and e.activity in self.activities:
            kind = self.activities[e.activity].kind
            ratio = self._ratio.get(e.activity)
            if role == "own" and ratio is not None and ratio[0] != ratio[1]:
                e = self._scale(e, e.activity, ratio)
        self._apply(m, e, kind)

    def count(self, c: Count) -> None:
        m = self.members.setdefault(c.member, Member())
        m.counts[c.metric] = m.counts.get(c.metric, 0) + c.delta
        self._badges(c.member, m, c.metric, c.at)

    def finish(self, end: float, joined: Iterable[int]) -> Outcome:
        """Expire what is due before ``end`` and read each member's figures there."""
        out = self.out
        counted = set(joined)
        for member in counted:
            self.members.setdefault(member, Member())
        for member, m in self.members.items():
            self._expire(m, end - 1e-6)
            q = m.qualifying
            while q and q[0][0] <= end - _WINDOW:  # the window (end - 365 days, end]
                m.window_points -= q.popleft()[1]
            if member in counted:
                out.tier_of[member] = self._index(m.window_points)
            out.outstanding += m.outstanding
            out.earned[member] = m.earned
        return out

    # -- the member's state ---------------------------------------------------------------

    def _apply(self, m: Member, e: Entry, kind: str) -> None:
        m.outstanding += e.amount
        if e.amount > 0 and e.kind in ("EARN", "ADJUST"):
            source = "ADJUSTMENT" if e.kind == "ADJUST" else (kind or "BONUS")
            self.out.issued_by_kind[source] += e.amount
        elif e.kind == "REVERSAL" or (e.kind == "ADJUST" and e.amount < 0):
            self.out.reversed -= e.amount
        available = e.amount - e.pending
        if available > 0:
            expires = e.expires_at
            if e.role == "credit" or (expires is None and self._keep == self._shift):
                # made by the replay, or recorded without expiry: the rules' period
                expires = e.at + self._keep if self._keep else None
            elif expires is not None:
                expires = expires + self._shift if self._keep else None
            m.lots.append(Lot(available, expires, e.id))
        elif available < 0:
            take_oldest(m.lots, -available)
            if len(m.lots) > 8:
                m.lots = [lot for lot in m.lots if lot.points > 0]
        if not e.lifetime:
            return
        m.lifetime += e.lifetime
        m.earned += e.lifetime
        if e.qualifying:
            m.qualifying.append((e.at, e.lifetime))
            m.window_points += e.lifetime
            if self.rules.tier_bonuses:
                self._tier_bonus(e.member, m, e.at)
        if LIFETIME in self._by_metric:
            self._badges(e.member, m, LIFETIME, e.at)

    def _credit(self, member: int, points: int, at: float, activity: int | None) -> Entry:
        """A credit the replay makes (an earning, a badge or tier bonus): spendable at
        once, qualifying, expiring after the rules' period (``_apply``)."""
        return Entry(0, member, "EARN", points, 0, points, True, at, None, activity, None, "credit")

    def _scale(self, e: Entry, activity: int, ratio: tuple[int, int]) -> Entry:
        """``e`` with its points in the proportion the rules give the activity, rounded so
        that the activity's entries add up as recorded (a full reversal takes it all)."""
        new, recorded = ratio
        values = []
        for name, value in (("amount", e.amount), ("pending", e.pending), ("life", e.lifetime)):
            before = self._scaled[(activity, name)]
            after = before + value
            self._scaled[(activity, name)] = after
            values.append(_part(after, new, recorded) - _part(before, new, recorded))
        amount, pending, lifetime = values
        return Entry(
            e.id,
            e.member,
            e.kind,
            amount,
            pending,
            lifetime,
            e.qualifying,
            e.at,
            e.expires_at,
            e.activity,
            e.source,
            e.role,
        )

    def _expire(self, m: Member, at: float) -> None:
        for lot in m.lots:
            if lot.points > 0 and lot.expires_at is not None and lot.expires_at <= at:
                self.out.expired += lot.points
                m.outstanding -= lot.points
                lot.points = 0

    def _value(self, m: Member, badge: BadgeRule) -> int:
        return m.lifetime if badge.metric == LIFETIME else m.counts.get(badge.metric, 0)

    def _badges(self, member: int, m: Member, metric: str, at: float) -> None:
        """Grant (and, if revocable, revoke) the replayed badges on ``metric``; their
        bonuses count as BONUS, as recorded."""
        for badge in self._by_metric.get(metric, ()):
            if self._held(member, "BADGE", badge.slug, at):
                continue
            held = m.levels.get(badge.slug, 0)
            reached = levels_reached(badge.thresholds, self._value(m, badge))
            if reached > held:
                m.levels[badge.slug] = reached
                for level in range(held + 1, reached + 1):
                    self.out.levels_granted[(badge.slug, level)] += 1
                    bonus = badge.bonus_points[level - 1]
                    if bonus:
                        self._apply(m, self._credit(member, bonus, at, None), "")
            elif reached < held and badge.revocable:
                m.levels[badge.slug] = reached
                for level in range(reached + 1, held + 1):
                    bonus = badge.bonus_points[level - 1]
                    if bonus:
                        back = Entry(
                            0,
                            member,
                            "REVERSAL",
                            -bonus,
                            0,
                            -bonus,
                            True,
                            at,
                            None,
                            None,
                            None,
                            "own",
                        )
                        self._apply(m, back, "")

    def _tier_bonus(self, member: int, m: Member, at: float) -> None:
        index = self._tier(m, at)
        if index < 0 or index in m.bonused:
            return
        m.bonused.update(range(index + 1))
        bonus = self.rules.ladder[index].entry_bonus
        if bonus:
            self._apply(m, self._credit(member, bonus, at, None), "")

    def _held(self, member: int, kind: str, ref: str, at: float) -> bool:
        return any(
            h.kind == kind and h.ref == ref and h.holds_out(member, at) for h in self.rules.holdouts
        )

    def _tier(self, m: Member, at: float) -> int:
        """The ladder index of the tier the member holds at ``at`` (-1: none), by the
        qualifying points of the rolling window [at - 365 days, at]."""
        q = m.qualifying
        while q and q[0][0] < at - _WINDOW:
            m.window_points -= q.popleft()[1]
        return self._index(m.window_points)

    def _index(self, points: int) -> int:
        tier = tier_for(self.rules.ladder, points)
        return -1 if tier is None else self.rules.ladder.index(tier)


def _part(total: int, new: int, recorded: int) -> int:
    """``total`` x new / recorded, rounded toward zero."""
    if recorded == 0:
        return 0
    scaled = abs(total) * new // recorded
    return scaled if total >= 0 else -scaled
