// Contests on the community page: the running ones with their live board (top rows,
// kept current by leaderboardChanged on the contest's board), and the past ones with
// their winners (the frozen placements) or, before they are finalized, a word saying so.
// A contest a holdout experiment keeps the signed-in shopper out of (viewer.holdouts) is
// not shown to them.
import { el, gql, subscribe } from "/static/api.js";
import { heldOut } from "/static/community_earn.js";
import { date, number, t } from "/static/i18n.js";

const TOP = 5;
const BOARD = `totalMembers entries { rank score member { id displayName } }`;
const CONTESTS = `query Contests {
  running: contests(status: RUNNING) { id name description endsAt prizes { fromRank toRank points } leaderboard(first: ${TOP}) { ${BOARD} } }
  ended: contests(status: ENDED) { id name endsAt }
  finalized: contests(status: FINALIZED) { id name endsAt results { rank score pointsAwarded member { id displayName } } }
}`;

let stops = [];

function rows(entries, myId, withPrize = false) {
  return entries.map((e) => el("tr", { class: e.member.id === myId ? "me" : null },
    el("td", {}, e.rank), el("td", {}, e.member.displayName), el("td", { class: "num" }, number.format(e.score)),
    withPrize ? el("td", { class: "num" }, e.pointsAwarded ? t("points", { count: e.pointsAwarded }) : "–") : null));
}

function table(id, body, withPrize = false) {
  return el("table", { class: "contest-board" },
    el("thead", {}, el("tr", {},
      el("th", { scope: "col" }, t("common.rank")), el("th", { scope: "col" }, t("common.member")),
      el("th", { scope: "col", class: "num" }, t("common.points")),
      withPrize ? el("th", { scope: "col", class: "num" }, t("contests.prize")) : null)),
    el("tbody", { id }, body));
}

function prizes(list) {
  return list.map((p) => t(p.fromRank === p.toRank ? "contests.prize_rank" : "contests.prize_ranks",
    { count: p.points, from: p.fromRank, to: p.toRank })).join(" · ");
}

function running(contest, myId) {
  const bodyId = `contest-board-${contest.id}`;
  const entries = contest.leaderboard.entries;
  return el("article", { class: "contest", "data-contest": contest.id, "data-status": "RUNNING" },
    el("h4", {}, contest.name),
    contest.description ? el("p", {}, contest.description) : null,
    el("p", { class: "muted" }, [t("contests.ends", { date: date.format(new Date(contest.endsAt)) }), prizes(contest.prizes)].filter(Boolean).join(" · ")),
    entries.length ? table(bodyId, rows(entries, myId)) : el("p", { class: "muted", id: bodyId }, t("contests.no_scores")));
}

function past(contest, myId) {
  const winners = (contest.results || []).slice(0, 3);
  return el("article", { class: "contest", "data-contest": contest.id, "data-status": contest.results ? "FINALIZED" : "ENDED" },
    el("h4", {}, contest.name),
    el("p", { class: "muted" }, t("contests.ended", { date: date.format(new Date(contest.endsAt)) })),
    !contest.results ? el("p", {}, t("contests.awaiting"))
      : winners.length ? table(`contest-winners-${contest.id}`, rows(winners, myId, true), true)
      : el("p", { class: "muted" }, t("contests.no_winners")));
}

function live(contest, myId) {
  return subscribe(`subscription ContestBoard($board: BoardInput) { leaderboardChanged(board: $board, first: ${TOP}) { ${BOARD} } }`,
    { board: { contestId: contest.id } }, null, (data) => {
      const body = document.getElementById(`contest-board-${contest.id}`);
      const entries = data.leaderboardChanged.entries;
      if (body?.tagName === "TBODY" && entries.length) body.replaceChildren(...rows(entries, myId));
    });
}

/** The contests card (#contests); `myId` marks the signed-in member's rows, `me` (the
 * viewer, or null) says which contests they are held out of. */
export async function loadContests(box, myId = null, me = null) {
  const data = await gql(CONTESTS);
  for (const stop of stops) stop();
  const shown = (contests) => contests.filter((c) => !heldOut(me, "CONTEST", c.id));
  const now = shown(data.running).slice(0, 3);
  stops = now.map((c) => live(c, myId));
  const done = shown([...data.ended, ...data.finalized]).sort((a, b) => b.endsAt.localeCompare(a.endsAt)).slice(0, 3);
  box.replaceChildren(
    el("h3", {}, t("contests.running")),
    ...(now.length ? now.map((c) => running(c, myId)) : [el("p", { class: "muted" }, t("contests.none_running"))]),
    el("h3", {}, t("contests.past")),
    ...(done.length ? done.map((c) => past(c, myId)) : [el("p", { class: "muted" }, t("contests.none_past"))]));
}
