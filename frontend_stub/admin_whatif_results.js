// What if, the answer: simulateProgram's two replays side by side, current rules against
// the draft. Points by kind as grouped bars (admin_charts.js, uPlot), the totals, the top
// members' ranks and points, and how each member's points change (quartiles).
import { el, number } from "/static/api.js";
import { groupedBars, money } from "/static/admin_charts.js";

const ORDER = ["REVIEW", "PHOTO_REVIEW", "SOCIAL_SHARE", "REFERRAL", "PURCHASE", "BONUS", "ADJUSTMENT"];
const KIND_LABELS = { REVIEW: "Reviews", PHOTO_REVIEW: "Photo reviews", SOCIAL_SHARE: "Shares", REFERRAL: "Referrals",
  PURCHASE: "Orders", BONUS: "Bonuses", ADJUSTMENT: "Adjustments" };
const PARTS = { earningRules: "ways to earn", tiers: "the tier ladder", pointsExpireDays: "points expiry", badges: "a badge's levels" };
const TOTALS = [
  ["pointsIssued", "Points issued", (v) => number.format(v)],
  ["pointsReversed", "Points taken back (refunds, corrections)", (v) => number.format(v)],
  ["pointsExpired", "Points expired", (v) => number.format(v)],
  ["pointsOutstanding", "Points outstanding at the end", (v) => number.format(v)],
  ["liabilityCents", "What they are worth (liability)", money],
];
const day = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeZone: "UTC" });
const tenths = new Intl.NumberFormat("en", { maximumFractionDigits: 1 });
const signed = new Intl.NumberFormat("en", { signDisplay: "exceptZero", maximumFractionDigits: 1 });

// options: { changed: the SimulationInput parts sent, names: badge slug -> name }
export function showResults(box, result, { changed = [], names = {} } = {}) {
  const tried = changed.map((k) => PARTS[k]).filter(Boolean);
  const chart = el("div", { class: "chart", id: "whatif-chart" });
  box.replaceChildren(
    el("p", {}, `${day.format(new Date(result.from))} to ${day.format(new Date(result.to))} (not included): `,
      `${number.format(result.events)} recorded events replayed. `,
      tried.length ? `The draft changes ${tried.join(", ")}.` : "Nothing was changed: the draft is today's rules."),
    el("h3", {}, "Points issued by kind"), chart,
    el("h3", {}, "Totals"), totals(result, names),
    el("h3", {}, "Top members under the draft"), top(result.top),
    el("h3", {}, "How each member's points change"), spread(result.pointChanges));
  const kinds = [...new Set([...result.current.byKind, ...result.draft.byKind].map((k) => k.kind))]
    .sort((a, b) => rank(a) - rank(b));
  const points = (side) => kinds.map((kind) => side.byKind.find((k) => k.kind === kind)?.points ?? 0);
  const count = (v) => number.format(v);
  groupedBars(chart, {
    caption: "Points issued by kind, current rules and draft",
    categories: kinds.map((k) => KIND_LABELS[k] ?? k),
    keys: kinds,
    series: [
      { label: "Current rules", values: points(result.current), format: count },
      { label: "Draft", values: points(result.draft), format: count },
    ],
  });
}

const rank = (kind) => (ORDER.includes(kind) ? ORDER.indexOf(kind) : ORDER.length);

function change(now, then, format = (v) => number.format(v)) {
  const d = then - now;
  return d === 0 ? "0" : `${d > 0 ? "+" : "−"}${format(Math.abs(d))}`;
}

const head = (...labels) => el("thead", {}, el("tr", {}, labels.map((l, i) => el("th", { scope: "col", class: i ? "num" : null }, l))));
// A part of the totals: its own row group, titled by its first row.
const section = (title, rows) => el("tbody", {}, el("tr", { class: "group-row" }, el("th", { scope: "rowgroup", colspan: "4" }, title)), rows);
const row = (attributes, label, ...cells) => el("tr", attributes, el("th", { scope: "row" }, label), cells.map((c) => el("td", { class: "num" }, c)));

