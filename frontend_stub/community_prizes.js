// Prizes on the community page: a card per prize (picture, description, cost, what
// stands in the way), a confirmation before redeeming, then the code with how to use
// it and a copy button.
import { el, gql, idempotencyKey as key, problem, toast } from "/static/api.js";
import { t } from "/static/i18n.js";

const PRIZES = `query Prizes { prizes(first: 20) { edges { node {
  id name description cost stockLeft kind imageUrl minTier { name threshold } } } } }`;

// What a shopper does with the code of each kind of prize (prizes.use.<kind>).
const KINDS = ["DISCOUNT_CODE", "GIFT_CARD", "DIGITAL", "PHYSICAL"];

// Why a signed-in shopper cannot redeem now, or null when they can.
function obstacle(prize, me) {
  if (prize.stockLeft === 0) return t("prizes.sold_out");
  if (!me) return null;
  const tier = me.tierProgress;
  if (prize.minTier && tier.current.name !== prize.minTier.name && tier.qualifyingPoints < prize.minTier.threshold) {
    return t("prizes.needs_tier", { tier: prize.minTier.name });
  }
  const short = prize.cost - me.pointsBalance;
  if (short > 0) return t("prizes.short", { count: short });
  return null;
}

function card(prize, page) {
  const me = page.state.me;
  const blocked = obstacle(prize, me);
  const facts = [t("points", { count: prize.cost }), prize.stockLeft == null ? "" : t("prizes.left", { count: prize.stockLeft }),
    prize.minTier ? t("prizes.tier_and_up", { tier: prize.minTier.name }) : ""].filter(Boolean).join(" · ");
  const label = blocked || t(page.state.token ? "common.redeem" : "prizes.signin");
  const button = el("button", { type: "button", class: "primary", disabled: Boolean(blocked) || !page.state.token,
    "aria-label": t("prizes.button", { label, prize: prize.name }), onclick: () => redeem(prize, page) }, label);
  const picture = prize.imageUrl
    ? el("img", { src: prize.imageUrl, alt: "", width: 96, height: 96, loading: "lazy" })
    : el("div", { class: "prize-placeholder", "aria-hidden": "true" });
  return el("article", { class: "prize", "data-prize": prize.id },
    picture,
    el("div", { class: "prize-body" },
      el("h3", {}, prize.name),
      prize.description ? el("p", {}, prize.description) : null,
      el("p", { class: "muted" }, facts)),
    button);
}

export async function loadPrizes(page) {
  const { prizes } = await gql(PRIZES);
  const items = prizes.edges.map(({ node }) => node);
  const box = document.getElementById("prizes");
  if (!items.length) { box.replaceChildren(el("p", { class: "muted" }, t("prizes.none"))); return; }
  box.replaceChildren(...items.map((p) => card(p, page)));
}

// The code of a redemption, how to use it, and a button that copies it.
export function codeBlock(code, kind, id = null) {
  const copy = el("button", { type: "button", onclick: async () => {
    await navigator.clipboard?.writeText(code).catch(() => {});
    toast(t("prizes.code_copied"));
  } }, t("prizes.copy_code"));
  return el("div", { class: "code-block" },
    el("p", {}, t("prizes.your_code"), " ", el("span", { class: "code", id }, code), " ", copy),
    el("p", { class: "muted" }, t(`prizes.use.${KINDS.includes(kind) ? kind : KINDS[0]}`)));
}

async function redeem(prize, page) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent = t("prizes.confirm", { count: prize.cost, prize: prize.name });
  dialog.showModal();
  const answer = await new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue), { once: true }));
  if (answer !== "yes") return;
  const shown = document.getElementById("redeemed");
  try {
    const data = await gql(`mutation Redeem($input: RedeemPrizeInput!) { redeemPrize(input: $input) {
        __typename ... on PrizeRedeemed { redemption { code prize { name kind } } }
        ... on Error { message } } }`,
      { input: { idempotencyKey: key(), prizeId: prize.id } }, page.state.token);
    const result = data.redeemPrize;
    const issue = problem(result, "PrizeRedeemed");
    if (issue) { shown.replaceChildren(el("p", { class: "error" }, issue.message)); return; }
    const { redemption } = result;
    shown.replaceChildren(el("p", {}, t("prizes.yours", { prize: redemption.prize.name })), codeBlock(redemption.code, redemption.prize.kind, "new-code"));
    await page.refreshMe();
  } catch (error) {
    page.failed(error, shown);
  }
}
