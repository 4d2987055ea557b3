// One contest in the moderator console: what it is now by the clock, only the actions
// valid in that state (server/actions/contest_lifecycle.py, contest_results.py), its
// live board, disqualifying a contestant picked from that board and reinstating them.
import { el, gql, number, problem, subscribe } from "/static/api.js";
import { dateTime, t } from "/static/i18n.js";
import { failure, fieldErrors, plain } from "/static/moderate_forms.js";

const $ = (id) => document.getElementById(id);
const BOARD = "entries { rank score member { id displayName } }";
const DETAIL = `query Contest($id: ID!) { contest(id: $id) { id name status startsAt endsAt cancelReason
  leaderboard(first: 25) { ${BOARD} } disqualified { reason decidedAt member { id displayName } }
  results { rank score pointsAwarded badgeSlug member { displayName } } } }`;
const RESULT = "__typename ... on ValidationError { field message } ... on Error { message }";
const LIVE = ["SCHEDULED", "RUNNING", "ENDED"]; // a board that can still change
const DQ_FIELDS = { "dq-member": "dq-member-error", "dq-reason": "dq-reason-error" };
const CANCEL_FIELDS = { "cancel-reason": "cancel-reason-error" };

/** The contest's status now: the server's, except that a published contest's window is
 * read off this browser's clock (the page may have been open across its start or end). */
export function statusNow(contest, now = Date.now()) {
  if (!LIVE.includes(contest.status)) return contest.status;
  if (now < Date.parse(contest.startsAt)) return "SCHEDULED";
  return now < Date.parse(contest.endsAt) ? "RUNNING" : "ENDED";
}

export const period = (c) => `${dateTime.format(new Date(c.startsAt))} – ${dateTime.format(new Date(c.endsAt))}`;

let shown = null; // { contest, key, changed, status, stop, entries, disqualified, results }

/** Show `contest` (from the list) in #contest-detail; `changed` reloads the list. */
export function openContest(contest, key, changed) {
  shown?.stop?.();
  const mine = { contest, key, changed, status: statusNow(contest), stop: null, entries: [], disqualified: [], results: [] };
  shown = mine;
  $("contest-detail").replaceChildren(el("h3", { id: "detail-title", tabindex: "-1" }, contest.name),
    el("p", { id: "detail-when" }), el("p", { id: "detail-error", class: "error", role: "alert" }),
    el("div", { id: "detail-actions" }), el("div", { id: "detail-board" }), el("div", { id: "detail-dq" }), el("div", { id: "detail-results" }));
  draw();
  reload(mine);
  if (LIVE.includes(contest.status)) {
    mine.stop = subscribe(`subscription($board: BoardInput) { leaderboardChanged(board: $board, first: 25) { ${BOARD} } }`,
      { board: { contestId: contest.id } }, key, (data) => {
        if (shown !== mine) return;
        mine.entries = data.leaderboardChanged.entries;
        drawBoard();
      }, (error) => console.warn("Laurel moderator console: the live board", error));
  }
}

/** The clock moved on: draw the contest again if its status changed meanwhile. */
export function tick() {
  if (shown && statusNow(shown.contest) !== shown.status) { shown.status = statusNow(shown.contest); draw(); }
}

/** The page's language changed: draw the open contest again. */
export const redraw = () => shown && draw();

async function reload(mine) {
  try {
    const { contest } = await gql(DETAIL, { id: mine.contest.id }, mine.key);
    if (shown !== mine || !contest) return;
    Object.assign(mine, { contest, status: statusNow(contest), entries: contest.leaderboard.entries, disqualified: contest.disqualified, results: contest.results });
    draw();
  } catch (error) {
    if (shown === mine) $("detail-error").textContent = failure(error);
  }
}

// A mutation from this panel: its expected failure next to its field (or above the
// panel), every error cleared by a success, then the list and the panel read again
// (the focus goes to the panel's title if the button pressed is gone). True if it worked.
async function run(mutation, variables, fields = null, target = {}) {
  const mine = shown;
  try {
    const data = await gql(mutation, variables, mine.key);
    const issue = problem(Object.values(data)[0], "ContestSaved");
    if (fields) fieldErrors(fields, issue && target[issue.field] ? { id: target[issue.field], message: plain(issue.message) } : null);
    $("detail-error").textContent = issue && !(fields && target[issue.field]) ? plain(issue.message) : "";
    if (issue) return false;
  } catch (error) {
    $("detail-error").textContent = failure(error);
    return false;
  }
  mine.changed();
  await reload(mine);
  if (shown === mine && [null, document.body].includes(document.activeElement)) $("detail-title").focus();
  return true;
}

const button = (key, onclick, primary = false) => el("button", { type: "button", class: primary ? "primary" : null, onclick }, t(key));
const mutation = (name, args, params) => `mutation(${args}) { ${name}(${params}) { ${RESULT} } }`;

