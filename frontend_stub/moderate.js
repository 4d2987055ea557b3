// The moderator console: the moderation queue and contests, with a moderator API key.
import { el, gql, offerDemoKey, problem, subscribe, toast } from "/static/api.js";
import { date, number, onLanguage, start, t } from "/static/i18n.js";

const $ = (id) => document.getElementById(id);
const state = { key: sessionStorage.getItem("laurel.moderator"), stop: null };

const QUEUE = `query Queue { moderationQueue(first: 50) {
  id kind occurredAt flagReason member { displayName } review { productId rating text hasPhoto } } }`;
const CONTESTS = `query { contests { id name status startsAt endsAt activityKinds prizes { fromRank toRank points badgeSlug } } }`;

async function signIn(key) {
  $("signin-error").textContent = "";
  try {
    await gql(QUEUE, {}, key);
    state.key = key;
    sessionStorage.setItem("laurel.moderator", key);
    $("signin").hidden = true;
    $("who").hidden = false;
    $("console").hidden = false;
    await Promise.all([loadQueue(), loadContests()]);
  } catch (error) {
    $("signin-error").textContent = t("common.signin_failed", { error: error.message });
  }
}

async function loadQueue() {
  const { moderationQueue } = await gql(QUEUE, {}, state.key);
  if (!moderationQueue.length) { $("queue").replaceChildren(el("li", { class: "muted" }, t("mod.queue_empty"))); return; }
  $("queue").replaceChildren(...moderationQueue.map((a) => {
    const kind = t(`kind.${a.kind}`).toLowerCase();
    const reason = el("input", { "aria-label": t("mod.reason_for", { name: a.member.displayName, kind }), placeholder: t("mod.reason_optional") });
    const error = el("p", { class: "field-error", role: "alert" });
    const decide = (decision) => async () => {
      const data = await gql(`mutation Decide($input: ModerateActivityInput!) { moderateActivity(input: $input) {
          __typename ... on ActivityRecorded { pointsAwarded } ... on Error { message } } }`,
        { input: { activityId: a.id, decision, reason: reason.value || null } }, state.key);
      const issue = problem(data.moderateActivity, "ActivityRecorded");
      if (issue) { error.textContent = issue.message; return; }
      toast(decision === "APPROVE" ? t("mod.approved", { count: data.moderateActivity.pointsAwarded, name: a.member.displayName }) : t("mod.rejected"));
      loadQueue();
    };
    const what = a.review
      ? [el("strong", {}, t(a.review.hasPhoto ? "mod.reviewed_photo" : "mod.reviewed", { name: a.member.displayName, product: a.review.productId, rating: a.review.rating })), el("p", {}, a.review.text)]
      : [el("strong", {}, t("mod.activity", { name: a.member.displayName, kind })), el("p", { class: "muted" }, a.flagReason || "")];
    return el("li", { "data-activity": a.id }, ...what, el("div", { class: "row" }, reason,
      el("button", { type: "button", class: "primary", onclick: decide("APPROVE") }, t("mod.approve")),
      el("button", { type: "button", onclick: decide("REJECT") }, t("mod.reject"))), error);
  }));
}

function parsePrizes(text) {
  return text.split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
    const [range, points, badgeSlug] = line.split(/\s+/);
    const [from, to] = range.split("-").map(Number);
    return { fromRank: from, toRank: to ?? from, points: Number(points || 0), badgeSlug: badgeSlug || null };
  });
}

async function createContest(event) {
  event.preventDefault();
  for (const id of ["name", "end", "kinds", "prizes"]) $(`c-${id}-error`).textContent = "";
  const kinds = [...document.querySelectorAll("input[name=kind]:checked")].map((b) => b.value);
  const when = (id) => ($(id).value ? new Date($(id).value).toISOString() : null);
  const input = { name: $("c-name").value, description: $("c-description").value, startsAt: when("c-start"), endsAt: when("c-end"), activityKinds: kinds, prizes: parsePrizes($("c-prizes").value) };
  if (!input.startsAt || !input.endsAt) { $("c-end-error").textContent = t("mod.choose_dates"); return; }
  const data = await gql(`mutation Create($input: CreateContestInput!) { createContest(input: $input) {
      __typename ... on ContestSaved { contest { id name } } ... on ValidationError { field message } ... on Error { message } } }`, { input }, state.key);
  const issue = problem(data.createContest, "ContestSaved");
  if (issue) {
    const target = { name: "name", endsAt: "end", startsAt: "end", activityKinds: "kinds", prizes: "prizes" }[issue.field] || "name";
    $(`c-${target}-error`).textContent = issue.message;
    return;
  }
  $("contest-result").textContent = t("mod.created", { name: data.createContest.contest.name });
  loadContests();
}