function totals(result, names) {
  const { current, draft } = result;
  const tiers = [...new Set([...current.tierDistribution, ...draft.tierDistribution].map((t) => t.tier))];
  const members = (side, tier) => side.tierDistribution.find((t) => t.tier === tier)?.members ?? 0;
  const levels = [...new Map([...current.badgeLevels, ...draft.badgeLevels].map((b) => [`${b.slug}:${b.level}`, b])).values()]
    .sort((a, b) => a.slug.localeCompare(b.slug) || a.level - b.level);
  const granted = (side, b) => side.badgeLevels.find((x) => x.slug === b.slug && x.level === b.level)?.granted ?? 0;
  return el("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": "Totals" }, el("table", { class: "whatif-totals" },
    el("caption", { class: "sr-only" }, "Totals under the current rules and the draft"),
    head("Figure", "Current rules", "Draft", "Change"),
    section("Points", TOTALS.map(([name, label, format]) => row({ "data-figure": name }, label,
      format(current[name]), format(draft[name]), change(current[name], draft[name], format)))),
    section("Members per tier at the end", [
      ...tiers.map((t) => row({ "data-tier": t }, t, number.format(members(current, t)), number.format(members(draft, t)),
        change(members(current, t), members(draft, t)))),
      row({ "data-figure": "membersMovingUp" }, "Members in a higher tier under the draft", "–", number.format(result.membersMovingUp), ""),
      row({ "data-figure": "membersMovingDown" }, "Members in a lower tier under the draft", "–", number.format(result.membersMovingDown), ""),
    ]),
    section("Badge levels granted", levels.length
      ? levels.map((b) => row({ "data-badge-level": `${b.slug}:${b.level}` }, `${names[b.slug] ?? b.slug}, level ${b.level}`,
        number.format(granted(current, b)), number.format(granted(draft, b)), change(granted(current, b), granted(draft, b))))
      : row({}, "None in this range", "0", "0", ""))));
}

function moved(r) {
  if (r.currentRank == null) return "new";
  if (r.currentRank === r.draftRank) return "same";
  return r.draftRank < r.currentRank ? `up ${r.currentRank - r.draftRank}` : `down ${r.draftRank - r.currentRank}`;
}

function top(rows) {
  if (!rows.length) return el("p", { class: "muted" }, "No one earned points in this range.");
  return el("div", { class: "scroll tall", tabindex: "0", role: "region", "aria-label": "Top members under the draft" },
    el("table", { class: "whatif-top" },
      el("thead", {}, el("tr", {}, ["Member", "Rank now", "Rank, draft", "Moves", "Points now", "Points, draft"]
        .map((h, i) => el("th", { scope: "col", class: i && i !== 3 ? "num" : null }, h)))),
      el("tbody", {}, rows.map((r) => el("tr", { "data-member": r.memberId },
        el("th", { scope: "row" }, r.displayName),
        el("td", { class: "num" }, r.currentRank == null ? "–" : number.format(r.currentRank)),
        el("td", { class: "num" }, `→ ${number.format(r.draftRank)}`),
        el("td", {}, moved(r)),
        el("td", { class: "num" }, number.format(r.currentPoints)),
        el("td", { class: "num" }, `→ ${number.format(r.draftPoints)}`))))));
}

// Draft minus current points per member: the five figures, and a box plot of them.
function spread(c) {
  const figures = [["minimum", "Lowest"], ["lowerQuartile", "Lower quartile"], ["median", "Median"],
    ["upperQuartile", "Upper quartile"], ["maximum", "Highest"]];
  const low = Math.min(0, c.minimum);
  const high = Math.max(0, c.maximum);
  const at = (v) => `${high === low ? 50 : (100 * (v - low)) / (high - low)}%`;
  const part = (cls, from, to) => {
    const node = el("span", { class: cls });
    node.style.left = at(from);
    node.style.width = `calc(${at(to)} - ${at(from)})`;
    return node;
  };
  const zero = el("span", { class: "zero" });
  zero.style.left = at(0);
  return el("div", { class: "spread" },
    el("p", { class: "muted" }, `Per member who earned points in the range (${number.format(c.members)}): points under the draft minus points now.`),
    el("dl", { class: "figures" }, figures.map(([name, label]) => el("div", { class: "figure", "data-change": name },
      el("dt", {}, label), el("dd", {}, c[name] === 0 ? "0" : signed.format(c[name]))))),
    el("div", { class: "boxplot", "aria-hidden": "true" },
      part("whisker", c.minimum, c.maximum), part("box", c.lowerQuartile, c.upperQuartile), part("median", c.median, c.median), zero),
    el("p", { class: "muted hint" }, `The line spans lowest to highest, the box the middle half (${tenths.format(c.lowerQuartile)} to ${tenths.format(c.upperQuartile)}); the thin mark is no change.`));
}
