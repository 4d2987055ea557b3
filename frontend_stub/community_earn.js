// "Ways to earn" on the community page: the shop's earning rules, in words. A signed-in
// shopper whom a holdout experiment keeps from a rule (viewer.holdouts) does not see it.
import { el, gql } from "/static/api.js";
import { money, t } from "/static/i18n.js";

function limits(rule) {
  const parts = [];
  if (rule.dailyCap != null) parts.push(t("earn.daily", { count: rule.dailyCap }));
  if (rule.monthlyCap != null) parts.push(t("earn.monthly", { count: rule.monthlyCap }));
  if (rule.needsModeration) parts.push(t("earn.moderated"));
  return parts.length ? ` (${parts.join(", ")})` : "";
}

/** Whether the viewer (`me`, or null) is held out of a target: {kind, ref}. */
export function heldOut(me, kind, ref = "") {
  return (me?.holdouts || []).some((h) => h.kind === kind && h.ref === String(ref));
}

export async function loadWaysToEarn(box, me = null) {
  const { earningRules } = await gql("query { earningRules { kind points pointsPerCurrencyUnitInEffect dailyCap monthlyCap needsModeration active } }");
  const rules = earningRules.filter((r) => r.active && !heldOut(me, "EARNING_RULE", r.kind));
  if (!rules.length) { box.replaceChildren(el("p", { class: "muted" }, t("earn.none"))); return; }
  box.replaceChildren(el("ul", { class: "plain" }, rules.map((r) => el("li", { "data-earn": r.kind },
    el("strong", {}, t(`earn.${r.kind}`)), ": ",
    r.kind === "PURCHASE"
      ? t("earn.per_spend", { count: r.pointsPerCurrencyUnitInEffect, amount: money.format(1) })
      : t("points", { count: r.points }),
    limits(r)))));
}