async function loadContests() {
  const { contests } = await gql(CONTESTS, {}, state.key);
  $("contests").replaceChildren(...(contests.length ? contests.map((c) => el("li", {},
    el("strong", {}, c.name), ` · ${t(`contest.${c.status}`)} · ${date.format(new Date(c.startsAt))} – ${date.format(new Date(c.endsAt))} `,
    el("button", { type: "button", onclick: () => openContest(c) }, t("mod.open")))) : [el("li", { class: "muted" }, t("mod.no_contests"))]));
}

async function act(mutation, variables) {
  const data = await gql(mutation, variables, state.key);
  const result = Object.values(data)[0];
  const issue = problem(result, "ContestSaved");
  if (issue) throw new Error(issue.message);
  return result;
}

function openContest(contest) {
  state.stop?.();
  const board = el("tbody");
  const error = el("p", { class: "error", role: "alert" });
  const member = el("input", { "aria-label": t("mod.member_to_disqualify"), placeholder: t("mod.member_id") });
  const reason = el("input", { "aria-label": t("mod.reason"), placeholder: t("mod.reason") });
  const results = el("div");
  const run = (fn) => () => fn().then(() => { loadContests(); }).catch((e) => { error.textContent = e.message; });
  $("contest-detail").replaceChildren(el("h3", {}, contest.name), error,
    el("div", { class: "row" },
      el("button", { type: "button", onclick: run(() => act("mutation($id: ID!) { publishContest(id: $id) { __typename ... on Error { message } } }", { id: contest.id })) }, t("mod.publish")),
      el("button", { type: "button", class: "primary", onclick: run(async () => {
        await act("mutation($id: ID!) { finalizeContest(id: $id) { __typename ... on Error { message } } }", { id: contest.id });
        await showResults(contest, results);
      }) }, t("mod.finalize"))),
    el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, t("common.rank")), el("th", {}, t("common.member")), el("th", { class: "num" }, t("mod.score")))), board),
    el("div", { class: "row" }, member, reason, el("button", { type: "button", onclick: run(() => act(
      "mutation($c: ID!, $m: ID!, $r: String!) { disqualifyContestant(contestId: $c, memberId: $m, reason: $r) { __typename ... on Error { message } } }",
      { c: contest.id, m: member.value, r: reason.value })) }, t("mod.disqualify"))),
    results);
  state.stop = subscribe(`subscription($board: BoardInput) { leaderboardChanged(board: $board, first: 10) {
      entries { rank score member { id displayName } } } }`, { board: { contestId: contest.id } }, state.key, (data) => {
    board.replaceChildren(...data.leaderboardChanged.entries.map((e) => el("tr", {},
      el("td", {}, e.rank), el("td", {}, `${e.member.displayName} (#${e.member.id})`), el("td", { class: "num" }, number.format(e.score)))));
  });
  if (contest.status === "FINALIZED") showResults(contest, results);
}

async function showResults(contest, target) {
  const { contest: found } = await gql(`query($id: ID!) { contest(id: $id) { results { rank score pointsAwarded badgeSlug member { displayName } } } }`, { id: contest.id }, state.key);
  target.replaceChildren(el("h4", {}, t("mod.results")), el("ul", { class: "plain" }, ...found.results.map((r) =>
    el("li", {}, t("mod.result", { rank: r.rank, name: r.member.displayName, count: r.score, prize: r.pointsAwarded }) + (r.badgeSlug ? ` + ${r.badgeSlug}` : "")))));
}

$("signin").addEventListener("submit", (event) => { event.preventDefault(); signIn($("key").value.trim()); });
$("signout").addEventListener("click", () => { sessionStorage.removeItem("laurel.moderator"); location.reload(); });
$("contest-form").addEventListener("submit", (e) => createContest(e).catch((err) => { $("contest-result").textContent = err.message; }));
await start();
onLanguage(() => { if (state.key && !$("console").hidden) { loadQueue(); loadContests(); } });
offerDemoKey("/demo/moderator-key", $("demo-key"), (key) => { $("key").value = key; signIn(key); });
if (state.key) signIn(state.key);
