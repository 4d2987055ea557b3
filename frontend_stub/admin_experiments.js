// Experiments: holdout groups (README, Experiments). The list (experiments), a form that
// starts one (createExperiment), End (endExperiment), and a chosen one's report
// (experimentReport): each arm, each figure's difference with its 95% interval and the
// relative difference, the method, and any warning first, where it cannot be missed.
import { el, gql, number, toast } from "/static/api.js";
import { form, table } from "/static/admin_forms.js";
import { money } from "/static/admin_charts.js";

const $ = (id) => document.getElementById(id);
const ERR = "... on Error { message } ... on ValidationError { field }";
const EXPERIMENT = "id name target { kind ref } holdoutPercent startedAt endedAt running createdBy";
const CATALOG = "query { earningRules { kind } badges { slug name } contests { id name status } }";
const FIGURE = "treatment holdout treatmentCount holdoutCount difference differenceInterval { low high } relativeDifference relativeInterval { low high } warning";
const REPORT = `query($id: ID!) { experimentReport(id: $id) { experiment { ${EXPERIMENT} } start end method confidenceLevel
  treatment { members buyers } holdout { members buyers }
  retentionRate { ${FIGURE} } repeatPurchaseRate { ${FIGURE} } averageOrderValueCents { ${FIGURE} }
  revenuePerMemberCents { ${FIGURE} } pointsIssuedPerMember { ${FIGURE} } } }`;
const KINDS = { EARNING_RULE: "Points for a way to earn", BADGE: "A badge", TIER_MULTIPLIER: "The tier multiplier", CONTEST: "A contest" };
const RULES = { REVIEW: "Reviews", PHOTO_REVIEW: "Reviews with a photo", SOCIAL_SHARE: "Shares", REFERRAL: "Referrals", PURCHASE: "Orders" };
const OVER = new Set(["ENDED", "FINALIZED", "CANCELLED"]);
const when = (iso) => new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
const share = (v) => `${(v * 100).toFixed(1)}%`;
const points = (v) => v.toLocaleString("en", { maximumFractionDigits: 1 });
const sign = (v, text) => (v > 0 ? `+${text}` : v < 0 ? `−${text}` : text); // text: the size
// The report's figures: label, how a mean is written, how a difference is written.
const FIGURES = [
  ["retentionRate", "Retention (bought before and again)", share, (d) => sign(d, `${(Math.abs(d) * 100).toFixed(1)} pp`)],
  ["repeatPurchaseRate", "Buyers who came back", share, (d) => sign(d, `${(Math.abs(d) * 100).toFixed(1)} pp`)],
  ["averageOrderValueCents", "Average order", money, (d) => sign(d, money(Math.abs(d)))],
  ["revenuePerMemberCents", "Revenue per member", money, (d) => sign(d, money(Math.abs(d)))],
  ["pointsIssuedPerMember", "Points issued per member", points, (d) => sign(d, points(Math.abs(d)))],
];
let key = null;
let catalog = null;
// A table that may scroll sideways on a small screen: a region the keyboard can reach.
const scrolling = (label, headers, rows) => {
  const box = table(headers, rows);
  box.tabIndex = 0;
  box.setAttribute("role", "region");
  box.setAttribute("aria-label", label);
  return box;
};
let shown = null; // the id of the experiment whose report is open

export async function loadExperiments(adminKey) {
  key = adminKey;
  const { earningRules, badges, contests } = await gql(CATALOG, {}, key);
  catalog = { rules: earningRules.map((r) => r.kind), badges, contests };
  newExperiment();
  await list();
}

function target(t) {
  if (t.kind === "EARNING_RULE") return `Points for ${(RULES[t.ref] ?? t.ref).toLowerCase()}`;
  if (t.kind === "BADGE") return `Badge: ${catalog.badges.find((b) => b.slug === t.ref)?.name ?? t.ref}`;
  if (t.kind === "CONTEST") return `Contest: ${catalog.contests.find((c) => c.id === t.ref)?.name ?? t.ref}`;
  return "The tier multiplier";
}

// The choices for a target kind: [ref, label].
function refs(kind) {
  if (kind === "EARNING_RULE") return catalog.rules.map((k) => [k, RULES[k] ?? k]);
  if (kind === "BADGE") return catalog.badges.map((b) => [b.slug, b.name]);
  if (kind === "CONTEST") {
    const open = catalog.contests.filter((c) => !OVER.has(c.status));
    return open.length ? open.map((c) => [c.id, c.name]) : [["", "No contest is running or coming"]];
  }
  return [["", "Nothing to choose: every tier's multiplier"]];
}

async function list() {
  const { experiments } = await gql(`query { experiments { ${EXPERIMENT} } }`, {}, key);
  const rows = experiments.map((x) => el("tr", { "data-experiment": x.name },
    el("th", { scope: "row" }, x.name),
    el("td", {}, target(x.target)),
    el("td", { class: "num" }, `${number.format(x.holdoutPercent)}%`),
    el("td", {}, when(x.startedAt)),
    el("td", {}, x.running ? "Running" : `Ended ${when(x.endedAt)}`),
    el("td", {}, el("div", { class: "row" },
      el("button", { type: "button", "aria-label": `Report of ${x.name}`, onclick: () => report(x.id) }, "Report"),
      x.running ? el("button", { type: "button", "aria-label": `End ${x.name}`, onclick: () => end(x) }, "End") : null))));
  $("experiment-list").replaceChildren(experiments.length
    ? scrolling("Experiments", ["Name", "Holds out of", "Held out", "Started", "State", "Actions"], rows)
    : el("p", { class: "muted" }, "No experiment yet: start one below."));
}

