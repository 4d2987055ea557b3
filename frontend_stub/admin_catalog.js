// Settings of the owner's console, part two: prizes (codes from a file, an image), API
// keys, the shop's webhooks to Laurel and Laurel's webhooks to the shop. Secrets are
// shown once, when made.
import { el, gql, number, toast } from "/static/api.js";
import { fileText, form, pictureBase64, secretOnce, table } from "/static/admin_forms.js";

const $ = (id) => document.getElementById(id);
const ERR = "... on Error { message } ... on ValidationError { field }";
const when = (iso) => (iso ? new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso)) : "–");
const EVENTS = ["member.created", "points.earned", "points.spent", "points.expiring", "points.expired", "badge.awarded", "badge.revoked",
  "tier.changed", "redemption.created", "redemption.cancelled", "contest.finalized", "activity.flagged"];
let key = null;

export async function loadCatalog(adminKey) {
  key = adminKey;
  await Promise.all([loadPrizes(), loadKeys(), loadIntegrations(), loadEndpoints()]);
}

const PRIZE = "id name description cost stockLeft kind perMemberLimit availableFrom availableUntil archived imageUrl minTier { id name }";

async function loadPrizes() {
  const [{ prizes }, { tiers }] = await Promise.all([
    gql(`query { prizes(first: 100) { edges { node { ${PRIZE} } } } }`, {}, key),
    gql("query { tiers { id name } }", {}, key),
  ]);
  const rows = prizes.edges.map(({ node: p }) => el("tr", { "data-prize": p.name },
    el("td", {}, p.imageUrl ? el("img", { src: p.imageUrl, alt: "", class: "thumb" }) : null, " ", p.name),
    el("td", { class: "num" }, number.format(p.cost)),
    el("td", { class: "num" }, p.stockLeft == null ? "No limit" : number.format(p.stockLeft)),
    el("td", {}, p.archived ? "Archived" : "On offer"),
    el("td", {}, el("div", { class: "row" },
      el("button", { type: "button", onclick: () => editPrize(p, tiers), "aria-label": `Edit ${p.name}` }, "Edit"),
      p.archived ? null : el("button", { type: "button", "aria-label": `Archive ${p.name}`, onclick: async () => {
        const { archivePrize } = await gql(`mutation($p: ID!) { archivePrize(prizeId: $p) { __typename ${ERR} } }`, { p: p.id }, key);
        if (archivePrize.__typename !== "PrizeSaved") toast(archivePrize.message); else { toast(`${p.name} archived.`); loadPrizes(); }
      } }, "Archive")))));
  $("prize-list").replaceChildren(table(["Prize", "Points", "Left", "State", "Actions"], rows),
    el("button", { type: "button", class: "primary", onclick: () => editPrize(null, tiers) }, "New prize"));
}

function editPrize(prize, tiers) {
  const local = (iso) => (iso ? new Date(new Date(iso).getTime() - new Date(iso).getTimezoneOffset() * 60000).toISOString().slice(0, 16) : "");
  const made = form({
    label: prize ? `Edit ${prize.name}` : "New prize",
    submitLabel: prize ? "Save prize" : "Create prize",
    fields: [
      { name: "name", label: "Name", value: prize?.name, required: true },
      { name: "description", label: "Description", type: "textarea", value: prize?.description },
      { name: "cost", label: "Points", type: "number", min: "1", value: prize?.cost },
      { name: "stock", label: "How many there are", type: "number", min: "0", value: prize?.stockLeft, hint: "Empty: no limit. Prizes with codes: the codes are the stock." },
      { name: "perMemberLimit", label: "At most per member", type: "number", min: "1", value: prize?.perMemberLimit },
      { name: "kind", label: "Kind", type: "select", value: prize?.kind ?? "DISCOUNT_CODE",
        options: [["DISCOUNT_CODE", "Discount code"], ["GIFT_CARD", "Gift card"], ["PHYSICAL", "Sent by post"], ["DIGITAL", "Download"]] },
      { name: "minTierId", label: "Only from tier", type: "select", nullable: true, value: prize?.minTier?.id ?? "", options: [["", "Any tier"], ...tiers.map((t) => [t.id, t.name])] },
      { name: "availableFrom", label: "Offered from", type: "datetime", value: local(prize?.availableFrom) },
      { name: "availableUntil", label: "Offered until", type: "datetime", value: local(prize?.availableUntil) },
      { name: "codes", label: "Codes to add (a text file, one per line)", type: "file", accept: ".txt,.csv,text/plain" },
      { name: "image", label: "Picture (PNG, JPEG or WebP)", type: "file", accept: "image/png,image/jpeg,image/webp" },
    ],
    success: "PrizeSaved",
    submit: async ({ codes, image, ...v }) => {
      const input = prize ? { prizeId: prize.id, ...v } : v;
      const mutation = prize ? "updatePrize(input: $i)" : "createPrize(input: $i)";
      const { result } = await gql(`mutation($i: ${prize ? "UpdatePrizeInput" : "CreatePrizeInput"}!) { result: ${mutation} { __typename ... on PrizeSaved { prize { id } } ${ERR} } }`, { i: input }, key);
      if (result.__typename !== "PrizeSaved") return result;
      const prizeId = result.prize.id;
      if (codes) {
        const lines = (await fileText(codes)).split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
        const { addPrizeCodes } = await gql(`mutation($i: AddPrizeCodesInput!) { addPrizeCodes(input: $i) { __typename ... on PrizeCodesAdded { added skipped } ${ERR} } }`,
          { i: { prizeId, codes: lines } }, key);
        if (addPrizeCodes.__typename !== "PrizeCodesAdded") return { ...addPrizeCodes, field: "codes" };
        toast(`${number.format(addPrizeCodes.added)} codes added${addPrizeCodes.skipped ? `, ${number.format(addPrizeCodes.skipped)} were there already` : ""}.`);
      }
      if (image) {
        const { setPrizeImage } = await gql(`mutation($i: SetPrizeImageInput!) { setPrizeImage(input: $i) { __typename ${ERR} } }`,
          { i: { prizeId, image: await pictureBase64(image) } }, key);
        if (setPrizeImage.__typename !== "PrizeSaved") return { ...setPrizeImage, field: "image" };
      }
      return result;
    },
    done: async () => { toast("Prize saved."); $("prize-editor").replaceChildren(); await loadPrizes(); },
  });
  $("prize-editor").replaceChildren(el("div", { class: "editor" }, el("h3", {}, prize ? `Edit ${prize.name}` : "New prize"), made.node));
  made.fields[0].input.focus();
}

