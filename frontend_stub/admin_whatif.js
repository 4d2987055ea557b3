// What if: the owner proposes other earning points, rules on or off, a tier ladder,
// points expiry and a badge's levels; simulateProgram replays the range under them beside
// the current rules (admin_whatif_results.js draws both). Every field starts at today's
// value and only what differs is sent. The API's bad-input errors name their field
// (extensions.field): the message goes next to that field, in the form's words.
import { el, gql } from "/static/api.js";
import { field } from "/static/admin_forms.js";
import { showResults } from "/static/admin_whatif_results.js";

const $ = (id) => document.getElementById(id);
const KINDS = { REVIEW: "Review", PHOTO_REVIEW: "Review with a photo", SOCIAL_SHARE: "Share", REFERRAL: "Referral", PURCHASE: "Order" };
// Badges a backtest can replay: counts of approved activities and orders, lifetime points.
const REPLAYABLE = new Set(["REVIEWS", "PHOTO_REVIEWS", "SHARES", "REFERRALS", "PURCHASES", "LIFETIME_POINTS"]);
const CURRENT = `query { earningRules { kind points pointsPerCurrencyUnitInEffect active }
  tiers { name threshold multiplier entryBonus } badges { slug name levels bonusPoints metric enabled } shop { pointsExpireDays } }`;
const SIDE = "pointsIssued byKind { kind points } pointsReversed pointsExpired pointsOutstanding liabilityCents tierDistribution { tier members } badgeLevels { slug level granted }";
const SIMULATE = `query WhatIf($i: SimulationInput!) { simulateProgram(input: $i) { from to events
  current { ${SIDE} } draft { ${SIDE} } membersMovingUp membersMovingDown
  top { memberId displayName currentRank draftRank currentPoints draftPoints }
  pointChanges { members minimum lowerQuartile median upperQuartile maximum } } }`;
const TIER_FIELDS = [
  ["name", "Name", "text"],
  ["threshold", "Points in 12 months to reach it", "number"],
  ["multiplier", "Points multiplier", "number"],
  ["entryBonus", "Bonus on reaching it", "number"],
];

let key = null;
let now = null; // today's rules, as the form started
let parts = null; // the form's fields, by part

export async function loadWhatIf(adminKey) {
  key = adminKey;
  const { earningRules, tiers, badges, shop } = await gql(CURRENT, {}, key);
  now = { rules: earningRules, tiers, badges: badges.filter((b) => REPLAYABLE.has(b.metric)),
    expiry: shop.pointsExpireDays,
    names: Object.fromEntries(badges.map((b) => [b.slug, b.name])) };
  build();
}

// The last 12 months up to today, as dates (the end not included).
function lastYear() {
  const today = new Date();
  const to = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 1));
  const from = new Date(Date.UTC(to.getUTCFullYear() - 1, to.getUTCMonth(), to.getUTCDate()));
  return [from, to].map((d) => d.toISOString().slice(0, 10));
}

const group = (legend, hint, ...children) =>
  el("fieldset", { class: "group" }, el("legend", {}, legend), hint ? el("p", { class: "muted hint" }, hint) : null, ...children);