function newExperiment() {
  const made = form({
    label: "New experiment",
    submitLabel: "Start experiment",
    fields: [
      { name: "name", label: "Name", required: true, hint: "For example: Do review points bring orders?" },
      { name: "kind", label: "Hold members out of", type: "select", value: "EARNING_RULE", options: Object.entries(KINDS) },
      { name: "ref", label: "Which one", type: "select", value: "", options: refs("EARNING_RULE") },
      { name: "holdoutPercent", label: "Share of members held out (%)", type: "number", min: "1", value: 10,
        hint: "1 to 90. They are picked at random and stay in their group while it runs." },
    ],
    success: "ExperimentSaved",
    submit: async (v) => (await gql(`mutation($i: CreateExperimentInput!) { createExperiment(input: $i) { __typename ... on ExperimentSaved { experiment { id name } } ${ERR} } }`,
      { i: { name: v.name, target: { kind: v.kind, ref: v.ref ?? "" }, holdoutPercent: v.holdoutPercent ?? 0 } }, key)).createExperiment,
    done: async (result) => { toast(`${result.experiment.name} started.`); newExperiment(); await list(); },
  });
  const byName = Object.fromEntries(made.fields.map((f) => [f.spec.name, f.input]));
  byName.kind.addEventListener("change", () => {
    byName.ref.replaceChildren(...refs(byName.kind.value).map(([value, label]) => el("option", { value }, label)));
  });
  $("experiment-new").replaceChildren(made.node);
}

async function end(x) {
  if (!confirm(`End “${x.name}”? From now on everyone gets ${target(x.target).toLowerCase()} again.`)) return;
  try {
    const { endExperiment: r } = await gql(`mutation($id: ID!) { endExperiment(id: $id) { __typename ... on ExperimentSaved { experiment { id } } ... on Error { message } } }`, { id: x.id }, key);
    toast(r.__typename === "ExperimentSaved" ? `${x.name} ended.` : r.message);
    await list();
    if (shown === x.id) await report(x.id, false);
  } catch (error) {
    toast(error.message);
  }
}

// The report of one experiment, opened below the list; focus goes to its heading.
async function report(id, focus = true) {
  const card = $("experiment-report-card");
  card.hidden = false;
  card.setAttribute("aria-busy", "true");
  let r;
  try {
    ({ experimentReport: r } = await gql(REPORT, { id }, key));
  } catch (error) {
    $("experiment-report").replaceChildren(el("p", { class: "field-error", role: "alert" }, error.message));
    return;
  } finally {
    card.setAttribute("aria-busy", "false");
  }
  shown = id;
  const x = r.experiment;
  const level = `${Math.round(r.confidenceLevel * 100)}%`;
  $("experiment-report-title").textContent = `Report: ${x.name}`;
  const warnings = FIGURES.filter(([name]) => r[name].warning).map(([name, label]) => [label, r[name].warning]);
  const blank = "–";
  const interval = (i, write) => (i ? `${write(i.low)} to ${write(i.high)}` : blank);
  const rows = FIGURES.map(([name, label, mean, diff]) => {
    const f = r[name];
    const relative = (v) => sign(v, share(Math.abs(v)));
    return el("tr", { "data-figure": name },
      el("th", { scope: "row" }, label),
      el("td", { class: "num" }, f.treatment == null ? blank : mean(f.treatment), el("span", { class: "muted count" }, ` (${number.format(f.treatmentCount)})`)),
      el("td", { class: "num" }, f.holdout == null ? blank : mean(f.holdout), el("span", { class: "muted count" }, ` (${number.format(f.holdoutCount)})`)),
      el("td", { class: "num" }, f.difference == null ? blank : diff(f.difference)),
      el("td", { class: "num" }, interval(f.differenceInterval, diff)),
      el("td", { class: "num" }, f.relativeDifference == null ? blank : relative(f.relativeDifference)),
      el("td", { class: "num" }, interval(f.relativeInterval, relative)));
  });
  $("experiment-report").replaceChildren(
    el("p", {}, `${target(x.target)}, ${number.format(x.holdoutPercent)}% held out. `,
      `${when(r.start)} to ${when(r.end)}${x.running ? " (running: so far)" : ""}.`),
    warnings.length
      ? el("div", { class: "notice warning", "data-warning": "" }, el("strong", {}, "Read these figures with care"),
        el("ul", {}, warnings.map(([label, text]) => el("li", {}, `${label}: ${text}`))))
      : null,
    el("h3", {}, "The two groups"),
    scrolling("The two groups", ["Group", "Members", "Bought in the period"], [
      el("tr", { "data-arm": "treatment" }, el("td", {}, "Treatment (everyone else)"), el("td", { class: "num" }, number.format(r.treatment.members)), el("td", { class: "num" }, number.format(r.treatment.buyers))),
      el("tr", { "data-arm": "holdout" }, el("td", {}, "Holdout (held out)"), el("td", { class: "num" }, number.format(r.holdout.members)), el("td", { class: "num" }, number.format(r.holdout.buyers))),
    ]),
    el("h3", {}, "Treatment against holdout"),
    scrolling("Treatment against holdout", ["Figure", "Treatment (n)", "Holdout (n)", "Difference", `${level} interval`, "Relative difference", `${level} interval`], rows),
    el("p", { class: "muted method" }, `Method: ${r.method}. (n): how many values a mean is of. Difference: treatment minus holdout; pp: percentage points; “–”: not defined for these numbers.`));
  if (focus) $("experiment-report-title").focus();
}
