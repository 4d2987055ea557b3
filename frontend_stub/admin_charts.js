// The owner's charts: uPlot (shipped in vendor/uplot) for lines over time, plain HTML
// for the heat map and bars. Every chart tells its series apart by line style and
// marker as well as colour, and carries its numbers as a table (in a disclosure, the
// canvas hidden from screen readers).
import uPlot from "/static/vendor/uplot/uPlot.esm.js";
import { el, number } from "/static/api.js";

const LOOKS = [
  { stroke: "#256045", dash: [], marker: "circle" },
  { stroke: "#9b2c2c", dash: [8, 5], marker: "square" },
  { stroke: "#1f4e8c", dash: [2, 4], marker: "triangle" },
];
const SHADES = ["#f1f7f3", "#d3e8db", "#a3cdb3", "#3f7f5e", "#256045"];
const LINES = ["——", "- - -", "· · ·"];
const MARKS = { circle: "●", square: "■", triangle: "▲" };
const charts = new Map();
const watched = new Map();

export const percent = (share) => `${(share * 100).toFixed(1)}%`;
export const money = (cents) => (cents / 100).toLocaleString("en", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export function periodLabel(iso, interval) {
  const when = new Date(iso);
  const options = interval === "MONTH" ? { month: "short", year: "numeric" } : { day: "numeric", month: "short", year: "numeric" };
  return new Intl.DateTimeFormat("en", { ...options, timeZone: "UTC" }).format(when);
}

function markerPath(kind) {
  if (kind === "circle") return undefined; // uPlot's own round points
  return (u, seriesIndex) => {
    const s = u.series[seriesIndex];
    const size = 7 * devicePixelRatio;
    const path = new Path2D();
    const xs = u.data[0];
    const ys = u.data[seriesIndex];
    for (let i = 0; i < xs.length; i++) {
      if (ys[i] == null) continue;
      const x = u.valToPos(xs[i], "x", true);
      const y = u.valToPos(ys[i], s.scale, true);
      if (kind === "square") path.rect(x - size / 2, y - size / 2, size, size);
      else { path.moveTo(x, y - size / 1.6); path.lineTo(x + size / 1.6, y + size / 2.2); path.lineTo(x - size / 1.6, y + size / 2.2); path.closePath(); }
    }
    return { stroke: path, fill: path };
  };
}

// series: [{ label, values, format }]; periods: the series' start times (ISO).
export function lineChart(box, { caption, periods, interval, series }) {
  charts.get(box)?.destroy();
  const xs = periods.map((p) => Date.parse(p) / 1000);
  const canvas = el("div", { class: "canvas", "aria-hidden": "true" });
  const key = el("p", { class: "key" }, ...series.map((s, i) => el("span", {}, `${MARKS[LOOKS[i].marker]} ${LINES[i]} ${s.label}`)));
  box.replaceChildren(key, canvas, numbers(caption, periods.map((p) => periodLabel(p, interval)), series));
  const options = {
    width: Math.max(box.clientWidth, 280),
    height: 240,
    legend: { show: false },
    scales: { x: { time: true } },
    axes: [{ stroke: "#525b6e" }, { stroke: "#525b6e", size: 70, values: (u, ticks) => ticks.map((t) => series[0].format(t)) }],
    series: [{}, ...series.map((s, i) => ({
      label: s.label,
      stroke: LOOKS[i].stroke,
      dash: LOOKS[i].dash,
      width: 2,
      points: { show: true, size: 7, fill: LOOKS[i].stroke, ...(markerPath(LOOKS[i].marker) ? { paths: markerPath(LOOKS[i].marker) } : {}) },
    }))],
  };
  const chart = new uPlot(options, [xs, ...series.map((s) => s.values)], canvas);
  charts.set(box, chart);
  new ResizeObserver(() => chart.setSize({ width: Math.max(box.clientWidth, 280), height: 240 })).observe(box);
}

// The numbers of a chart: one row per period (or category, `first` naming the column;
// `keys` go on the rows as data-row), one column per series.
export function numbers(caption, rows, series, { first = "Period", keys = [] } = {}) {
  const head = el("tr", {}, el("th", { scope: "col" }, first), ...series.map((s) => el("th", { scope: "col", class: "num" }, s.label)));
  const body = rows.map((label, i) => el("tr", { "data-row": keys[i] }, el("th", { scope: "row" }, label),
    ...series.map((s, k) => el("td", { class: "num", "data-series": String(k) }, s.format(s.values[i])))));
  return el("details", { class: "numbers" }, el("summary", {}, "Show the numbers"),
    el("div", { class: "scroll" }, el("table", {}, el("caption", { class: "sr-only" }, caption), el("thead", {}, head), el("tbody", {}, body))));
}

// Retention cohorts: a table whose cells are shaded by the share and say it.
export function heatMap(box, cohorts, interval) {
  if (!cohorts.length) { box.replaceChildren(el("p", { class: "muted" }, "No one joined in this range.")); return; }
  const width = Math.max(...cohorts.map((c) => c.retained.length));
  const head = el("tr", {}, el("th", { scope: "col" }, "Joined"), el("th", { scope: "col", class: "num" }, "Members"),
    ...Array.from({ length: width }, (_, k) => el("th", { scope: "col", class: "num" }, k === 0 ? "Then" : `+${k}`)));
  const rows = cohorts.map((c) => el("tr", {}, el("th", { scope: "row" }, periodLabel(c.start, interval)), el("td", { class: "num" }, number.format(c.members)),
    ...Array.from({ length: width }, (_, k) => {
      if (k >= c.retained.length) return el("td", {});
      const cell = el("td", { class: "num heat" }, c.members ? percent(c.retained[k]) : "–");
      const step = Math.min(4, Math.floor(c.retained[k] * 5)); // five shades, text kept readable
      cell.style.backgroundColor = SHADES[step];
      if (step >= 3) cell.classList.add("dark");
      return cell;
    })));
  box.replaceChildren(el("table", { class: "heatmap" },
    el("caption", { class: "sr-only" }, "Share of each cohort who bought in each later period"), el("thead", {}, head), el("tbody", {}, rows)),
    el("p", { class: "muted" }, "Each row is the members who joined in a period; each cell the share of them who bought that many periods later."));
}

// Horizontal bars with their numbers written beside them.
export function bars(box, rows, format = (v) => number.format(v)) {
  const top = Math.max(1, ...rows.map((r) => r.value));
  box.replaceChildren(el("table", { class: "bars" }, el("tbody", {}, rows.map((r) => {
    const bar = el("span", { class: "bar" });
    bar.style.width = `${(100 * r.value) / top}%`;
    return el("tr", {}, el("th", { scope: "row" }, r.label), el("td", { class: "bar-cell" }, bar), el("td", { class: "num" }, format(r.value)));
  }))));
}

// Bars side by side per category (what-if: current against draft). The first series is
// filled, the second outlined with a dashed edge, so they differ by more than colour;
// the numbers come as a table under it, as with the line charts.
const BAR_LOOKS = [
  { fill: "#256045", stroke: "#256045", dash: [], key: "■" },
  { fill: "#f3dede", stroke: "#9b2c2c", dash: [5, 3], key: "▭" },
];

export function groupedBars(box, { caption, categories, keys, series }) {
  charts.get(box)?.destroy();
  const canvas = el("div", { class: "canvas", "aria-hidden": "true" });
  const key = el("p", { class: "key" }, ...series.map((s, i) => el("span", {}, `${BAR_LOOKS[i].key} ${s.label}`)));
  box.replaceChildren(key, canvas, numbers(caption, categories, series, { first: "Kind", keys }));
  const xs = categories.map((_, i) => i);
  const top = Math.max(1, ...series.flatMap((s) => s.values));
  const options = {
    width: Math.max(box.clientWidth, 280),
    height: 260,
    legend: { show: false },
    cursor: { show: false },
    scales: { x: { time: false, range: [-0.5, categories.length - 0.5] }, y: { range: [0, top * 1.1] } },
    axes: [
      { stroke: "#525b6e", splits: () => xs, values: (u, ticks) => ticks.map((t) => categories[t] ?? ""), grid: { show: false } },
      { stroke: "#525b6e", size: 70, values: (u, ticks) => ticks.map((t) => series[0].format(t)) },
    ],
    series: [{}, ...series.map((s, i) => ({
      label: s.label,
      fill: BAR_LOOKS[i].fill,
      stroke: BAR_LOOKS[i].stroke,
      dash: BAR_LOOKS[i].dash,
      width: 2,
      points: { show: false },
      paths: uPlot.paths.bars({ size: [0.38, 60], align: i === 0 ? -1 : 1 }),
    }))],
  };
  const chart = new uPlot(options, [xs, ...series.map((s) => s.values)], canvas);
  charts.set(box, chart);
  watched.get(box)?.disconnect(); // one observer per box, however often it is redrawn
  const observer = new ResizeObserver(() => chart.setSize({ width: Math.max(box.clientWidth, 280), height: 260 }));
  observer.observe(box);
  watched.set(box, observer);
}