function build() {
  const [from, to] = lastYear();
  parts = {
    from: field({ name: "from", label: "From", type: "date", value: from, required: true }),
    to: field({ name: "to", label: "To (not included)", type: "date", value: to, required: true }),
    rules: now.rules.map((rule) => ({
      rule,
      points: rule.kind === "PURCHASE"
        ? field({ name: "pointsPerCurrencyUnit", label: "Points per 1.00 spent", type: "number", step: "0.01", min: "0", value: rule.pointsPerCurrencyUnitInEffect })
        : field({ name: "points", label: "Points", type: "number", min: "0", value: rule.points }),
      active: field({ name: "active", label: "Earns points", type: "checkbox", value: rule.active }),
    })),
    tiers: [],
    ladder: el("div", { class: "forms" }),
    expiry: field({ name: "pointsExpireDays", label: "Points expire after (days)", type: "number", min: "0",
      value: now.expiry, hint: "0: never. Empty: as now (the server's setting, LAUREL_POINTS_EXPIRE_DAYS)." }),
    badge: field({ name: "badge", label: "Badge", type: "select", value: "",
      options: [["", "None: badges as they are"], ...now.badges.map((b) => [b.slug, b.name])] }),
    thresholds: field({ name: "levels", label: "Levels (the count each needs, lowest first)", hint: "Comma separated, for example 1, 10, 50." }),
    bonuses: field({ name: "bonusPoints", label: "Bonus points at each level", hint: "Comma separated, one per level." }),
    general: el("p", { class: "field-error", role: "alert" }),
    status: el("p", { class: "status", role: "status" }),
    button: el("button", { class: "primary", type: "submit" }, "Try it"),
  };
  for (const tier of now.tiers) addTier(tier);
  parts.badge.input.addEventListener("change", pickBadge);
  pickBadge();
  const node = el("form", { class: "whatif", "aria-label": "What if", novalidate: true },
    group("Range", null, el("div", { class: "row" }, parts.from.wrap, parts.to.wrap)),
    group("Ways to earn", null, el("div", { class: "forms" }, parts.rules.map((r) =>
      el("div", { class: "sub", "data-whatif-rule": r.rule.kind }, el("h3", {}, KINDS[r.rule.kind] ?? r.rule.kind), r.points.wrap, r.active.wrap)))),
    group("Tiers", "The whole ladder, lowest first; the lowest starts at 0.", parts.ladder,
      el("button", { type: "button", onclick: () => { addTier(null); lastTier().fields.name.input.focus(); } }, "Add a tier")),
    group("Points expiry", null, parts.expiry.wrap),
    group("A badge's levels", "Badges that count reviews, shares, referrals, orders or lifetime points.",
      el("div", { class: "row" }, parts.badge.wrap, parts.thresholds.wrap, parts.bonuses.wrap)),
    parts.general,
    el("div", { class: "row actions" }, parts.button, el("button", { type: "button", onclick: build }, "Start again from today's rules")),
    parts.status);
  node.addEventListener("submit", (event) => { event.preventDefault(); run(); });
  $("whatif-form").replaceChildren(node);
}

const lastTier = () => parts.tiers[parts.tiers.length - 1];

function addTier(tier) {
  const fields = Object.fromEntries(TIER_FIELDS.map(([name, label, type]) => [name, field({
    name, label, type, value: tier ? tier[name] : name === "entryBonus" ? 0 : "",
    min: type === "number" ? (name === "multiplier" ? "1" : "0") : undefined, step: name === "multiplier" ? "0.05" : undefined,
  })]));
  const row = { fields, node: null };
  const title = el("h3", {});
  const remove = el("button", { type: "button", onclick: () => removeTier(row) }, "Remove");
  row.node = el("div", { class: "sub", "data-whatif-tier": "" }, title, ...Object.values(fields).map((f) => f.wrap), remove);
  row.title = title;
  row.remove = remove;
  parts.tiers.push(row);
  parts.ladder.append(row.node);
  numberTiers();
}

function removeTier(row) {
  const at = parts.tiers.indexOf(row);
  parts.tiers.splice(at, 1);
  row.node.remove();
  numberTiers();
  (parts.tiers[Math.max(0, at - 1)]?.remove ?? parts.button).focus();
}

// Each tier says its place in the ladder (its name may be empty while typed).
function numberTiers() {
  parts.tiers.forEach((row, i) => {
    row.node.dataset.whatifTier = String(i + 1);
    row.title.textContent = `Tier ${i + 1}`;
    row.remove.setAttribute("aria-label", `Remove tier ${i + 1}`);
    row.remove.disabled = parts.tiers.length === 1;
  });
}