async function loadKeys(shown = null) {
  const { apiKeys } = await gql("query { apiKeys { id name role prefix createdAt revokedAt } }", {}, key);
  const rows = apiKeys.map((k) => el("tr", { "data-key": k.name },
    el("td", {}, k.name), el("td", {}, k.role), el("td", {}, el("code", {}, `${k.prefix}…`)), el("td", {}, when(k.createdAt)),
    el("td", {}, k.revokedAt ? `Revoked ${when(k.revokedAt)}` : el("button", { type: "button", "aria-label": `Revoke ${k.name}`, onclick: async () => {
      if (!confirm(`Revoke the key “${k.name}”? Anything using it stops working at once.`)) return;
      const { revokeApiKey } = await gql(`mutation($i: RevokeApiKeyInput!) { revokeApiKey(input: $i) { __typename ${ERR} } }`, { i: { id: k.id } }, key);
      if (revokeApiKey.__typename !== "ApiKeyRevoked") toast(revokeApiKey.message); else { toast(`${k.name} revoked.`); loadKeys(); }
    } }, "Revoke"))));
  const made = form({
    label: "New API key",
    submitLabel: "Create key",
    fields: [
      { name: "name", label: "What it is for", required: true, hint: "For example: shop backend, or the name of a moderator." },
      { name: "role", label: "Role", type: "select", value: "SERVICE", options: [["SERVICE", "Shop backend (reports orders and members)"], ["MODERATOR", "Moderator"], ["ADMIN", "Owner (everything)"]] },
    ],
    success: "ApiKeyCreated",
    submit: async (v) => (await gql(`mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { __typename ... on ApiKeyCreated { secret apiKey { name } } ${ERR} } }`, { i: v }, key)).createApiKey,
    done: (result) => loadKeys(secretOnce(`The key for ${result.apiKey.name}`, result.secret)),
  });
  $("keys").replaceChildren(table(["Name", "Role", "Starts with", "Made", "Actions"], rows), shown ?? "", el("h3", {}, "New key"), made.node);
}

async function loadIntegrations(shown = null) {
  const { integrations } = await gql("query { integrations { id kind name enabled badSignatures hookPath createdAt } }", {}, key);
  const log = el("div", { class: "log" });
  const rows = integrations.map((i) => el("tr", {},
    el("td", {}, i.name), el("td", {}, i.kind), el("td", {}, el("code", {}, `${location.origin}${i.hookPath}`)), el("td", { class: "num" }, number.format(i.badSignatures)),
    el("td", {}, el("button", { type: "button", "aria-label": `Deliveries from ${i.name}`, onclick: () => deliveries(i, log) }, "Deliveries"))));
  const made = form({
    label: "Connect a shop",
    submitLabel: "Connect",
    fields: [
      { name: "name", label: "Name", required: true },
      { name: "kind", label: "Shop", type: "select", value: "SHOPIFY", options: [["SHOPIFY", "Shopify"], ["WOOCOMMERCE", "WooCommerce"], ["LAUREL", "Anything else (Standard Webhooks)"]] },
      { name: "secret", label: "Signing secret", hint: "Shopify: the app's API secret. Others: leave it empty and Laurel makes one." },
    ],
    success: "IntegrationSecret",
    submit: async (v) => (await gql(`mutation($i: CreateIntegrationInput!) { createIntegration(input: $i) { __typename ... on IntegrationSecret { secret integration { name } } ${ERR} } }`,
      { i: { ...v, secret: v.secret || null } }, key)).createIntegration,
    done: (r) => loadIntegrations(secretOnce(`The signing secret of ${r.integration.name}`, r.secret)),
  });
  $("integrations").replaceChildren(table(["Name", "Shop", "Send webhooks to", "Bad signatures", "Actions"], rows), log, shown ?? "", el("h3", {}, "Connect a shop"), made.node);
}

