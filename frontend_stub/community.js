// The community page: everyone sees the leaderboard, badges and prizes; a signed-in
// shopper also sees their points, tier, badge progress, history, and can act.
import { el, gql, idempotencyKey as key, problem, subscribe, toast } from "/static/api.js";
import { date, money, number, onLanguage, start, t } from "/static/i18n.js";
import { heldOut, loadWaysToEarn } from "/static/community_earn.js";
import { clearPhoto, photoError, setUpPhoto, uploadChosenPhoto } from "/static/community_photo.js";
import { applyShop } from "/static/community_shop.js";
import { codeBlock, loadPrizes as showPrizes } from "/static/community_prizes.js";
import { loadHowItWorks, showExpiry } from "/static/community_howto.js";
import { loadContests } from "/static/community_contests.js";

const state = { token: sessionStorage.getItem("laurel.token"), me: null, window: "ALL_TIME", community: null, stop: null };
const $ = (id) => document.getElementById(id);

const WINDOWS = ["ALL_TIME", "YEAR", "MONTH", "WEEK", "DAY"];
const BOARD_FIELDS = "totalMembers entries { rank score member { id displayName } }";

const ME = `query Me {
  viewer {
    pointsBalance pendingPoints referralCode
    member { id displayName tier { name } communityRank { community position title } }
    tierProgress { current { name threshold } next { name threshold } qualifyingPoints pointsToNext pointsToKeep windowEndsAt }
    badgeProgress { badge { slug name description levels } level value nextThreshold nextLevelName remaining percent }
    activities(first: 15) { edges { node { kind status points pendingPoints decisionReason occurredAt orderId productIds review { productId } share { url } } } }
    redemptions { code status cost createdAt prize { name kind } }
    expiringPoints { points expiresAt }
    holdouts { kind ref }
  }
}`;

async function signIn(token) {
  $("signin-error").textContent = "";
  try {
    const data = await gql(ME, {}, token);
    if (!data.viewer) throw new Error(t("signin.not_shopper"));
    state.token = token;
    sessionStorage.setItem("laurel.token", token);
    showMe(data.viewer);
    state.stopBadges?.();
    state.stopBadges = subscribe("subscription { badgeAwarded { level levelName badge { name } } }", {}, token, (d) => {
      const b = d.badgeAwarded;
      toast(b.levelName ? t("me.new_badge_level", { badge: b.badge.name, level: b.levelName }) : t("me.new_badge", { badge: b.badge.name }));
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
    else $("signin-error").textContent = t("common.signin_failed", { error: error.message });
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
  howto(false);
  state.contestsFor = null;
  contests();
  earn();
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
    toast(t(now.threshold > before.threshold ? "me.tier_up" : "me.tier_down", { tier: now.name }));
  }
  state.me = viewer;
  state.community = viewer.member.communityRank.community === "global" ? null : viewer.member.communityRank.community;
  $("signin").hidden = true;
  $("who").hidden = false;
  $("who-name").textContent = t("signin.as", { name: viewer.member.displayName });
  for (const id of ["me", "act", "history"]) $(id).hidden = false;
  $("around").hidden = false;
  $("balance").textContent = number.format(viewer.pointsBalance);
  $("pending").textContent = number.format(viewer.pendingPoints);
  const p = viewer.tierProgress;
  $("tier").textContent = p.current.name;
  const percent = p.next ? Math.min(100, Math.round((p.qualifyingPoints / p.next.threshold) * 100)) : 100;
  $("tier-bar").setAttribute("aria-valuenow", String(percent));
  $("tier-bar").firstElementChild.style.width = `${percent}%`;
  $("tier-text").textContent = [
    p.next ? t("me.to_next", { count: p.pointsToNext, tier: p.next.name }) : t("me.top_tier"),
    p.pointsToKeep ? t("me.to_keep", { count: p.pointsToKeep, date: date.format(new Date(p.windowEndsAt)), tier: p.current.name }) : "",
  ].join(" ");
  $("referral").textContent = viewer.referralCode;
  showShelf(viewer.badgeProgress.filter((p) => !heldOut(viewer, "BADGE", p.badge.slug)));
  showHistory(viewer);
  showReviewProducts(viewer);
  showExpiry($("expiry"), viewer);
  howto(false);
  if (state.contestsFor !== viewer.member.id) { state.contestsFor = viewer.member.id; contests(); earn(); }
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
      : nextThreshold == null ? t("badges.all_levels")
      : t("badges.more_to", { count: remaining, level: nextLevelName || badge.name });
    return el("div", { class: level ? "badge" : "badge locked", title: badge.description },
      img, el("div", {}, el("strong", {}, badge.name)), el("div", { class: "muted" }, level ? t("badges.level", { level, hint }) : hint));
  }));
}

