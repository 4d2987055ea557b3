// Settings of the owner's console, part one: ways to earn, badges (with a live preview
// of the image), tiers and the points-for-discount rule. Each form sends one of the
// API's mutations; errors come back next to their field.
import { el, gql, toast } from "/static/api.js";
import { form } from "/static/admin_forms.js";
import { loadCatalog } from "/static/admin_catalog.js";
import { loadShopSettings } from "/static/admin_shop.js";

const $ = (id) => document.getElementById(id);
const ERR = "... on Error { message } ... on ValidationError { field }";
const KINDS = { REVIEW: "Review", PHOTO_REVIEW: "Review with a photo", SOCIAL_SHARE: "Share", REFERRAL: "Referral", PURCHASE: "Order" };
const METRICS = [["REVIEWS", "Reviews"], ["PHOTO_REVIEWS", "Photo reviews"], ["SHARES", "Shares"], ["REFERRALS", "Referrals"], ["PURCHASES", "Orders"],
  ["AMOUNT_SPENT", "Amount spent"], ["LIFETIME_POINTS", "Lifetime points"], ["ACTIVE_DAYS", "Active days"], ["ACTIVE_DAY_STREAK", "Day streak"], ["CONTESTS_WON", "Contests won"]];
const SHAPES = "circle square diamond pentagon hexagon heptagon octagon shield star flower burst cog medal".split(" ");
const GLYPHS = "pen book camera megaphone share people bag heart coins flame calendar gem trophy star".split(" ");
const options = (names) => names.map((n) => [n, n.charAt(0).toUpperCase() + n.slice(1)]);
let key = null;

export async function loadSettings(adminKey) {
  key = adminKey;
  await Promise.all([loadShopSettings($("shop-settings"), adminKey), loadRules(), loadBadges(), loadTiers(), loadDiscount(), loadCatalog(adminKey)]);
}

async function loadRules() {
  const { earningRules } = await gql("query { earningRules { kind points pointsPerCurrencyUnit dailyCap monthlyCap targetCap pendingDays needsModeration active } }", {}, key);
  $("rules").replaceChildren(el("div", { class: "forms" }, earningRules.map((rule) => {
    const purchase = rule.kind === "PURCHASE";
    const fields = [
      purchase
        ? { name: "pointsPerCurrencyUnit", label: "Points per 1.00 spent", type: "number", step: "0.01", min: "0", value: rule.pointsPerCurrencyUnit, hint: "Empty: the server's default (LAUREL_POINTS_PER_CURRENCY_UNIT)." }
        : { name: "points", label: "Points", type: "number", min: "0", value: rule.points },
      { name: "dailyCap", label: "At most a day", type: "number", min: "0", value: rule.dailyCap, hint: "Empty: no limit." },
      { name: "monthlyCap", label: "At most a month", type: "number", min: "0", value: rule.monthlyCap },
      { name: "pendingDays", label: "Days before points can be spent", type: "number", min: "0", value: rule.pendingDays },
      ...(purchase ? [] : [{ name: "needsModeration", label: "A moderator approves each one", type: "checkbox", value: rule.needsModeration }]),
      { name: "active", label: "Earns points", type: "checkbox", value: rule.active },
    ];
    const made = form({
      label: `${KINDS[rule.kind]} rule`,
      fields,
      success: "EarningRuleSaved",
      submit: async (v) => (await gql(`mutation($i: UpdateEarningRuleInput!) { updateEarningRule(input: $i) { __typename ${ERR} } }`,
        { i: { kind: rule.kind, points: v.points ?? rule.points, pointsPerCurrencyUnit: purchase ? v.pointsPerCurrencyUnit : null,
          dailyCap: v.dailyCap, monthlyCap: v.monthlyCap, targetCap: rule.targetCap, pendingDays: v.pendingDays,
          needsModeration: v.needsModeration ?? false, active: v.active } }, key)).updateEarningRule,
    });
    return el("div", { class: "sub", "data-rule": rule.kind }, el("h3", {}, KINDS[rule.kind]), made.node);
  })));
}

