// The moderator console's contests: the list (statuses by the clock, dates with their
// times, refreshed as time passes) and the new-contest form with its errors in words.
import { el, gql, problem } from "/static/api.js";
import { t } from "/static/i18n.js";
import { failure, fieldErrors, parsePrizes, plain } from "/static/moderate_forms.js";
import { openContest, period, redraw, statusNow, tick } from "/static/moderate_contest_detail.js";

const $ = (id) => document.getElementById(id);
const CONTESTS = "query Contests { contests { id name status startsAt endsAt cancelReason } }";
const FIELDS = { "c-name": "c-name-error", "c-description": "c-description-error", "c-start": "c-end-error", "c-end": "c-end-error", "c-kinds": "c-kinds-error", "c-prizes": "c-prizes-error" };
const TARGET = { name: "c-name", description: "c-description", startsAt: "c-start", endsAt: "c-end", activityKinds: "c-kinds", prizes: "c-prizes" };
const state = { key: null, contests: [], timer: null };

/** Start the contests part for a moderator's `key`: the form, the list, the clock. */
export function startContests(key) {
  state.key = key;
  if (!state.timer) {
    $("contest-form").addEventListener("submit", createContest);
    fieldErrors(FIELDS, null); // every field described by its error element from the start
    // Statuses follow the clock: a contest's start or end passes while the page is open.
    state.timer = setInterval(() => { drawStatuses(); tick(); }, 5000);
  }
  return loadContests();
}

/** The page's language changed: the list and the open contest again. */
export function redrawContests() {
  drawList();
  redraw();
}

export async function loadContests() {
  try {
    state.contests = (await gql(CONTESTS, {}, state.key)).contests;
    $("contests-error").textContent = "";
  } catch (error) {
    $("contests-error").textContent = failure(error);
    return;
  }
  drawList();
}

function drawList() {
  const now = Date.now();
  $("contests").replaceChildren(...(state.contests.length ? state.contests.map((c) => el("li", { "data-contest": c.id },
    el("strong", {}, c.name), " · ", el("span", { class: "status", "data-status": statusNow(c, now) }, t(`mod.status.${statusNow(c, now)}`)),
    ` · ${period(c)} `, el("button", { type: "button", onclick: () => open(c) }, t("mod.open")))) : [el("li", { class: "muted" }, t("mod.no_contests"))]));
}

// Only the status words change as time passes (the list is not drawn again, so the
// focus stays where it is).
function drawStatuses() {
  const now = Date.now();
  for (const c of state.contests) {
    const span = document.querySelector(`#contests li[data-contest="${c.id}"] .status`);
    const status = statusNow(c, now);
    if (span && span.dataset.status !== status) { span.dataset.status = status; span.textContent = t(`mod.status.${status}`); }
  }
}

function open(contest) {
  openContest(contest, state.key, loadContests);
  $("detail-title").focus();
}

async function createContest(event) {
  event.preventDefault();
  const kinds = [...document.querySelectorAll("input[name=kind]:checked")].map((b) => b.value);
  const when = (id) => ($(id).value ? new Date($(id).value).toISOString() : null);
  const prizes = parsePrizes($("c-prizes").value);
  const input = { name: $("c-name").value, description: $("c-description").value, startsAt: when("c-start"), endsAt: when("c-end"), activityKinds: kinds, prizes: prizes.prizes };
  $("contest-result").textContent = "";
  $("contest-error").textContent = "";
  // The page's own checks first, in words, on the field they concern.
  if (!input.startsAt) return fieldErrors(FIELDS, { id: "c-start", message: t("mod.choose_dates") });
  if (!input.endsAt) return fieldErrors(FIELDS, { id: "c-end", message: t("mod.choose_dates") });
  if (prizes.error) return fieldErrors(FIELDS, { id: "c-prizes", message: prizes.error });
  let data;
  try {
    data = await gql(`mutation Create($input: CreateContestInput!) { createContest(input: $input) {
        __typename ... on ContestSaved { contest { id name status startsAt endsAt cancelReason } }
        ... on ValidationError { field message } ... on Error { message } } }`, { input }, state.key);
  } catch (error) {
    fieldErrors(FIELDS, null);
    $("contest-error").textContent = failure(error);
    return;
  }
  const issue = problem(data.createContest, "ContestSaved");
  const target = issue && TARGET[issue.field];
  fieldErrors(FIELDS, target ? { id: target, message: plain(issue.message) } : null);
  if (issue) { if (!target) $("contest-error").textContent = plain(issue.message); return; }
  const contest = data.createContest.contest;
  $("contest-result").textContent = t("mod.created", { name: contest.name });
  await loadContests();
  openContest(contest, state.key, loadContests);
}