// Leaderboard: window and scope tabs, live through leaderboardChanged, "around me".
function tabs() {
  $("windows").replaceChildren(...WINDOWS.map((value) =>
    el("button", { type: "button", "aria-pressed": String(state.window === value), onclick: () => { state.window = value; tabs(); loadBoard(); } }, t(`board.${value}`))));
  const scopes = [["global", t("board.everyone")]];
  if (state.community) scopes.push([state.community, t("board.my_community", { community: state.community })]);
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
  $("board-status").textContent = page.totalMembers ? t("board.members", { count: page.totalMembers }) : t("board.empty");
}

// The first rows came in the page's HTML (server/page_board.py): they stay until the live
// board replaces them with the same rows, so nothing flashes; only the status is redrawn.
function loadBoard() {
  tabs();
  const served = $("board").dataset.served;
  delete $("board").dataset.served;
  const count = $("board-status").dataset.count;
  delete $("board-status").dataset.count;
  if (served === "ALL_TIME" && state.window === "ALL_TIME" && !board().community) {
    if (count) $("board-status").textContent = t("board.members", { count: Number(count) });
  } else if (served !== "") {
    $("board-status").textContent = t("common.loading");
  }
  state.stop?.();
  state.stop = subscribe(`subscription Live($board: BoardInput) { leaderboardChanged(board: $board, first: 10) { ${BOARD_FIELDS} } }`,
    { board: board() }, null, (data) => showBoard(data.leaderboardChanged),
    (error) => { $("board-status").textContent = error.message; });
}

async function around() {
  const data = await gql(`query Around($id: ID!, $board: BoardInput) { leaderboardAround(memberId: $id, board: $board, radius: 3) { ${BOARD_FIELDS} } }`,
    { id: state.me.member.id, board: board() });
  if (!data.leaderboardAround.entries.length) { $("board-status").textContent = t("board.not_on_board"); return; }
  state.stop?.();
  showBoard(data.leaderboardAround);
  $("board-status").textContent = t("board.around_you");
}

// Points as money: a slider over the admin's bounds, the value in money beside it.
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
    const off = t("discount.value", { count: points, amount: money.format(Math.floor(points * 100 / rule.pointsPerCurrencyUnit) / 100) });
    $("discount-value").textContent = balance == null ? off : `${off} ${t("discount.have", { count: balance })}`;
    const short = balance != null && balance < points;
    $("discount-go").disabled = !state.token || short;
    $("discount-go").textContent = t(!state.token ? "discount.signin" : short ? "discount.short" : "discount.go");
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
  $("discount-result").replaceChildren(t("discount.code", { amount: money.format(result.discount.valueCents / 100) }), " ",
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
  $("review-product").replaceChildren(...(open.length ? open.map((id) => el("option", { value: id }, id)) : [el("option", { value: "" }, t("review.nothing"))]));
}

// In English the API names its fields ("text must be 20 to 5000 characters long."); the
// page says what the shopper sees on the form. (Other languages' messages already say
// it in words.)
const FIELDS = ["text", "productId", "url", "platform", "points"];
function plain(issue) {
  const words = FIELDS.includes(issue.field) ? t(`field.${issue.field}`) : null;
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
  const target = { productId: "product", text: "text", photoId: "photo", url: "url", platform: "url", points: "points" }[issue.field] || fields[fields.length - 1];
  $(`${prefix}-${target}-error`).textContent = plain(issue);
  $(`${prefix}-${target}`).setAttribute("aria-invalid", "true");
  $(`${prefix}-${target}`).focus();
}

