// The owner's console: sign in with an ADMIN key, then the dashboard (programMetrics and
// cohortRetention), the settings (admin_settings.js, admin_catalog.js), the what-if
// backtest (admin_whatif.js) and the holdout experiments (admin_experiments.js).
import { el, gql, number, offerDemoKey, toast } from "/static/api.js";
import { bars, heatMap, lineChart, money, percent } from "/static/admin_charts.js";
import { loadSettings } from "/static/admin_settings.js";
import { loadWhatIf } from "/static/admin_whatif.js";
import { loadExperiments } from "/static/admin_experiments.js";

const $ = (id) => document.getElementById(id);
const state = { key: sessionStorage.getItem("laurel.admin"), loaded: new Set(["dashboard"]) };
// The console's views: each tab shows its <main>, loaded the first time it is opened.
const VIEWS = { dashboard: null, settings: loadSettings, whatif: loadWhatIf, experiments: loadExperiments };

const FIGURES = `start end activeMembers newMembers orders revenueCents averageOrderValueCents
  purchaseFrequency repeatPurchaseRate retentionRate secondPurchaseRate historicalClvCents
  predictedClv12mCents pointsIssued pointsReversed pointsRedeemed pointsExpired
  pointsOutstanding liabilityCents redemptionRate breakageRate`;
const DASHBOARD = `query Dashboard($from: DateTime!, $to: DateTime!, $interval: MetricsInterval!) {
  all: programMetrics(from: $from, to: $to, interval: $interval) {
    ${FIGURES} series { ${FIGURES} }
    tierDistribution { tier members } topPrizes { name redemptions points }
  }
  engaged: programMetrics(from: $from, to: $to, interval: $interval, segment: ENGAGED) {
    orders revenueCents averageOrderValueCents purchaseFrequency repeatPurchaseRate }
  purchaseOnly: programMetrics(from: $from, to: $to, interval: $interval, segment: PURCHASE_ONLY) {
    orders revenueCents averageOrderValueCents purchaseFrequency repeatPurchaseRate }
  cohortRetention(from: $from, to: $to, interval: $interval) { start members retained }
}`;

// The headline figures, in the order an owner reads them.
const HEADLINES = [
  ["revenueCents", "Revenue (after refunds)", money],
  ["orders", "Orders", (v) => number.format(v)],
  ["averageOrderValueCents", "Average order", money],
  ["purchaseFrequency", "Orders per buyer", (v) => v.toFixed(2)],
  ["repeatPurchaseRate", "Buyers who came back in the range", percent],
  ["retentionRate", "Retention (bought before and again)", percent],
  ["secondPurchaseRate", "Second order within 90 days", percent],
  ["historicalClvCents", "Lifetime value per buyer", money],
  ["predictedClv12mCents", "Next 12 months per buyer (estimate)", money],
  ["liabilityCents", "Points outstanding, in money", money],
  ["redemptionRate", "Points redeemed of issued", percent],
  ["breakageRate", "Points expired of issued", percent],
];

function isoDate(d) { return d.toISOString().slice(0, 10); }

function defaultRange() {
  const now = new Date();
  const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  const from = new Date(Date.UTC(now.getUTCFullYear() - 1, now.getUTCMonth() + 1, 1));
  $("from").value = isoDate(from);
  $("to").value = isoDate(to);
}

function range() {
  const from = $("from").value;
  const to = $("to").value;
  if (!from || !to) return { error: "Choose both dates." };
  if (to <= from) return { error: "The end date must be after the start date." };
  return { from: `${from}T00:00:00Z`, to: `${to}T00:00:00Z`, interval: $("interval").value };
}