async function deliveries(integration, box) {
  const { hookDeliveries } = await gql("query($i: ID!) { hookDeliveries(integrationId: $i, first: 20) { deliveryId topic status reason receivedAt } }", { i: integration.id }, key);
  box.replaceChildren(el("h3", {}, `Last deliveries from ${integration.name}`), hookDeliveries.length
    ? table(["Received", "Topic", "Status", "Why"], hookDeliveries.map((d) => el("tr", {}, el("td", {}, when(d.receivedAt)), el("td", {}, d.topic), el("td", {}, d.status), el("td", {}, d.reason || ""))))
    : el("p", { class: "muted" }, "Nothing received yet."));
}

async function loadEndpoints(shown = null) {
  const { webhookEndpoints } = await gql("query { webhookEndpoints { id url events enabled disabledReason createdAt } }", {}, key);
  const log = el("div", { class: "log" });
  const rows = webhookEndpoints.map((w) => el("tr", { "data-endpoint": w.url },
    el("td", {}, w.url), el("td", {}, w.events.join(", ")), el("td", {}, w.enabled ? "On" : `Off${w.disabledReason ? `: ${w.disabledReason}` : ""}`),
    el("td", {}, el("div", { class: "row" },
      el("button", { type: "button", "aria-label": `Deliveries to ${w.url}`, onclick: () => messages(w, log) }, "Deliveries"),
      el("button", { type: "button", "aria-label": `${w.enabled ? "Turn off" : "Turn on"} ${w.url}`, onclick: async () => {
        const { updateWebhookEndpoint: r } = await gql(`mutation($i: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $i) { __typename ${ERR} } }`, { i: { endpointId: w.id, enabled: !w.enabled } }, key);
        if (r.__typename !== "WebhookEndpointSaved") toast(r.message); else loadEndpoints();
      } }, w.enabled ? "Turn off" : "Turn on")))));
  const made = form({
    label: "New webhook endpoint",
    submitLabel: "Add endpoint",
    fields: [
      { name: "url", label: "Address (https)", type: "url", required: true },
      { name: "events", label: "Events (comma separated)", value: "points.earned, badge.awarded, tier.changed", hint: `Any of: ${EVENTS.join(", ")}.` },
    ],
    success: "WebhookEndpointSecret",
    submit: async (v) => (await gql(`mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { __typename ... on WebhookEndpointSecret { secret endpoint { url } } ${ERR} } }`,
      { i: { url: v.url, events: v.events.split(/[\s,]+/).filter(Boolean) } }, key)).createWebhookEndpoint,
    done: (r) => loadEndpoints(secretOnce(`The signing secret for ${r.endpoint.url}`, r.secret)),
  });
  $("endpoints").replaceChildren(table(["Address", "Events", "State", "Actions"], rows), log, shown ?? "", el("h3", {}, "Add an endpoint"), made.node);
}

async function messages(endpoint, box) {
  const { webhookMessages } = await gql("query($e: ID!) { webhookMessages(endpointId: $e, first: 20) { id type status attempts lastStatus lastError createdAt } }", { e: endpoint.id }, key);
  box.replaceChildren(el("h3", {}, `Last deliveries to ${endpoint.url}`), webhookMessages.length
    ? table(["Made", "Event", "Status", "Tries", "Answer", "Actions"], webhookMessages.map((m) => el("tr", { "data-message": m.type },
      el("td", {}, when(m.createdAt)), el("td", {}, m.type), el("td", {}, m.status), el("td", { class: "num" }, number.format(m.attempts)),
      el("td", {}, m.lastStatus ? String(m.lastStatus) : m.lastError || ""),
      el("td", {}, el("button", { type: "button", "aria-label": `Send ${m.type} again`, onclick: async () => {
        const { redeliverWebhook: r } = await gql(`mutation($id: ID!) { redeliverWebhook(id: $id) { __typename ${ERR} } }`, { id: m.id }, key);
        toast(r.__typename === "WebhookRedelivered" ? "Queued to send again." : r.message);
        messages(endpoint, box);
      } }, "Send again")))))
    : el("p", { class: "muted" }, "Nothing sent yet."));
}
