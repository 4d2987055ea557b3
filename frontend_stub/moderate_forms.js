// The moderator console's forms: errors in plain words next to their field (linked by
// aria-describedby, the field marked aria-invalid and focused), cleared by the next
// success; an unexpected failure (a GraphQL error, the network) is one localized
// sentence on the page and its detail in the browser's log, never the raw text.
import { t } from "/static/i18n.js";

const $ = (id) => document.getElementById(id);

// The API's names for the fields a moderator fills in. English messages name them
// ("endsAt must be after startsAt."); the page says them in words. (The other
// languages' messages already do.)
const FIELD_WORDS = ["name", "description", "startsAt", "endsAt", "activityKinds", "prizes", "fromRank", "toRank", "reason", "memberId"];
const lower = (text) => text.charAt(0).toLocaleLowerCase() + text.slice(1);

/** An API message with its field names in words. */
export function plain(message) {
  let text = String(message || "");
  for (const field of FIELD_WORDS) {
    const words = t(`mod.field.${field}`);
    text = text.replace(new RegExp(`\\b${field}\\b`, "g"), (found, at) => (at === 0 ? words : lower(words)));
  }
  return text;
}

/** What to say for a thrown error: an expired key says so; anything else (a GraphQL
 * error, the network) is a sentence of ours, and the detail goes to the log. */
export function failure(error) {
  if (error?.expired) return error.message;
  console.warn("Laurel moderator console:", error);
  return t("mod.error.generic");
}

/** A form's errors: `fields` maps each field element's id to the id of its error
 * element; `issue` is null (all cleared) or `{ id, message }` for the field in error.
 * The field is marked invalid, described by its error, and focused. */
export function fieldErrors(fields, issue) {
  for (const [id, errorId] of Object.entries(fields)) {
    const field = $(id);
    field.removeAttribute("aria-invalid");
    $(errorId).textContent = "";
    const described = new Set((field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean));
    described.add(errorId);
    field.setAttribute("aria-describedby", [...described].join(" "));
  }
  if (!issue) return;
  const field = $(issue.id);
  $(fields[issue.id]).textContent = issue.message;
  field.setAttribute("aria-invalid", "true");
  field.focus();
}

/** Ranks and points from the prize box, one range a line ("2-3 100 badge-slug"), or
 * the first line that is not one, in words. */
export function parsePrizes(text, most = 100) {
  const prizes = [];
  const lines = text.split("\n").map((line) => line.trim());
  for (const [index, line] of lines.entries()) {
    if (!line) continue;
    const found = /^(\d+)(?:\s*-\s*(\d+))?\s+(\d+)(?:\s+([a-z0-9][a-z0-9-]*))?$/i.exec(line);
    if (!found) return { error: t("mod.prize_line", { line: index + 1 }) };
    const fromRank = Number(found[1]);
    const toRank = Number(found[2] ?? found[1]);
    const points = Number(found[3]);
    if (fromRank < 1 || toRank < fromRank || toRank > most) return { error: t("mod.prize_ranks", { line: index + 1, most }) };
    if (points > 1_000_000) return { error: t("mod.prize_points", { line: index + 1, most: 1_000_000 }) };
    prizes.push({ fromRank, toRank, points, badgeSlug: found[4] || null });
  }
  return { prizes };
}
