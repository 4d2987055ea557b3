// Prizes on the community page: a card per prize (picture, description, cost, what
// stands in the way), a confirmation before redeeming, then the code with how to use
// it and a copy button.
import { el, gql, idempotencyKey as key, number, problem, toast } from "/static/api.js";

const PRIZES = `query Prizes { prizes(first: 20) { edges { node {
  id name description cost stockLeft kind imageUrl minTier { name threshold } } } } }`;

// What a shopper does with the code of each kind of prize.
const HOW_TO_USE = {
  DISCOUNT_CODE: "Enter this code at checkout, in the discount code field.",
  GIFT_CARD: "Enter this code at checkout as a gift card to pay with it.",
  DIGITAL: "Use this code to download or unlock your prize; it is also in your activity below.",
  PHYSICAL: "Keep this code: the shop uses it to send you the prize.",
};

// Why a signed-in shopper cannot redeem now, or null when they can.
function obstacle(prize, me) {
  if (prize.stockLeft === 0) return "Sold out";
  if (!me) return null;
  const tier = me.tierProgress;
  if (prize.minTier && tier.current.name !== prize.minTier.name && tier.qualifyingPoints < prize.minTier.threshold) {
    return `Needs ${prize.minTier.name} tier`;
  }
  const short = prize.cost - me.pointsBalance;
  if (short > 0) return `${number.format(short)} more ${short === 1 ? "point" : "points"} needed`;
  return null;
}

function card(prize, page) {
  const me = page.state.me;
  const blocked = obstacle(prize, me);
  const facts = [`${number.format(prize.cost)} points`, prize.stockLeft == null ? "" : `${number.format(prize.stockLeft)} left`,
    prize.minTier ? `${prize.minTier.name} tier and up` : ""].filter(Boolean).join(" · ");
  const label = blocked || (page.state.token ? "Redeem" : "Sign in to redeem");
  const button = el("button", { type: "button", class: "primary", disabled: Boolean(blocked) || !page.state.token,
    "aria-label": `${label}: ${prize.name}`, onclick: () => redeem(prize, page) }, label);
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
  if (!items.length) { box.replaceChildren(el("p", { class: "muted" }, "No prizes right now.")); return; }
  box.replaceChildren(...items.map((p) => card(p, page)));
}

// The code of a redemption, how to use it, and a button that copies it.
export function codeBlock(code, kind, id = null) {
  const copy = el("button", { type: "button", onclick: async () => {
    await navigator.clipboard?.writeText(code).catch(() => {});
    toast("Code copied.");
  } }, "Copy code");
  return el("div", { class: "code-block" },
    el("p", {}, "Your code: ", el("span", { class: "code", id }, code), " ", copy),
    el("p", { class: "muted" }, HOW_TO_USE[kind] || HOW_TO_USE.DISCOUNT_CODE));
}

async function redeem(prize, page) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent = `Spend ${number.format(prize.cost)} points on ${prize.name}?`;
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
    shown.replaceChildren(el("p", {}, `${redemption.prize.name} is yours.`), codeBlock(redemption.code, redemption.prize.kind, "new-code"));
    await page.refreshMe();
  } catch (error) {
    page.failed(error, shown);
  }
}