async function submitReview(event) {
  event.preventDefault();
  fieldErrors("review", null, ["product", "text", "photo"]);
  let photoId = null;
  try {
    photoId = await uploadChosenPhoto(state.token);
  } catch (error) {
    if (error.expired) signedOut(error.message);
    else photoError(error.message);
    return;
  }
  // The review's kind follows from the photo: with one it is a photo review.
  const data = await gql(`mutation Review($input: SubmitReviewInput!) { submitReview(input: $input) {
      __typename ... on ActivityRecorded { pointsAwarded } ... on ValidationError { field message } ... on Error { message } } }`,
    { input: { idempotencyKey: key(), productId: $("review-product").value, rating: Number($("review-rating").value), text: $("review-text").value, photoId } },
    state.token);
  const issue = problem(data.submitReview, "ActivityRecorded");
  fieldErrors("review", issue, ["product", "text", "photo"]);
  $("review-result").textContent = issue ? "" : t("review.thanks", { count: data.submitReview.pointsAwarded });
  if (!issue) { $("review-text").value = ""; clearPhoto(); await refreshMe(); }
}

async function submitShare(event) {
  event.preventDefault();
  const data = await gql(`mutation Share($input: RecordShareInput!) { recordShare(input: $input) {
      __typename ... on ActivityRecorded { pointsAwarded } ... on ValidationError { field message } ... on Error { message } } }`,
    { input: { idempotencyKey: key(), platform: $("share-platform").value, url: $("share-url").value } }, state.token);
  const issue = problem(data.recordShare, "ActivityRecorded");
  fieldErrors("share", issue, ["url"]);
  $("share-result").textContent = issue ? "" : t("share.done", { count: data.recordShare.pointsAwarded });
  if (!issue) await refreshMe();
}

// What an activity's points are now: pending points as pending, a refusal with its reason.
function standing(node) {
  const reason = node.decisionReason;
  if (node.status === "PENDING") return t("history.pending", { count: node.pendingPoints });
  if (node.status === "REJECTED") return reason ? t("history.rejected_because", { reason }) : t("history.rejected");
  if (node.status === "REVERSED") return reason ? t("history.reversed_because", { reason }) : t("history.reversed");
  return t("points", { count: node.points });
}

function showHistory(viewer) {
  const rows = viewer.activities.edges.map(({ node }) => el("li", { "data-status": node.status },
    `${t(`kind.${node.kind}`)} ${node.orderId || node.review?.productId || node.share?.url || ""} · ${standing(node)} · ${date.format(new Date(node.occurredAt))}`));
  $("activities").replaceChildren(...(rows.length ? rows : [el("li", { class: "muted" }, t("history.nothing"))]));
  const redeemed = viewer.redemptions.map((r) => el("li", {}, el("strong", {}, r.prize.name), ` · ${t(`redemption.${r.status}`)}`,
    r.status === "CANCELLED" ? null : codeBlock(r.code, r.prize.kind)));
  $("redemptions").replaceChildren(...(redeemed.length ? redeemed : [el("li", { class: "muted" }, t("history.no_redemptions"))]));
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
    if (!chosen) { $("signin-error").textContent = t("signin.choose_first"); $("demo-member").focus(); return; }
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
  toast(t("me.referral_copied"));
});

const earn = () => loadWaysToEarn($("earn"), state.me).catch((e) => { $("earn").textContent = e.message; });
// "How it works" (again: its public part read anew) and the contests, with the viewer's rows marked.
const howto = (again = true) => loadHowItWorks($("howto"), state.me, again).catch((e) => { $("howto").textContent = e.message; });
const contests = () => loadContests($("contests"), state.me?.member.id, state.me).catch((e) => { $("contests").textContent = e.message; });
await start();
// A new language draws again everything the page wrote (the static text is i18n.js's).
onLanguage(() => {
  if (state.me) showMe(state.me);
  else loadBoard();
  earn();
  howto(false);
  contests();
  loadShelf().catch((e) => { $("shelf").textContent = e.message; });
  if (!state.me) loadPrizes().catch((e) => { $("prizes").textContent = e.message; });
  if (!state.me) loadDiscount().catch(() => {});
});
loadBoard();
earn();
setUpPhoto();
applyShop({ brand: $("shop-brand"), faq: { section: $("how"), box: $("faq") } }).catch(() => {});
howto();
contests();
loadShelf().catch((e) => { $("shelf").textContent = e.message; });
loadPrizes().catch((e) => { $("prizes").textContent = e.message; });
loadDiscount().catch(() => {});
$("discount-form").addEventListener("submit", (e) => redeemDiscount(e).catch((err) => { $("discount-points-error").textContent = err.message; }));
demoMembers().catch(() => {});
if (state.token) signIn(state.token);
