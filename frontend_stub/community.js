// The community page: everyone sees the leaderboard, badges and prizes; a signed-in
// shopper also sees their points, tier, badge progress, history, and can act.
import { date, el, gql, idempotencyKey as key, number, problem, subscribe, toast } from "/static/api.js";
import { loadWaysToEarn } from "/static/community_earn.js";
import { codeBlock, loadPrizes as showPrizes } from "/static/community_prizes.js";

const state = { token: sessionStorage.getItem("laurel.token"), me: null, window: "ALL_TIME", community: null, stop: null };
const $ = (id) => document.getElementById(id);

const WINDOWS = [["ALL_TIME", "All time"], ["YEAR", "This year"], ["MONTH", "This month"], ["WEEK", "This week"], ["DAY", "Today"]];
const BOARD_FIELDS = "totalMembers entries { rank score member { id displayName } }";

const ME = `query Me {
  viewer {
    pointsBalance pendingPoints referralCode
    member { id displayName tier { name } communityRank { community position title } }
    tierProgress { current { name threshold } next { name threshold } qualifyingPoints pointsToNext pointsToKeep windowEndsAt }
    badgeProgress { badge { slug name description levels } level value nextThreshold nextLevelName remaining percent }
    activities(first: 15) { edges { node { kind status points pendingPoints decisionReason occurredAt orderId productIds review { productId } share { url } } } }
    redemptions { code status cost createdAt prize { name kind } }
  }
}`;

async function signIn(token) {
  $("signin-error").textContent = "";
  try {
    const data = await gql(ME, {}, token);
    if (!data.viewer) throw new Error("That token is not a shopper's.");
    state.token = token;
    sessionStorage.setItem("laurel.token", token);
    showMe(data.viewer);
    state.stopBadges?.();
    state.stopBadges = subscribe("subscription { badgeAwarded { level levelName badge { name } } }", {}, token, (d) => {
      const b = d.badgeAwarded;
      toast(`New badge: ${b.badge.name}${b.levelName ? ` (${b.levelName})` : ""}!`);
      refreshMe();
    });
    // Any change to the account (a moderator's decision, points released, a redemption
    // fulfilled, a tier) reads the account again; a burst of them reads it once.
    state.stopViewer?.();
    let soon = null;
    state.stopViewer = subscribe("subscription { viewerChanged { reason } }", {}, token, () => {
      clearTimeout(soon);
      soon = setTimeout(() => refreshMe(), 150);
    });
  } catch (error) {
    if (error.expired) signedOut(error.message);
    else $("signin-error").textContent = `Could not sign in: ${error.message}`;
  }
}

async function refreshMe() {
  if (!state.token) return;
  try {
    const data = await gql(ME, {}, state.token);
    if (data.viewer) showMe(data.viewer);
  } catch (error) {
    failed(error, $("signin-error"));
  }
}

// An error of a signed-in action: an expired sign-in goes back to the signed-out page.
function failed(error, where) {
  if (error.expired) { signedOut(error.message); return; }
  where.replaceChildren(el("p", { class: "error" }, error.message));
}

// The page as a visitor sees it, with a message (the sign-in expired, or was not valid).
function signedOut(message) {
  sessionStorage.removeItem("laurel.token");
  state.stopBadges?.();
  state.stopViewer?.();
  Object.assign(state, { token: null, me: null, community: null, scope: null, stopBadges: null, stopViewer: null });
  for (const id of ["me", "act", "history", "around", "who"]) $(id).hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message;
  loadShelf().catch((e) => { $("shelf").textContent = e.message; });
  loadPrizes().catch((e) => { $("prizes").textContent = e.message; });
  loadDiscount().catch(() => {});
  loadBoard();
}

const page = { state, refreshMe, failed };
const loadPrizes = () => showPrizes(page);