function pickBadge() {
  const badge = now.badges.find((b) => b.slug === parts.badge.input.value);
  parts.thresholds.input.value = badge ? badge.levels.join(", ") : "";
  parts.bonuses.input.value = badge ? badge.bonusPoints.join(", ") : "";
  parts.thresholds.input.disabled = !badge;
  parts.bonuses.input.disabled = !badge;
}

// Reading the form: a value, or a problem in plain words for the field.
const problems = [];
function number(f, { whole = false, empty = "Write a number." } = {}) {
  const text = f.input.value.trim();
  if (text === "") { if (empty) problems.push([f, empty]); return null; }
  const value = Number(text);
  if (!Number.isFinite(value) || (whole && !Number.isInteger(value))) {
    problems.push([f, whole ? "Write a whole number." : "Write a number."]);
    return null;
  }
  return value;
}

function list(f) {
  const items = f.input.value.split(/[\s,]+/).filter(Boolean).map(Number);
  if (!items.length || items.some((n) => !Number.isInteger(n))) {
    problems.push([f, "Write whole numbers separated by commas."]);
    return [];
  }
  return items;
}

const same = (a, b) => Math.abs(a - b) < 1e-9;
const sameList = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

// The SimulationInput: the range, and only the parts that differ from today's rules.
function draft() {
  problems.length = 0;
  const day = (f) => { if (!f.input.value) problems.push([f, "Choose a date."]); return `${f.input.value}T00:00:00Z`; };
  const input = { from: day(parts.from), to: day(parts.to) };
  const rules = [];
  for (const { rule, points, active } of parts.rules) {
    const changed = { kind: rule.kind };
    const value = number(points, { whole: rule.kind !== "PURCHASE" });
    if (rule.kind === "PURCHASE" && value != null && !same(value, rule.pointsPerCurrencyUnitInEffect ?? 0)) changed.pointsPerCurrencyUnit = value;
    if (rule.kind !== "PURCHASE" && value != null && value !== rule.points) changed.points = value;
    if (active.input.checked !== rule.active) changed.active = active.input.checked;
    if (Object.keys(changed).length > 1) rules.push(changed);
  }
  if (rules.length) input.earningRules = rules;
  const ladder = parts.tiers.map(({ fields }) => ({
    name: fields.name.input.value.trim(),
    threshold: number(fields.threshold, { whole: true }),
    multiplier: number(fields.multiplier),
    entryBonus: number(fields.entryBonus, { whole: true, empty: null }) ?? 0,
  }));
  const moved = ladder.length !== now.tiers.length || ladder.some((t, i) => {
    const was = now.tiers[i];
    return t.name !== was.name || t.threshold !== was.threshold || !same(t.multiplier ?? 0, was.multiplier) || t.entryBonus !== was.entryBonus;
  });
  if (moved) input.tiers = ladder;
  const days = number(parts.expiry, { whole: true, empty: null });
  if (days != null && days !== now.expiry) input.pointsExpireDays = days;
  const badge = now.badges.find((b) => b.slug === parts.badge.input.value);
  if (badge) {
    const thresholds = list(parts.thresholds);
    const bonusPoints = list(parts.bonuses);
    if (!sameList(thresholds, badge.levels) || !sameList(bonusPoints, badge.bonusPoints)) {
      input.badges = [{ slug: badge.slug, thresholds, bonusPoints }];
    }
  }
  return input;
}

