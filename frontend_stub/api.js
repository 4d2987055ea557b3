// The two ways a page talks to Laurel: GraphQL over HTTP, and subscriptions over
// graphql-transport-ws. Nothing else; every query lives next to the code that uses it.
// Both say the page's language (Accept-Language), so the server's messages come back in
// it; a page that never picks one (the owner's console) asks for English.
import { current, t } from "/static/i18n.js";

export async function gql(query, variables = {}, token = null) {
  const headers = { "Content-Type": "application/json", "Accept-Language": current() };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch("/graphql", {
    method: "POST",
    headers,
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json().catch(() => ({}));
  if (response.status === 401) {
    const error = new Error(t("api.expired"));
    error.expired = true; // the page goes back to its signed-out state
    throw error;
  }
  if (body.errors?.length) {
    // A query field's bad input names its field (extensions.field), for the form.
    const error = new Error(body.errors[0].message);
    error.extensions = body.errors[0].extensions || {};
    throw error;
  }
  if (!response.ok) throw new Error(t("api.status", { status: String(response.status) }));
  return body.data;
}

// A union result is either the success type or an Error with a message (and a field
// for ValidationError): turn the second into plain words for the form.
// A fresh idempotency key for one user action (a retry of the same request reuses it).
export const idempotencyKey = () => `${Date.now().toString(36)}-${crypto.getRandomValues(new Uint32Array(1))[0].toString(36)}`;

export function problem(result, success) {
  if (!result || result.__typename === success) return null;
  return { message: result.message || t("api.wrong"), field: result.field || null };
}

// One subscription on its own socket. Credentials go in the connection_init payload
// (browsers cannot set headers on a WebSocket). Returns a function that stops it.
export function subscribe(query, variables, token, onData, onError = () => {}) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  let socket;
  let stopped = false;
  let subscribed = false;
  let timer = null;
  let retry = 500;
  const open = () => {
    if (stopped) return;
    subscribed = false;
    const ws = new WebSocket(`${scheme}://${location.host}/graphql`, "graphql-transport-ws");
    socket = ws;
    // Never send on a socket that was stopped or closed meanwhile (a message may
    // still arrive while it closes).
    const send = (message) => {
      if (!stopped && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
    };
    ws.addEventListener("open", () => {
      const payload = { "Accept-Language": current() };
      if (token) payload.Authorization = `Bearer ${token}`;
      send({ type: "connection_init", payload });
    });
    ws.addEventListener("message", async (event) => {
      const text = typeof event.data === "string" ? event.data : await event.data.text();
      if (stopped) return;
      const message = JSON.parse(text);
      if (message.type === "connection_ack") {
        retry = 500;
        send({ id: "1", type: "subscribe", payload: { query, variables } });
        subscribed = true;
      } else if (message.type === "error") {
        onError(new Error(message.payload?.[0]?.message || "subscription error"));
      } else if (message.type === "next") {
        if (message.payload.errors?.length) onError(new Error(message.payload.errors[0].message));
        else onData(message.payload.data);
      } else if (message.type === "ping") {
        send({ type: "pong" });
      }
    });
    ws.addEventListener("close", () => {
      if (!stopped && socket === ws) timer = setTimeout(open, (retry = Math.min(retry * 2, 10000)));
    });
  };
  open();
  // Stopping ends the subscription ("complete") and closes with a normal code; a socket
  // still connecting is closed once it opens (closing it earlier makes the browser log
  // an error), and a pending reconnect never happens.
  return () => {
    if (stopped) return;
    stopped = true;
    clearTimeout(timer);
    const ws = socket;
    if (ws?.readyState === WebSocket.CONNECTING) {
      ws.addEventListener("open", () => ws.close(1000));
    } else if (ws?.readyState === WebSocket.OPEN) {
      if (subscribed) ws.send(JSON.stringify({ id: "1", type: "complete" }));
      ws.close(1000);
    }
  };
}

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value == null) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "class") node.className = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.flat().filter((c) => c != null).map((c) => (c instanceof Node ? c : String(c))));
  return node;
}

export function toast(text) {
  const box = document.getElementById("toasts");
  const item = el("div", { class: "toast", role: "status" }, text);
  box.append(item);
  setTimeout(() => item.remove(), 6000);
}

// The page's numbers and dates (i18n.js: they follow its language).
export { date, number } from "/static/i18n.js";

// Under `laurel serve --demo` only: show a console's "Use a demo key" button, which asks
// the dev-only endpoint for a staff key and signs in with it.
export function offerDemoKey(path, button, signIn) {
  fetch(path, { method: "HEAD" }).then((r) => {
    if (!r.ok) return;
    button.hidden = false;
    button.addEventListener("click", async () => {
      const { key } = await (await fetch(path, { method: "POST" })).json();
      signIn(key);
    });
  }).catch(() => {});
}
