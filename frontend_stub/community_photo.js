// The review form's photo: a file input with a preview; on sending, the photo is made
// smaller in the browser (at most 1600 px a side, as JPEG) so that a phone photo fits the
// request size limit, and uploaded to POST /photos. The server checks and re-encodes it
// anyway; what the browser cannot draw is sent as it is, for the server to refuse in words.
import { el } from "/static/api.js";
import { current, t } from "/static/i18n.js";

const $ = (id) => document.getElementById(id);
let uploaded = null; // { file, id }: a retry after a text error does not upload again

export function setUpPhoto() {
  // The preview is a small data: URL drawn here (the page's CSP allows data: images,
  // not blob: ones); a file the browser cannot draw gets no preview.
  $("review-photo").addEventListener("change", async () => {
    const file = $("review-photo").files?.[0];
    $("review-photo-error").textContent = "";
    $("review-photo").removeAttribute("aria-invalid");
    $("review-photo-preview").replaceChildren();
    const canvas = file ? await drawn(file, 320) : null;
    if (canvas && $("review-photo").files?.[0] === file) {
      $("review-photo-preview").replaceChildren(el("img", { src: canvas.toDataURL("image/jpeg", 0.8), alt: t("review.photo_preview") }));
    }
  });
}

export function clearPhoto() {
  $("review-photo").value = "";
  $("review-photo").dispatchEvent(new Event("change"));
}

// The picture drawn on a canvas of at most ``side`` px, on white; null if it cannot be.
async function drawn(file, side) {
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    const context = canvas.getContext("2d");
    context.fillStyle = "#fff";
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    return canvas;
  } catch {
    return null;
  }
}

async function smaller(file) {
  const canvas = await drawn(file, 1600);
  if (!canvas) return file;
  return new Promise((resolve) => canvas.toBlob((blob) => resolve(blob || file), "image/jpeg", 0.9));
}

// The chosen photo's id once uploaded; null when none was chosen. A refusal throws an
// Error whose message is the server's, in the page's language.
export async function uploadChosenPhoto(token) {
  const file = $("review-photo").files?.[0];
  if (!file) return null;
  if (uploaded?.file === file) return uploaded.id;
  const body = await smaller(file);
  const response = await fetch("/photos", {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Accept-Language": current(), "Content-Type": body.type || "application/octet-stream" },
    body,
  });
  const answer = await response.json().catch(() => ({}));
  if (response.status === 201) { uploaded = { file, id: answer.id }; return answer.id; }
  const message = answer.error || answer.errors?.[0]?.message || t("api.status", { status: String(response.status) });
  const error = new Error(message);
  error.expired = response.status === 401;
  throw error;
}

// An upload's refusal next to the photo field, as the form's other errors are shown.
export function photoError(message) {
  $("review-photo-error").textContent = message;
  $("review-photo").setAttribute("aria-invalid", "true");
  $("review-photo").focus();
}
