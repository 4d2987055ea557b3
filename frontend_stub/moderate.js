// The moderator console: the moderation queue and contests, with a moderator API key.
import { date, el, gql, number, offerDemoKey, problem, subscribe, toast } from "/static/api.js";

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
    $("signin-error").textContent = `Could not sign in: ${error.message}`;
  }
}

async function loadQueue() {
  const { moderationQueue } = await gql(QUEUE, {}, state.key);
  if (!moderationQueue.length) { $("queue").replaceChildren(el("li", { class: "muted" }, "Nothing waits. Well done.")); return; }
  $("queue").replaceChildren(...moderationQueue.map((a) => {
    const reason = el("input", { "aria-label": `Reason for ${a.member.displayName}'s ${a.kind.toLowerCase()}`, placeholder: "Reason (optional)" });
    const error = el("p", { class: "field-error", role: "alert" });
    const decide = (decision) => async () => {
      const data = await gql(`mutation Decide($input: ModerateActivityInput!) { moderateActivity(input: $input) {
          __typename ... on ActivityRecorded { pointsAwarded } ... on Error { message } } }`,
        { input: { activityId: a.id, decision, reason: reason.value || null } }, state.key);
      const issue = problem(data.moderateActivity, "ActivityRecorded");
      if (issue) { error.textContent = issue.message; return; }
      toast(decision === "APPROVE" ? `Approved: ${data.moderateActivity.pointsAwarded} points to ${a.member.displayName}.` : "Rejected.");
      loadQueue();
    };
    const what = a.review
      ? [el("strong", {}, `${a.member.displayName} reviewed ${a.review.productId} (${a.review.rating}/5${a.review.hasPhoto ? ", photo" : ""})`), el("p", {}, a.review.text)]
      : [el("strong", {}, `${a.member.displayName}: ${a.kind.toLowerCase()}`), el("p", { class: "muted" }, a.flagReason || "")];
    return el("li", { "data-activity": a.id }, ...what, el("div", { class: "row" }, reason,
      el("button", { type: "button", class: "primary", onclick: decide("APPROVE") }, "Approve"),
      el("button", { type: "button", onclick: decide("REJECT") }, "Reject")), error);
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
  if (!input.startsAt || !input.endsAt) { $("c-end-error").textContent = "Choose when it starts and ends."; return; }
  const data = await gql(`mutation Create($input: CreateContestInput!) { createContest(input: $input) {
      __typename ... on ContestSaved { contest { id name } } ... on ValidationError { field message } ... on Error { message } } }`, { input }, state.key);
  const issue = problem(data.createContest, "ContestSaved");
  if (issue) {
    const target = { name: "name", endsAt: "end", startsAt: "end", activityKinds: "kinds", prizes: "prizes" }[issue.field] || "name";
    $(`c-${target}-error`).textContent = issue.message;
    return;
  }
  $("contest-result").textContent = `Draft "${data.createContest.contest.name}" created: publish it from the list.`;
  loadContests();
}

async function loadContests() {
  const { contests } = await gql(CONTESTS, {}, state.key);
  $("contests").replaceChildren(...(contests.length ? contests.map((c) => el("li", {},
    el("strong", {}, c.name), ` · ${c.status.toLowerCase()} · ${date.format(new Date(c.startsAt))} – ${date.format(new Date(c.endsAt))} `,
    el("button", { type: "button", onclick: () => openContest(c) }, "Open"))) : [el("li", { class: "muted" }, "No contests yet.")]));
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
  const member = el("input", { "aria-label": "Member id to disqualify", placeholder: "Member id" });
  const reason = el("input", { "aria-label": "Reason", placeholder: "Reason" });
  const results = el("div");
  const run = (fn) => () => fn().then(() => { loadContests(); }).catch((e) => { error.textContent = e.message; });
  $("contest-detail").replaceChildren(el("h3", {}, contest.name), error,
    el("div", { class: "row" },
      el("button", { type: "button", onclick: run(() => act("mutation($id: ID!) { publishContest(id: $id) { __typename ... on Error { message } } }", { id: contest.id })) }, "Publish"),
      el("button", { type: "button", class: "primary", onclick: run(async () => {
        await act("mutation($id: ID!) { finalizeContest(id: $id) { __typename ... on Error { message } } }", { id: contest.id });
        await showResults(contest, results);
      }) }, "Finalize")),
    el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Rank"), el("th", {}, "Member"), el("th", { class: "num" }, "Score"))), board),
    el("div", { class: "row" }, member, reason, el("button", { type: "button", onclick: run(() => act(
      "mutation($c: ID!, $m: ID!, $r: String!) { disqualifyContestant(contestId: $c, memberId: $m, reason: $r) { __typename ... on Error { message } } }",
      { c: contest.id, m: member.value, r: reason.value })) }, "Disqualify")),
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
  target.replaceChildren(el("h4", {}, "Results"), el("ul", { class: "plain" }, ...found.results.map((r) =>
    el("li", {}, `#${r.rank} ${r.member.displayName}: ${number.format(r.score)} points, prize ${number.format(r.pointsAwarded)}${r.badgeSlug ? ` + ${r.badgeSlug}` : ""}`))));
}

$("signin").addEventListener("submit", (event) => { event.preventDefault(); signIn($("key").value.trim()); });
$("signout").addEventListener("click", () => { sessionStorage.removeItem("laurel.moderator"); location.reload(); });
$("contest-form").addEventListener("submit", (e) => createContest(e).catch((err) => { $("contest-result").textContent = err.message; }));
offerDemoKey("/demo/moderator-key", $("demo-key"), (key) => { $("key").value = key; signIn(key); });
if (state.key) signIn(state.key);