function showMe(viewer) {
  const before = state.me?.tierProgress.current;
  const now = viewer.tierProgress.current;
  if (before && before.name !== now.name) {
    toast(now.threshold > before.threshold ? `You moved up to the ${now.name} tier!` : `You are now in the ${now.name} tier.`);
  }
  state.me = viewer;
  state.community = viewer.member.communityRank.community === "global" ? null : viewer.member.communityRank.community;
  $("signin").hidden = true;
  $("who").hidden = false;
  $("who-name").textContent = `Signed in as ${viewer.member.displayName}`;
  for (const id of ["me", "act", "history"]) $(id).hidden = false;
  $("around").hidden = false;
  $("balance").textContent = number.format(viewer.pointsBalance);
  $("pending").textContent = number.format(viewer.pendingPoints);
  const t = viewer.tierProgress;
  $("tier").textContent = t.current.name;
  const percent = t.next ? Math.min(100, Math.round((t.qualifyingPoints / t.next.threshold) * 100)) : 100;
  $("tier-bar").setAttribute("aria-valuenow", String(percent));
  $("tier-bar").firstElementChild.style.width = `${percent}%`;
  $("tier-text").textContent = [
    t.next ? `${number.format(t.pointsToNext)} more points to ${t.next.name}.` : "You are at the top tier.",
    t.pointsToKeep ? `Earn ${number.format(t.pointsToKeep)} by ${date.format(new Date(t.windowEndsAt))} to keep ${t.current.name}.` : "",
  ].join(" ");
  $("referral").textContent = viewer.referralCode;
  showShelf(viewer.badgeProgress);
  showHistory(viewer);
  showReviewProducts(viewer);
  loadBoard();
  loadPrizes().catch((e) => { $("prizes").textContent = e.message; });
  loadDiscount().catch(() => {});
}

function signOut() {
  sessionStorage.removeItem("laurel.token");
  location.reload();
}

// Badges: everyone sees the catalog; a shopper sees held levels in colour, the rest greyed with progress.
async function loadShelf() {
  if (state.token) return;
  const { badges } = await gql("query { badges { slug name description levels imageUrl } }");
  showShelf(badges.map((badge) => ({ badge, level: 0, value: null })));
}

function showShelf(items) {
  $("shelf").replaceChildren(...items.map(({ badge, level, value, remaining, nextLevelName, nextThreshold }) => {
    const shown = Math.max(1, level);
    const img = el("img", { src: `/badges/${badge.slug}/${shown}.png?size=128`, alt: "", width: 96, height: 96 });
    const hint = value == null ? badge.description
      : nextThreshold == null ? "Every level earned"
      : `${number.format(remaining)} more to ${nextLevelName || badge.name}`;
    return el("div", { class: level ? "badge" : "badge locked", title: badge.description },
      img, el("div", {}, el("strong", {}, badge.name)), el("div", { class: "muted" }, level ? `Level ${level} · ${hint}` : hint));
  }));
}

// Leaderboard: window and scope tabs, live through leaderboardChanged, "around me".
function tabs() {
  $("windows").replaceChildren(...WINDOWS.map(([value, label]) =>
    el("button", { type: "button", "aria-pressed": String(state.window === value), onclick: () => { state.window = value; tabs(); loadBoard(); } }, label)));
  const scopes = [["global", "Everyone"]];
  if (state.community) scopes.push([state.community, `My community (${state.community})`]);
  const current = state.scope || "global";
  $("scopes").replaceChildren(...scopes.map(([value, label]) =>
    el("button", { type: "button", "aria-pressed": String(current === value), onclick: () => { state.scope = value; tabs(); loadBoard(); } }, label)));
}

function board() {
  const scope = state.scope && state.scope !== "global" ? state.scope : null;
  return { window: state.window, community: scope };
}

function showBoard(page) {
  const myId = state.me?.member.id;
  $("board").replaceChildren(...page.entries.map(({ rank, score, member }) =>
    el("tr", { class: member.id === myId ? "me" : null, "aria-current": member.id === myId ? "true" : null },
      el("td", {}, rank), el("td", {}, member.displayName), el("td", { class: "num" }, number.format(score)))));
  $("board-status").textContent = page.totalMembers ? `${number.format(page.totalMembers)} members with points` : "No points earned in this period yet.";
}

function loadBoard() {
  tabs();
  $("board-status").textContent = "Loading…";
  state.stop?.();
  state.stop = subscribe(`subscription Live($board: BoardInput) { leaderboardChanged(board: $board, first: 10) { ${BOARD_FIELDS} } }`,
    { board: board() }, null, (data) => showBoard(data.leaderboardChanged),
    (error) => { $("board-status").textContent = error.message; });
}

async function around() {
  const data = await gql(`query Around($id: ID!, $board: BoardInput) { leaderboardAround(memberId: $id, board: $board, radius: 3) { ${BOARD_FIELDS} } }`,
    { id: state.me.member.id, board: board() });
  if (!data.leaderboardAround.entries.length) { $("board-status").textContent = "You have no points on this board yet."; return; }
  state.stop?.();
  showBoard(data.leaderboardAround);
  $("board-status").textContent = "Around you. Pick a period to see the top again.";
}

