// "How it works" on the community page: ways to redeem (the prizes and the
// points-for-discount rule), what a point is worth, the tiers and their benefits (the
// viewer's current and next marked), and the viewer's points that expire soon. All of
// it is what the public API says (tiers, discountRule, prizes; viewer.expiringPoints).
// A viewer held out of the tier multiplier by an experiment (viewer.holdouts) sees no
// multiplier column.
import { el, gql } from "/static/api.js";
import { heldOut } from "/static/community_earn.js";
import { date, money, number, t } from "/static/i18n.js";

const PUBLIC = `query HowItWorks {
  tiers { id name threshold multiplier entryBonus }
  discountRule { pointsPerCurrencyUnit minPoints maxPoints stepPoints enabled }
  prizes(first: 20) { edges { node { id name cost minTier { name } } } }
}`;

let known = null; // the last public answer: a new language or sign-in draws it again

function redeemList({ prizes, discountRule: rule }) {
  const items = prizes.edges.map(({ node }) => el("li", { "data-redeem": node.id },
    el("strong", {}, node.name), ": ", t("points", { count: node.cost }),
    node.minTier ? ` (${t("prizes.tier_and_up", { tier: node.minTier.name })})` : ""));
  if (rule.enabled) {
    items.push(el("li", { "data-redeem": "discount" }, el("strong", {}, t("howto.discount")), ": ",
      t("howto.discount_range", { count: rule.minPoints, max: rule.maxPoints, step: rule.stepPoints })));
  }
  return items.length ? el("ul", { class: "plain" }, items) : el("p", { class: "muted" }, t("prizes.none"));
}

function worth({ discountRule: rule }) {
  if (!rule.enabled) return el("p", { id: "point-worth" }, t("howto.worth_prizes"));
  const one = Math.floor(10000 / rule.pointsPerCurrencyUnit) / 10000;
  return el("p", { id: "point-worth", "data-points-per-unit": rule.pointsPerCurrencyUnit },
    t("howto.worth", { count: rule.pointsPerCurrencyUnit, amount: money.format(1) }), " ",
    el("span", { class: "muted" }, t("howto.worth_one", { amount: new Intl.NumberFormat(document.documentElement.lang, { maximumFractionDigits: 4 }).format(one) })));
}

function tierTable({ tiers }, me) {
  const progress = me?.tierProgress;
  const multiplied = !heldOut(me, "TIER_MULTIPLIER");
  const row = (tier) => {
    const mine = progress?.current.name === tier.name;
    const next = progress?.next?.name === tier.name;
    const note = mine ? t("howto.your_tier") : next ? t("howto.next_tier", { count: progress.pointsToNext }) : "";
    return el("tr", { class: mine ? "me" : null, "aria-current": mine ? "true" : null, "data-tier": tier.name },
      el("th", { scope: "row" }, tier.name, note ? el("span", { class: "tier-note" }, ` · ${note}`) : null),
      el("td", { class: "num" }, number.format(tier.threshold)),
      multiplied ? el("td", { class: "num" }, t("howto.multiplier", { value: number.format(tier.multiplier) })) : null,
      el("td", { class: "num" }, tier.entryBonus ? t("points", { count: tier.entryBonus }) : "–"));
  };
  return el("table", { id: "tier-table" },
    el("caption", { class: "muted" }, t("howto.tiers_caption")),
    el("thead", {}, el("tr", {},
      el("th", { scope: "col" }, t("me.tier")),
      el("th", { scope: "col", class: "num" }, t("howto.threshold")),
      multiplied ? el("th", { scope: "col", class: "num" }, t("howto.multiplier_head")) : null,
      el("th", { scope: "col", class: "num" }, t("howto.entry_bonus")))),
    el("tbody", {}, tiers.map(row)));
}

function draw(box, me) {
  box.replaceChildren(
    el("h3", {}, t("howto.redeem")), redeemList(known),
    el("h3", {}, t("howto.worth_title")), worth(known),
    el("h3", {}, t("howto.tiers")), tierTable(known, me));
}

/** The "How it works" card (#howto); `me` is the signed-in viewer or null. */
export async function loadHowItWorks(box, me, again = true) {
  if (again || !known) known = await gql(PUBLIC);
  draw(box, me);
}

/** The viewer's points that expire soon, in the "Your points" card (#expiry). */
export function showExpiry(box, viewer) {
  const soon = viewer?.expiringPoints || [];
  box.hidden = !soon.length;
  box.replaceChildren(...soon.slice(0, 3).map(({ points, expiresAt }) =>
    el("span", { class: "expiry-item" }, t("howto.expiring", { count: points, date: date.format(new Date(expiresAt)) }), " ")));
}