function draw() {
  const { contest: c, status } = shown;
  $("detail-when").textContent = `${t(`mod.status.${status}`)} · ${period(c)}` + (c.cancelReason ? ` · ${t("mod.cancelled_because", { reason: c.cancelReason })}` : "");
  const id = c.id;
  const actions = [];
  if (status === "DRAFT") actions.push(button("mod.publish", () => run(mutation("publishContest", "$id: ID!", "id: $id"), { id }), true));
  if (status === "ENDED") actions.push(button("mod.finalize", () => run(mutation("finalizeContest", "$id: ID!", "id: $id"), { id }), true));
  const cancel = !["FINALIZED", "CANCELLED"].includes(status) && el("form", { class: "row", novalidate: true, onsubmit: (event) => {
    event.preventDefault();
    const reason = $("cancel-reason").value.trim();
    if (!reason) { fieldErrors(CANCEL_FIELDS, { id: "cancel-reason", message: t("mod.reason_needed") }); return; }
    run(mutation("cancelContest", "$id: ID!, $r: String!", "id: $id, reason: $r"), { id, r: reason }, CANCEL_FIELDS, { reason: "cancel-reason" });
  } }, el("div", {}, el("label", { for: "cancel-reason" }, t("mod.cancel_reason")), el("input", { id: "cancel-reason" }),
    el("p", { class: "field-error", id: "cancel-reason-error" })), el("button", { type: "submit" }, t("mod.cancel_contest")));
  $("detail-actions").replaceChildren(el("div", { class: "row" }, ...actions), cancel || "");
  drawBoard();
  drawDisqualified();
  $("detail-results").replaceChildren(...(status === "FINALIZED" ? [el("h4", {}, t("mod.results")), el("ul", { class: "plain", id: "results" }, ...shown.results.map((r) =>
    el("li", {}, t("mod.result", { rank: r.rank, name: r.member.displayName, count: r.score, prize: r.pointsAwarded }) + (r.badgeSlug ? ` + ${r.badgeSlug}` : ""))))] : []));
}

// The board, and the disqualify form picking one of its rows (the choice kept as it moves).
function drawBoard() {
  const { status, entries } = shown;
  if (!LIVE.includes(status)) { $("detail-board").replaceChildren(); return; }
  const rows = entries.map((e) => el("tr", { "data-member": e.member.id }, el("td", {}, e.rank), el("td", {}, e.member.displayName), el("td", { class: "num" }, number.format(e.score))));
  $("detail-board").replaceChildren(el("h4", {}, t("mod.board")), rows.length
    ? el("table", { id: "contest-board" }, el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("common.rank")), el("th", { scope: "col" }, t("common.member")), el("th", { scope: "col", class: "num" }, t("mod.score")))), el("tbody", {}, ...rows))
    : el("p", { class: "muted" }, t("mod.board_empty")));
  if (status === "SCHEDULED") return;
  const picked = $("dq-member")?.value || "";
  const options = entries.map((e) => el("option", { value: e.member.id }, t("mod.contestant", { rank: e.rank, name: e.member.displayName, count: e.score })));
  if (!$("dq-form")) {
    $("detail-board").after(el("form", { id: "dq-form", novalidate: true, onsubmit: disqualify },
      el("h4", {}, t("mod.disqualify_title")), el("div", { class: "row" },
        el("div", {}, el("label", { for: "dq-member" }, t("mod.contestant_label")), el("select", { id: "dq-member" }), el("p", { class: "field-error", id: "dq-member-error" })),
        el("div", {}, el("label", { for: "dq-reason" }, t("mod.reason")), el("input", { id: "dq-reason" }), el("p", { class: "field-error", id: "dq-reason-error" }))),
      el("button", { type: "submit" }, t("mod.disqualify"))));
  }
  $("dq-member").replaceChildren(el("option", { value: "" }, t("mod.contestant_choose")), ...options);
  $("dq-member").value = entries.some((e) => e.member.id === picked) ? picked : "";
}

function disqualify(event) {
  event.preventDefault();
  const member = $("dq-member").value;
  const reason = $("dq-reason").value.trim();
  if (!member) return fieldErrors(DQ_FIELDS, { id: "dq-member", message: t("mod.contestant_needed") });
  if (!reason) return fieldErrors(DQ_FIELDS, { id: "dq-reason", message: t("mod.reason_needed") });
  return run(mutation("disqualifyContestant", "$c: ID!, $m: ID!, $r: String!", "contestId: $c, memberId: $m, reason: $r"),
    { c: shown.contest.id, m: member, r: reason }, DQ_FIELDS, { reason: "dq-reason", memberId: "dq-member" })
    .then((done) => { if (done && $("dq-reason")) $("dq-reason").value = ""; });
}

function drawDisqualified() {
  const { status, disqualified, contest } = shown;
  if (!["RUNNING", "ENDED"].includes(status)) $("dq-form")?.remove();
  if (!disqualified.length) { $("detail-dq").replaceChildren(); return; }
  $("detail-dq").replaceChildren(el("h4", {}, t("mod.disqualified")), el("ul", { class: "plain", id: "disqualified" }, ...disqualified.map((d) => el("li", { "data-member": d.member.id },
    el("strong", {}, d.member.displayName), ` · ${d.reason} · ${dateTime.format(new Date(d.decidedAt))} `,
    status === "FINALIZED" || status === "CANCELLED" ? null : button("mod.reinstate", () => run(mutation("reinstateContestant", "$c: ID!, $m: ID!", "contestId: $c, memberId: $m"), { c: contest.id, m: d.member.id }))))));
}
