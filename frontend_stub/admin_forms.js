// Forms of the owner's console: fields described as data, each with its error beside
// it in plain words, sent through one mutation whose result is a union.
import { el } from "/static/api.js";

let serial = 0;

// spec: { name, label, type: text|number|checkbox|select|textarea|color|datetime|file,
//   value, options: [[value, label]], hint, step, min, required, accept }
export function field(spec) {
  const id = `f${++serial}-${spec.name}`;
  const error = el("p", { class: "field-error", id: `${id}-error`, role: "alert" });
  let input;
  if (spec.type === "select") {
    input = el("select", { id, name: spec.name }, spec.options.map(([value, label]) => el("option", { value, selected: String(value) === String(spec.value ?? "") }, label)));
  } else if (spec.type === "textarea") {
    input = el("textarea", { id, name: spec.name }, spec.value ?? "");
  } else if (spec.type === "checkbox") {
    input = el("input", { id, name: spec.name, type: "checkbox", checked: Boolean(spec.value) });
  } else {
    const type = spec.type === "datetime" ? "datetime-local" : spec.type || "text";
    input = el("input", { id, name: spec.name, type, value: spec.type === "file" ? null : spec.value ?? "",
      step: spec.step, min: spec.min, accept: spec.accept, required: spec.required, autocomplete: "off" });
  }
  input.setAttribute("aria-describedby", error.id);
  const label = el("label", { for: id }, spec.label);
  const hint = spec.hint ? el("p", { class: "muted hint" }, spec.hint) : null;
  const wrap = spec.type === "checkbox"
    ? el("div", { class: "check" }, el("label", { for: id }, input, " ", spec.label), error)
    : el("div", { class: "field" }, label, input, hint, error);
  return { spec, input, error, wrap };
}

function read(f) {
  const { spec, input } = f;
  if (spec.type === "checkbox") return input.checked;
  if (spec.type === "file") return input.files?.[0] ?? null;
  const text = input.value.trim();
  if (spec.type === "number") return text === "" ? null : Number(text);
  if (spec.type === "datetime") return text === "" ? null : new Date(text).toISOString();
  if (spec.type === "select" && spec.nullable && text === "") return null;
  return text;
}

// A message from the API names its field the API's way ("dailyCap must be ..."):
// say the field's label instead.
export function plain(message, fields) {
  let text = message;
  for (const f of fields) text = text.replaceAll(new RegExp(`\\b${f.spec.name}\\b`, "g"), f.spec.label.toLowerCase());
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// submit(values) answers the mutation's result; ok(result) says whether it succeeded
// (else the result is an Error with a message and maybe a field).
export function form({ label, fields: specs, submitLabel = "Save", submit, success, done }) {
  const fields = specs.map(field);
  const status = el("p", { role: "status", class: "status" });
  const general = el("p", { class: "field-error", role: "alert" });
  const button = el("button", { class: "primary", type: "submit" }, submitLabel);
  const node = el("form", { class: "settings-form", "aria-label": label, novalidate: true }, fields.map((f) => f.wrap), general, button, status);
  node.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const f of fields) { f.error.textContent = ""; f.input.removeAttribute("aria-invalid"); }
    general.textContent = "";
    status.textContent = "";
    const values = Object.fromEntries(fields.map((f) => [f.spec.name, read(f)]));
    button.disabled = true;
    try {
      const result = await submit(values);
      if (result && result.__typename !== success && result.message) {
        const target = fields.find((f) => f.spec.name === result.field);
        const message = plain(result.message, fields);
        if (target) { target.error.textContent = message; target.input.setAttribute("aria-invalid", "true"); target.input.focus(); }
        else general.textContent = message;
        return;
      }
      status.textContent = "Saved.";
      await done?.(result, values);
    } catch (error) {
      general.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  });
  return { node, fields, status };
}

export function table(headers, rows) {
  return el("div", { class: "scroll" }, el("table", {},
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows)));
}

// A secret shown once, with a copy button.
export function secretOnce(title, secret) {
  const code = el("code", { class: "code secret" }, secret);
  const copy = el("button", { type: "button", onclick: () => navigator.clipboard?.writeText(secret) }, "Copy");
  return el("div", { class: "once", role: "status" }, el("strong", {}, title), el("p", {}, "It is shown this once: keep it now."), code, " ", copy);
}

export function fileText(file) {
  return file ? file.text() : Promise.resolve("");
}

// A picture as base64, made smaller first in the browser (at most 1024 px a side, as
// JPEG) so that a phone photo fits the request size limit; the server makes its own
// PNG of it anyway. An SVG or anything the browser cannot draw is sent as it is, for
// the server to refuse in words.
export async function pictureBase64(file) {
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, 1024 / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    const context = canvas.getContext("2d");
    context.fillStyle = "#fff"; // JPEG has no transparency: white, not black, behind it
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    return canvas.toDataURL("image/jpeg", 0.9).split(",", 2)[1];
  } catch {
    return fileBase64(file);
  }
}

export function fileBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1]);
    reader.onerror = () => reject(new Error("The file could not be read."));
    reader.readAsDataURL(file);
  });
}
