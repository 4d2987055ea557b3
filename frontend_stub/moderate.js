// The moderator console: the moderation queue and contests, with a moderator API key.
import { el, gql, offerDemoKey, problem, toast } from "/static/api.js";
import { onLanguage, start, t } from "/static/i18n.js";
import { redrawContests, startContests } from "/static/moderate_contests.js";
import { failure, plain } from "/static/moderate_forms.js";
import { applyShop } from "/static/community_shop.js";

const $ = (id) => document.getElementById(id);
const state = { key: sessionStorage.getItem("laurel.moderator") };

const QUEUE = `query Queue { moderationQueue(first: 50) {
  id kind occurredAt flagReason member { displayName } review { productId rating text hasPhoto } photo { url thumbnailUrl } } }`;

// Signing in takes a key: an empty box, or a key that is not a moderator's, says so in
// words beside the box (the detail of an unexpected failure goes to the log).
async function signIn(key) {
  const refused = (text) => { $("signin-error").textContent = text; $("key").setAttribute("aria-invalid", "true"); $("key").focus(); };
  $("signin-error").textContent = "";
  $("key").removeAttribute("aria-invalid");
  if (!key) { refused(t("mod.key_needed")); return; }
  try {
    await gql(QUEUE, {}, key);
  } catch (error) {
    if (!error.expired) console.warn("Laurel moderator console: sign-in", error);
    refused(error.expired ? t("common.signin_failed", { error: error.message }) : t("mod.signin_refused"));
    return;
  }
  state.key = key;
  sessionStorage.setItem("laurel.moderator", key);
  $("signin").hidden = true;
  $("signed-out").hidden = true;
  $("who").hidden = false;
  $("console").hidden = false;
  await Promise.all([loadQueue().catch((error) => { console.warn("Laurel moderator console: queue", error); }), startContests(key)]);
}

async function loadQueue() {
  const { moderationQueue } = await gql(QUEUE, {}, state.key);
  if (!moderationQueue.length) { $("queue").replaceChildren(el("li", { class: "muted" }, t("mod.queue_empty"))); return; }
  $("queue").replaceChildren(...moderationQueue.map((a) => {
    const kind = t(`kind.${a.kind}`).toLowerCase();
    const reason = el("input", { "aria-label": t("mod.reason_for", { name: a.member.displayName, kind }), placeholder: t("mod.reason_optional") });
    const error = el("p", { class: "field-error", role: "alert" });
    const decide = (decision) => async () => {
      error.textContent = "";
      let data;
      try {
        data = await gql(`mutation Decide($input: ModerateActivityInput!) { moderateActivity(input: $input) {
            __typename ... on ActivityRecorded { pointsAwarded } ... on Error { message } } }`,
          { input: { activityId: a.id, decision, reason: reason.value || null } }, state.key);
      } catch (thrown) { error.textContent = failure(thrown); return; }  // said in words, detail logged
      const issue = problem(data.moderateActivity, "ActivityRecorded");
      if (issue) { error.textContent = plain(issue.message); return; }
      toast(decision === "APPROVE" ? t("mod.approved", { count: data.moderateActivity.pointsAwarded, name: a.member.displayName }) : t("mod.rejected"));
      loadQueue().catch((thrown) => { error.textContent = failure(thrown); });
    };
    const what = a.review
      ? [el("strong", {}, t(a.review.hasPhoto ? "mod.reviewed_photo" : "mod.reviewed", { name: a.member.displayName, product: a.review.productId, rating: a.review.rating })), el("p", {}, a.review.text),
        a.photo ? el("a", { href: a.photo.url, target: "_blank", rel: "noopener", class: "review-photo" },
          el("img", { src: a.photo.thumbnailUrl, alt: t("mod.photo_of", { name: a.member.displayName }) })) : null]
      : [el("strong", {}, t("mod.activity", { name: a.member.displayName, kind })), el("p", { class: "muted" }, a.flagReason || "")];
    return el("li", { "data-activity": a.id }, ...what, el("div", { class: "row" }, reason,
      el("button", { type: "button", class: "primary", onclick: decide("APPROVE") }, t("mod.approve")),
      el("button", { type: "button", onclick: decide("REJECT") }, t("mod.reject"))), error);
  }));
}

$("signin").addEventListener("submit", (event) => { event.preventDefault(); signIn($("key").value.trim()); });
$("signout").addEventListener("click", () => { sessionStorage.removeItem("laurel.moderator"); location.reload(); });
await start();
applyShop({ brand: $("shop-brand") }).catch(() => {});
onLanguage(() => { if (state.key && !$("console").hidden) { loadQueue().catch(() => {}); redrawContests(); } });
offerDemoKey("/demo/moderator-key", $("demo-key"), (key) => { $("key").value = key; signIn(key); });
if (state.key) signIn(state.key);