async function loadBadges() {
  const { badges } = await gql("query { badges { slug name description levels bonusPoints metric revocable enabled imageUrl art { shape glyph primaryColor secondaryColor } } }", {}, key);
  $("badge-list").replaceChildren(...badges.map((b) => el("div", { class: `badge${b.enabled ? "" : " locked"}`, "data-badge": b.slug },
    el("img", { src: b.imageUrl, alt: "" }), el("div", {}, b.name), el("div", { class: "muted" }, b.enabled ? "On" : "Off"),
    el("div", { class: "row" },
      el("button", { type: "button", onclick: () => editBadge(b), "aria-label": `Edit ${b.name}` }, "Edit"),
      el("button", { type: "button", "aria-label": `${b.enabled ? "Turn off" : "Turn on"} ${b.name}`, onclick: async () => {
        const { updateBadge } = await gql(`mutation($i: UpdateBadgeInput!) { updateBadge(input: $i) { __typename ${ERR} } }`, { i: { slug: b.slug, enabled: !b.enabled } }, key);
        if (updateBadge.__typename !== "BadgeSaved") toast(updateBadge.message); else loadBadges();
      } }, b.enabled ? "Turn off" : "Turn on")))),
  el("div", { class: "badge new" }, el("button", { type: "button", class: "primary", onclick: () => editBadge(null) }, "New badge")));
}

const numbersOf = (text) => String(text).split(/[\s,]+/).filter(Boolean).map(Number);

function editBadge(badge) {
  const art = badge?.art ?? { shape: "circle", glyph: "star", primaryColor: "#256045", secondaryColor: "#e3f1e8" };
  const preview = el("img", { class: "preview", alt: "Preview of the badge image", width: "128", height: "128" });
  const previewError = el("p", { class: "field-error", role: "alert" });
  const made = form({
    label: badge ? `Edit ${badge.name}` : "New badge",
    submitLabel: badge ? "Save badge" : "Create badge",
    fields: [
      ...(badge ? [] : [{ name: "slug", label: "Short name in links", hint: "Lower-case letters, digits and dashes, e.g. top-reviewer.", required: true }]),
      { name: "name", label: "Name", value: badge?.name, required: true },
      { name: "description", label: "Description", type: "textarea", value: badge?.description },
      { name: "metric", label: "Counts", type: "select", options: METRICS, value: badge?.metric },
      { name: "levels", label: "Levels (the count each needs, lowest first)", value: badge?.levels.join(", ") ?? "1", hint: "For example 1, 10, 50." },
      { name: "bonusPoints", label: "Bonus points at each level", value: badge?.bonusPoints.join(", ") ?? "0" },
      { name: "shape", label: "Shape", type: "select", options: options(SHAPES), value: art.shape },
      { name: "glyph", label: "Picture", type: "select", options: options(GLYPHS), value: art.glyph },
      { name: "primaryColor", label: "Main colour", type: "color", value: art.primaryColor },
      { name: "secondaryColor", label: "Second colour", type: "color", value: art.secondaryColor },
      { name: "revocable", label: "Taken back when the count drops", type: "checkbox", value: badge?.revocable },
      { name: "enabled", label: "On", type: "checkbox", value: badge?.enabled ?? true },
    ],
    success: "BadgeSaved",
    submit: async (v) => {
      const input = { name: v.name, description: v.description, metric: v.metric, levels: numbersOf(v.levels), bonusPoints: numbersOf(v.bonusPoints),
        art: { shape: v.shape, glyph: v.glyph, primaryColor: v.primaryColor, secondaryColor: v.secondaryColor }, revocable: v.revocable, enabled: v.enabled };
      const mutation = badge ? "updateBadge(input: $i)" : "defineBadge(input: $i)";
      const data = await gql(`mutation($i: ${badge ? "UpdateBadgeInput" : "DefineBadgeInput"}!) { result: ${mutation} { __typename ${ERR} } }`,
        { i: badge ? { ...input, slug: badge.slug } : { ...input, slug: v.slug } }, key);
      return data.result;
    },
    done: async () => { toast("Badge saved."); await loadBadges(); $("badge-editor").replaceChildren(); },
  });
  const byName = Object.fromEntries(made.fields.map((f) => [f.spec.name, f.input]));
  let timer = null;
  const redraw = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const spec = { shape: byName.shape.value, glyph: byName.glyph.value, primaryColor: byName.primaryColor.value, secondaryColor: byName.secondaryColor.value };
      const levels = Math.min(10, Math.max(1, numbersOf(byName.levels.value).length));
      try {
        const { badgeArtPreview } = await gql("query($a: BadgeArtInput!, $n: Int!) { badgeArtPreview(art: $a, level: 1, levels: $n) }", { a: spec, n: levels }, key);
        preview.src = badgeArtPreview;
        previewError.textContent = "";
      } catch (error) {
        previewError.textContent = error.message;
      }
    }, 150);
  };
  for (const name of ["shape", "glyph", "primaryColor", "secondaryColor", "levels"]) byName[name].addEventListener("input", redraw);
  redraw();
  $("badge-editor").replaceChildren(el("div", { class: "editor" }, el("h3", {}, badge ? `Edit ${badge.name}` : "New badge"),
    el("div", { class: "editor-body" }, made.node, el("figure", { class: "preview-box" }, preview, el("figcaption", { class: "muted" }, "What members will see"), previewError))));
  made.fields[0].input.focus();
}

