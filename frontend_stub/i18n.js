// The pages' language: which one the visitor reads, its messages from the JSON catalog
// (/static/locales/<lang>.json), and its plural rules, numbers and dates (Intl).
// English (en.json) is also the fallback of any message a catalog lacks; it is read
// when this module loads, so a page that never calls start() (the owner's console)
// reads English.
//
// Catalog entries are strings with {name} placeholders, or, for a counted message,
// {"one": ..., "few": ..., "many": ..., "other": ...} by the CLDR plural category that
// Intl.PluralRules gives for params.count. A number in params is written the
// language's way.

export const LANGUAGES = { en: "English", ru: "Русский", bg: "Български", lv: "Latviešu", ka: "ქართული" };
const SAVED = "laurel.lang";
const ATTRIBUTES = ["aria-label", "placeholder", "title"];

async function load(code) {
  try {
    const response = await fetch(`/static/locales/${code}.json`);
    return response.ok ? await response.json() : {};
  } catch {
    return {};
  }
}

const english = await load("en");
let messages = english;
let chosen = "en";
let plurals = new Intl.PluralRules("en");
let numbers = new Intl.NumberFormat("en");
let dates = new Intl.DateTimeFormat("en", { dateStyle: "medium" });
let dateTimes = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" });
let amounts = new Intl.NumberFormat("en", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const listeners = [];

// Formatters that follow the language as it changes (`number.format(1234)`).
export const number = { format: (n) => numbers.format(n) };
export const date = { format: (d) => dates.format(d) };
// A moment with its time of day, in the visitor's time zone ("12 Mar 2031, 14:30").
export const dateTime = { format: (d) => dateTimes.format(d) };
export const money = { format: (n) => amounts.format(n) };

/** The language the page is in now (English until start()). */
export const current = () => chosen;

/** One of ours for a language tag ("bg-BG" -> "bg"), or null. */
function ours(tag) {
  const base = String(tag || "").trim().toLowerCase().split(/[-_]/)[0];
  return Object.hasOwn(LANGUAGES, base) ? base : null;
}

function saved() {
  try {
    return localStorage.getItem(SAVED);
  } catch {
    return null; // storage blocked: no saved choice
  }
}

/** ?lang=xx, else the visitor's saved choice, else the browser's languages, else English. */
export function preferred() {
  const asked = ours(new URLSearchParams(location.search).get("lang")) || ours(saved());
  return asked || (navigator.languages || [navigator.language]).map(ours).find(Boolean) || "en";
}

/** The message `key` in the page's language, its {placeholders} filled from `params`. */
export function t(key, params = {}) {
  let entry = messages[key] ?? english[key];
  if (entry == null) return key;
  if (typeof entry === "object") {
    const count = Number(params.count);
    entry = entry[plurals.select(count)] ?? entry.other ?? english[key]?.other ?? key;
  }
  return entry.replace(/\{(\w+)\}/g, (whole, name) => {
    if (!Object.hasOwn(params, name)) return whole;
    const value = params[name];
    return typeof value === "number" ? numbers.format(value) : String(value);
  });
}

/** Static text: `data-i18n="key"` fills the text, `data-i18n-aria-label` (and
 * -placeholder, -title) an attribute. The HTML keeps English for a page without script. */
export function fill(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const name of ATTRIBUTES) {
    for (const node of root.querySelectorAll(`[data-i18n-${name}]`)) {
      node.setAttribute(name, t(node.getAttribute(`data-i18n-${name}`)));
    }
  }
}

/** Call `render` again whenever the visitor switches language. */
export function onLanguage(render) {
  listeners.push(render);
}

/** Read the page in `code` from now on: the catalog, <html lang>, the static text, and
 * every part the page draws (its onLanguage callbacks). `remember` keeps the choice. */
export async function use(code, remember = false) {
  const next = ours(code) || "en";
  const catalog = next === "en" ? english : await load(next);
  messages = catalog;
  chosen = next;
  plurals = new Intl.PluralRules(next);
  numbers = new Intl.NumberFormat(next);
  dates = new Intl.DateTimeFormat(next, { dateStyle: "medium" });
  dateTimes = new Intl.DateTimeFormat(next, { dateStyle: "medium", timeStyle: "short" });
  amounts = new Intl.NumberFormat(next, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  document.documentElement.lang = next;
  if (remember) {
    try {
      localStorage.setItem(SAVED, next);
    } catch {
      // storage blocked: the choice lasts for this page only
    }
    const url = new URL(location.href);
    if (url.searchParams.has("lang")) {
      url.searchParams.set("lang", next); // a reload keeps the language just picked
      history.replaceState(null, "", url);
    }
  }
  fill();
  const picker = document.getElementById("lang");
  if (picker) picker.value = next;
  for (const render of listeners) render();
}

/** The page's start: its language chosen and shown, and the picker (#lang) working. */
export async function start() {
  await use(preferred());
  const picker = document.getElementById("lang");
  if (!picker) return;
  picker.value = chosen;
  picker.addEventListener("change", () => use(picker.value, true));
  document.getElementById("lang-pick").hidden = false;
}
