// "Ways to earn" on the community page: the shop's earning rules, in words.
import { el, gql, number } from "/static/api.js";

const WHAT = {
  REVIEW: "Write a product review",
  PHOTO_REVIEW: "Write a review with a photo",
  SOCIAL_SHARE: "Share a product",
  REFERRAL: "Invite a friend who orders",
  PURCHASE: "Shop with us",
};

function limits(rule) {
  const parts = [];
  if (rule.dailyCap != null) parts.push(`up to ${number.format(rule.dailyCap)} a day`);
  if (rule.monthlyCap != null) parts.push(`up to ${number.format(rule.monthlyCap)} a month`);
  if (rule.needsModeration) parts.push("checked by our team first");
  return parts.length ? ` (${parts.join(", ")})` : "";
}

export async function loadWaysToEarn(box) {
  const { earningRules } = await gql("query { earningRules { kind points pointsPerCurrencyUnitInEffect dailyCap monthlyCap needsModeration active } }");
  const rules = earningRules.filter((r) => r.active);
  box.replaceChildren(el("ul", { class: "plain" }, rules.map((r) => el("li", { "data-earn": r.kind },
    el("strong", {}, WHAT[r.kind]), ": ",
    r.kind === "PURCHASE"
      ? `${number.format(r.pointsPerCurrencyUnitInEffect)} ${r.pointsPerCurrencyUnitInEffect === 1 ? "point" : "points"} for every 1.00 you spend`
      : `${number.format(r.points)} points`,
    limits(r)))));
}