async function loadTiers() {
  const { tiers } = await gql("query { tiers { id name threshold multiplier entryBonus } }", {}, key);
  $("tiers").replaceChildren(el("div", { class: "forms" }, tiers.map((t) => el("div", { class: "sub", "data-tier": t.name }, el("h3", {}, t.name), form({
    label: `${t.name} tier`,
    fields: [
      { name: "name", label: "Name", value: t.name },
      { name: "threshold", label: "Points in 12 months to reach it", type: "number", min: "0", value: t.threshold },
      { name: "multiplier", label: "Points multiplier", type: "number", step: "0.05", min: "1", value: t.multiplier },
      { name: "entryBonus", label: "Bonus on reaching it", type: "number", min: "0", value: t.entryBonus },
    ],
    success: "TierSaved",
    submit: async (v) => (await gql(`mutation($i: UpdateTierInput!) { updateTier(input: $i) { __typename ${ERR} } }`, { i: { tierId: t.id, ...v } }, key)).updateTier,
  }).node))));
}

async function loadDiscount() {
  const { discountRule: r } = await gql("query { discountRule { pointsPerCurrencyUnit minPoints maxPoints stepPoints enabled } }", {}, key);
  $("discount").replaceChildren(form({
    label: "Points for a discount",
    fields: [
      { name: "pointsPerCurrencyUnit", label: "Points for 1.00 off", type: "number", min: "1", value: r.pointsPerCurrencyUnit },
      { name: "minPoints", label: "Fewest points at a time", type: "number", min: "1", value: r.minPoints },
      { name: "maxPoints", label: "Most points at a time", type: "number", min: "1", value: r.maxPoints },
      { name: "stepPoints", label: "In steps of", type: "number", min: "1", value: r.stepPoints },
      { name: "enabled", label: "Members can turn points into a discount", type: "checkbox", value: r.enabled },
    ],
    success: "DiscountRuleSaved",
    submit: async (v) => (await gql(`mutation($i: UpdateDiscountRuleInput!) { updateDiscountRule(input: $i) { __typename ${ERR} } }`, { i: v }, key)).updateDiscountRule,
  }).node);
}