// Points as money: a slider over the admin's bounds, the value in money beside it.
const money = new Intl.NumberFormat(undefined, { style: "decimal", minimumFractionDigits: 2, maximumFractionDigits: 2 });
async function loadDiscount() {
  const { discountRule: rule } = await gql("query { discountRule { pointsPerCurrencyUnit minPoints maxPoints stepPoints enabled } }");
  const form = $("discount-form");
  form.hidden = !rule.enabled;
  if (!rule.enabled) return;
  const slider = $("discount-points");
  Object.assign(slider, { min: rule.minPoints, max: rule.maxPoints, step: rule.stepPoints });
  if (!slider.dataset.ready) slider.value = rule.minPoints;
  slider.dataset.ready = "1";
  const show = () => {
    const points = Number(slider.value);
    const balance = state.me?.pointsBalance;
    $("discount-value").textContent = `${number.format(points)} points take ${money.format(Math.floor(points * 100 / rule.pointsPerCurrencyUnit) / 100)} off` +
      (balance == null ? "" : ` (you have ${number.format(balance)})`);
    const short = balance != null && balance < points;
    $("discount-go").disabled = !state.token || short;
    $("discount-go").textContent = !state.token ? "Sign in to get a code" : short ? "Not enough points" : "Get a discount code";
  };
  slider.oninput = show;
  show();
}

async function redeemDiscount(event) {
  event.preventDefault();
  const points = Number($("discount-points").value);
  const data = await gql(`mutation Discount($input: RedeemPointsForDiscountInput!) { redeemPointsForDiscount(input: $input) {
      __typename ... on DiscountRedeemed { discount { code valueCents } }
      ... on InsufficientPointsError { message } ... on Error { message } } }`,
    { input: { idempotencyKey: key(), points } }, state.token);
  const result = data.redeemPointsForDiscount;
  const issue = problem(result, "DiscountRedeemed");
  fieldErrors("discount", issue && { ...issue, field: "points" }, ["points"]);
  if (issue) return;
  $("discount-result").replaceChildren("Your code for ", money.format(result.discount.valueCents / 100), " off: ",
    el("span", { class: "code", id: "discount-code" }, result.discount.code));
  await refreshMe();
  await loadDiscount();
}

// Earning forms: errors from union results appear next to their field.
function showReviewProducts(viewer) {
  const bought = new Set();
  const reviewed = new Set();
  for (const { node } of viewer.activities.edges) {
    for (const id of node.productIds || []) bought.add(id);
    if (node.review) reviewed.add(node.review.productId);
  }
  const open = [...bought].filter((id) => !reviewed.has(id));
  $("review-product").replaceChildren(...(open.length ? open.map((id) => el("option", { value: id }, id)) : [el("option", { value: "" }, "Nothing to review yet")]));
}

// The API names its fields ("text must be 20 to 5000 characters long."); the page says
// what the shopper sees on the form.
const FIELD_WORDS = { text: "Your review", productId: "The product", url: "The page address", platform: "Where you shared", points: "The points" };
function plain(issue) {
  const words = FIELD_WORDS[issue.field];
  return words && issue.message.startsWith(`${issue.field} `) ? `${words}${issue.message.slice(issue.field.length)}` : issue.message;
}

// Errors next to their field: linked by aria-describedby, the field marked aria-invalid
// and focused, so a screen reader hears the error where the shopper is.
function fieldErrors(prefix, issue, fields) {
  for (const name of fields) {
    $(`${prefix}-${name}-error`).textContent = "";
    $(`${prefix}-${name}`).removeAttribute("aria-invalid");
  }
  if (!issue) return;
  const target = { productId: "product", text: "text", url: "url", platform: "url", points: "points" }[issue.field] || fields[fields.length - 1];
  $(`${prefix}-${target}-error`).textContent = plain(issue);
  $(`${prefix}-${target}`).setAttribute("aria-invalid", "true");
  $(`${prefix}-${target}`).focus();
}

async function submitReview(event) {
  event.preventDefault();
  const data = await gql(`mutation Review($input: SubmitReviewInput!) { submitReview(input: $input) {
      __typename ... on ActivityRecorded { pointsAwarded } ... on ValidationError { field message } ... on Error { message } } }`,
    { input: { idempotencyKey: key(), productId: $("review-product").value, rating: Number($("review-rating").value), text: $("review-text").value, hasPhoto: $("review-photo").checked } },
    state.token);
  const issue = problem(data.submitReview, "ActivityRecorded");
  fieldErrors("review", issue, ["product", "text"]);
  $("review-result").textContent = issue ? "" : `Thanks! ${data.submitReview.pointsAwarded} points wait for a moderator.`;
  if (!issue) { $("review-text").value = ""; $("review-photo").checked = false; await refreshMe(); }
}