async function loadDashboard() {
  const asked = range();
  $("range-error").textContent = asked.error || "";
  if (asked.error) return;
  let data;
  try {
    data = await gql(DASHBOARD, asked, state.key);
  } catch (error) {
    $("range-error").textContent = error.message;
    return;
  }
  const { all, engaged, purchaseOnly, cohortRetention } = data;
  $("figures").replaceChildren(...HEADLINES.flatMap(([name, label, format]) => [
    el("div", { class: "figure", "data-figure": name }, el("dt", {}, label), el("dd", {}, format(all[name]))),
  ]));
  const periods = all.series.map((s) => s.start);
  const pick = (name) => all.series.map((s) => s[name]);
  const count = (v) => number.format(v);
  lineChart($("chart-members"), { caption: "Members per period", periods, interval: asked.interval, series: [
    { label: "Active members", values: pick("activeMembers"), format: count },
    { label: "New members", values: pick("newMembers"), format: count },
  ] });
  lineChart($("chart-points"), { caption: "Points per period", periods, interval: asked.interval, series: [
    { label: "Issued", values: pick("pointsIssued"), format: count },
    { label: "Redeemed", values: pick("pointsRedeemed"), format: count },
    { label: "Expired", values: pick("pointsExpired"), format: count },
  ] });
  lineChart($("chart-liability"), { caption: "Liability at the end of each period", periods, interval: asked.interval, series: [
    { label: "Liability", values: pick("liabilityCents"), format: money },
  ] });
  heatMap($("cohorts"), cohortRetention, asked.interval);
  segments(engaged, purchaseOnly);
  bars($("tier-bars"), all.tierDistribution.map((t) => ({ label: t.tier, value: t.members })));
  $("top-prizes").replaceChildren(all.topPrizes.length
    ? el("table", {}, el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Prize"), el("th", { scope: "col", class: "num" }, "Redeemed"), el("th", { scope: "col", class: "num" }, "Points"))),
      el("tbody", {}, all.topPrizes.map((p) => el("tr", {}, el("td", {}, p.name), el("td", { class: "num" }, number.format(p.redemptions)), el("td", { class: "num" }, number.format(p.points))))))
    : el("p", { class: "muted" }, "Nothing was redeemed in this range."));
}

function segments(engaged, others) {
  const rows = [
    ["Average order", "averageOrderValueCents", money],
    ["Orders per buyer", "purchaseFrequency", (v) => v.toFixed(2)],
    ["Buyers who came back", "repeatPurchaseRate", percent],
    ["Orders", "orders", (v) => number.format(v)],
    ["Revenue", "revenueCents", money],
  ];
  const side = (value, top, format) => {
    const bar = el("span", { class: "bar" });
    bar.style.width = `${top ? (100 * value) / top : 0}%`;
    return el("td", { class: "bar-cell" }, el("span", { class: "num" }, format(value)), bar);
  };
  $("segments").replaceChildren(el("table", { class: "segments" },
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Figure"), el("th", { scope: "col" }, "Engaged"), el("th", { scope: "col" }, "Purchase only"))),
    el("tbody", {}, rows.map(([label, name, format]) => {
      const top = Math.max(engaged[name], others[name]);
      return el("tr", { "data-figure": name }, el("th", { scope: "row" }, label), side(engaged[name], top, format), side(others[name], top, format));
    }))));
}

async function downloadCsv() {
  const asked = range();
  if (asked.error) { $("range-error").textContent = asked.error; return; }
  const query = new URLSearchParams({ from: asked.from, to: asked.to, interval: asked.interval });
  const response = await fetch(`/admin/metrics.csv?${query}`, { headers: { Authorization: `Bearer ${state.key}` } });
  if (!response.ok) { $("range-error").textContent = `The CSV could not be made (${response.status}).`; return; }
  const link = el("a", { href: URL.createObjectURL(await response.blob()), download: `laurel-metrics-${$("from").value}-${$("to").value}.csv` });
  document.body.append(link);
  link.click();
  link.remove();
}

function show(tab) {
  for (const name of Object.keys(VIEWS)) {
    $(name).hidden = tab !== name;
    $(`tab-${name}`).setAttribute("aria-pressed", String(tab === name));
  }
  if (!state.loaded.has(tab)) {
    state.loaded.add(tab);
    VIEWS[tab](state.key).catch((error) => toast(error.message));
  }
}

async function signIn(key) {
  $("signin-error").textContent = "";
  try {
    await gql("query { webhookEndpoints { id } }", {}, key);
  } catch (error) {
    sessionStorage.removeItem("laurel.admin");
    $("signin-error").textContent = `Could not sign in: ${error.message}`;
    return;
  }
  state.key = key;
  sessionStorage.setItem("laurel.admin", key);
  $("signin").hidden = true;
  $("who").hidden = false;
  show("dashboard");
  await loadDashboard();
}

defaultRange();
$("signin").addEventListener("submit", (event) => { event.preventDefault(); signIn($("key").value.trim()); });
$("range").addEventListener("submit", (event) => { event.preventDefault(); loadDashboard(); });
$("csv").addEventListener("click", downloadCsv);
for (const name of Object.keys(VIEWS)) $(`tab-${name}`).addEventListener("click", () => show(name));
$("signout").addEventListener("click", () => { sessionStorage.removeItem("laurel.admin"); location.reload(); });
offerDemoKey("/demo/admin-key", $("demo-key"), signIn);
if (state.key) signIn(state.key);