// Which field an API error is about. A tier's or a rule's error names the column, not
// the row: the row is the first whose value breaks the rule the message is about.
function fieldOf(name) {
  if (name === "from" || name === "to") return parts[name];
  if (name === "pointsExpireDays") return parts.expiry;
  if (name === "pointsPerCurrencyUnit") return parts.rules.find((r) => r.rule.kind === "PURCHASE")?.points;
  if (name === "points") {
    const outside = parts.rules.find((r) => r.rule.kind !== "PURCHASE" && !(Number(r.points.input.value) >= 0 && Number(r.points.input.value) <= 100000));
    return (outside ?? parts.rules.find((r) => r.rule.kind !== "PURCHASE"))?.points;
  }
  if (name === "badges") {
    const levels = parts.thresholds.input.value.split(/[\s,]+/).filter(Boolean);
    const bonuses = parts.bonuses.input.value.split(/[\s,]+/).filter(Boolean).map(Number);
    const bonusWrong = levels.length && (bonuses.length !== levels.length || bonuses.some((b) => !(b >= 0 && b <= 100000)));
    return bonusWrong ? parts.bonuses : parts.thresholds;
  }
  const column = name; // "tiers" itself (the server's tier window) is no one field's fault
  if (!TIER_FIELDS.some(([n]) => n === column)) return null;
  const rows = parts.tiers.map((r) => r.fields[column]);
  const values = rows.map((f) => f.input.value.trim());
  const at = {
    threshold: () => values.findIndex((v, i) => (i === 0 ? Number(v) !== 0 : Number(v) <= Number(values[i - 1]) || Number(v) > 10000000)),
    multiplier: () => values.findIndex((v, i) => Number(v) < 1 || Number(v) > 10 || (i > 0 && Number(v) < Number(values[i - 1]))),
    entryBonus: () => values.findIndex((v) => !(Number(v) >= 0 && Number(v) <= 100000)),
    name: () => values.findIndex((v, i) => !v || v.length > 40 || values.indexOf(v) !== i),
  }[column]();
  return rows[Math.max(0, at)];
}

const allFields = () => [parts.from, parts.to, ...parts.rules.flatMap((r) => [r.points, r.active]),
  ...parts.tiers.flatMap((r) => Object.values(r.fields)), parts.expiry, parts.badge, parts.thresholds, parts.bonuses];

function clear() {
  for (const f of allFields()) { f.error.textContent = ""; f.input.removeAttribute("aria-invalid"); }
  parts.general.textContent = "";
}

// Show each problem beside its field (linked by aria-describedby) and focus the first.
function flag(found) {
  const order = allFields();
  found.sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0]));
  for (const [f, message] of found) {
    if (f.error.textContent) continue; // one message a field
    f.error.textContent = message;
    f.input.setAttribute("aria-invalid", "true");
  }
  found[0][0].input.focus();
}

// "multiplier must be between 1 and 10." names the field the API's way at the start:
// say the field's label there (a name inside a sentence is the sentence's own word).
function words(message, f) {
  return message.startsWith(`${f.spec.name} `) ? `${f.spec.label}${message.slice(f.spec.name.length)}` : message;
}

function busy(on) {
  const card = $("whatif-results-card");
  parts.button.disabled = on;
  parts.button.textContent = on ? "Replaying…" : "Try it";
  $("whatif-form").setAttribute("aria-busy", String(on));
  card.setAttribute("aria-busy", String(on));
  if (on) parts.status.textContent = "Replaying the history under both sets of rules…";
}

async function run() {
  clear();
  const input = draft();
  if (problems.length) { parts.status.textContent = ""; flag([...problems]); return; }
  busy(true);
  try {
    const { simulateProgram } = await gql(SIMULATE, { i: input }, key);
    busy(false);
    parts.status.textContent = `Done: ${simulateProgram.events.toLocaleString("en")} recorded events replayed.`;
    const card = $("whatif-results-card");
    card.hidden = false;
    showResults($("whatif-results"), simulateProgram, {
      changed: Object.keys(input).filter((k) => k !== "from" && k !== "to"), names: now.names });
    $("whatif-results-title").focus();
  } catch (error) {
    busy(false);
    parts.status.textContent = "";
    const f = fieldOf(error.extensions?.field);
    if (f) flag([[f, words(error.message, f)]]);
    else { parts.general.textContent = error.message; parts.button.focus(); }
  }
}