async function submitShare(event) {
  event.preventDefault();
  const data = await gql(`mutation Share($input: RecordShareInput!) { recordShare(input: $input) {
      __typename ... on ActivityRecorded { pointsAwarded } ... on ValidationError { field message } ... on Error { message } } }`,
    { input: { idempotencyKey: key(), platform: $("share-platform").value, url: $("share-url").value } }, state.token);
  const issue = problem(data.recordShare, "ActivityRecorded");
  fieldErrors("share", issue, ["url"]);
  $("share-result").textContent = issue ? "" : `Shared: ${data.recordShare.pointsAwarded} points.`;
  if (!issue) await refreshMe();
}

// What an activity's points are now: pending points as pending, a refusal with its reason.
function standing(node) {
  const points = (n) => `${number.format(n)} ${n === 1 ? "point" : "points"}`;
  if (node.status === "PENDING") return `${points(node.pendingPoints)} pending`;
  if (node.status === "REJECTED") return `not approved${node.decisionReason ? `: ${node.decisionReason}` : ""}`;
  if (node.status === "REVERSED") return `reversed${node.decisionReason ? `: ${node.decisionReason}` : ""}`;
  return points(node.points);
}

function showHistory(viewer) {
  const label = { REVIEW: "Review", PHOTO_REVIEW: "Photo review", SOCIAL_SHARE: "Share", REFERRAL: "Referral", PURCHASE: "Order" };
  const rows = viewer.activities.edges.map(({ node }) => el("li", { "data-status": node.status },
    `${label[node.kind]} ${node.orderId || node.review?.productId || node.share?.url || ""} · ${standing(node)} · ${date.format(new Date(node.occurredAt))}`));
  $("activities").replaceChildren(...(rows.length ? rows : [el("li", { class: "muted" }, "Nothing yet.")]));
  const redeemed = viewer.redemptions.map((r) => el("li", {}, el("strong", {}, r.prize.name), ` · ${r.status.toLowerCase()}`,
    r.status === "CANCELLED" ? null : codeBlock(r.code, r.prize.kind)));
  $("redemptions").replaceChildren(...(redeemed.length ? redeemed : [el("li", { class: "muted" }, "No prizes redeemed yet.")]));
}

async function demoMembers() {
  const response = await fetch("/demo/members");
  if (!response.ok) return;
  const members = await response.json();
  $("demo-pick").hidden = false;
  $("demo-member").append(...members.map((m) => el("option", { value: m.externalId }, m.displayName)));
  // Signing in takes the button: arrow keys move through the list without signing in.
  $("demo-go").addEventListener("click", async () => {
    const chosen = $("demo-member").value;
    if (!chosen) { $("signin-error").textContent = "Choose a member first."; $("demo-member").focus(); return; }
    const answer = await fetch("/demo/token", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ externalId: chosen }) });
    const { token } = await answer.json();
    $("token").value = token;
    signIn(token);
  });
}

$("signin").addEventListener("submit", (event) => { event.preventDefault(); signIn($("token").value.trim()); });
$("signout").addEventListener("click", signOut);
$("around").addEventListener("click", () => around().catch((e) => { $("board-status").textContent = e.message; }));
$("review-form").addEventListener("submit", (e) => submitReview(e).catch((err) => { $("review-result").textContent = err.message; }));
$("share-form").addEventListener("submit", (e) => submitShare(e).catch((err) => { $("share-result").textContent = err.message; }));
$("copy-referral").addEventListener("click", async () => {
  await navigator.clipboard?.writeText($("referral").textContent).catch(() => {});
  toast("Referral code copied.");
});

loadBoard();
loadWaysToEarn($("earn")).catch((e) => { $("earn").textContent = e.message; });
loadShelf().catch((e) => { $("shelf").textContent = e.message; });
loadPrizes().catch((e) => { $("prizes").textContent = e.message; });
loadDiscount().catch(() => {});
$("discount-form").addEventListener("submit", (e) => redeemDiscount(e).catch((err) => { $("discount-points-error").textContent = err.message; }));
demoMembers().catch(() => {});
if (state.token) signIn(state.token);
