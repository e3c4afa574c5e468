/*
 * API keys (#/keys): the user's keys with their state, a form to make one (name, expiry, scopes
 * from the gateway's services), a new key shown once with a copy button and a ready-to-run curl
 * line (this gateway's own address, the key, a service it may call), rotation with a chosen grace
 * for the old key (the rotate dialog) and revocation. Beside the keys, the plan's limits and what
 * is left of them now: they are per user, so every key and the playground share them.
 */
/* global document, window, navigator, confirm */
import { call, problemText } from "../shared/api.js";
import { $, busy, element, showFieldErrors } from "../shared/dom.js";
import { formatDate, sentence } from "../shared/format.js";
import { renderLimits } from "../shared/limitTable.js";
import { onServicesChange, onSignOut, session } from "../shared/session.js";
import { sessionEnded } from "./signIn.js";

export function wireKeys() {
  $("key-form").addEventListener("submit", (event) => void createKey(event));
  $("copy-key").addEventListener("click", () => void copyText($("new-key-value"), $("copy-status")));
  $("copy-curl").addEventListener("click", () => void copyText($("new-key-curl"), $("copy-curl-status")));
  $("dismiss-key").addEventListener("click", () => {
    hideNewKey();
    $("keys-title").focus();
  });
  onSignOut(() => {
    hideNewKey();
    $("key-list").replaceChildren();
  });
  onServicesChange(renderScopes);
}

function keyStatus(key, now) {
  if (key.revokedAt !== null) return { label: "Revoked", live: false };
  if (key.expiresAt !== null && Date.parse(key.expiresAt) <= now) return { label: "Expired", live: false };
  if (key.replacedBy !== null) return { label: `Rotated: works until ${formatDate(key.expiresAt)}`, live: false };
  return { label: "Active", live: true };
}

export async function loadKeys() {
  $("keys-status").textContent = "Loading your keys…";
  const [result] = await Promise.all([call("GET", "/account/api/keys"), loadPlanLimits()]);
  if (result.status === 401) return sessionEnded();
  if (!result.ok) {
    $("keys-status").textContent = problemText(result);
    return;
  }
  renderKeys(result.data.keys);
}

/** The plan's limits, as they stand now (read without spending anything). */
async function loadPlanLimits() {
  $("plan-name-now").textContent = session.user?.plan ?? "";
  const result = await call("GET", "/account/api/usage");
  if (result.ok) renderLimits($("keys-limits"), result.data.limits, null);
}

function renderKeys(keys) {
  const now = Date.now();
  $("keys-status").textContent = keys.length === 0 ? "You have no keys yet." : `${keys.length} ${keys.length === 1 ? "key" : "keys"}.`;
  $("key-list").replaceChildren(...keys.map((key) => keyItem(key, keyStatus(key, now))));
}

function keyItem(key, status) {
  const item = element("li", { className: `key${status.live ? "" : " key-dead"}` });
  item.dataset.keyId = key.id;
  const head = element("div", { className: "key-head" });
  head.append(element("span", { className: "key-name", textContent: key.name }), element("span", { className: `badge${status.live ? " badge-live" : ""}`, textContent: status.label }));
  const facts = element("dl", { className: "facts" });
  const fact = (term, value, className) => facts.append(element("dt", { textContent: term }), element("dd", { textContent: value, className: className ?? "" }));
  fact("Key", `${key.start}…`, "mono");
  fact("Created", formatDate(key.createdAt));
  fact("Last used", formatDate(key.lastUsedAt));
  fact("Expires", formatDate(key.expiresAt));
  fact("Scopes", key.scopes === null ? "All services" : key.scopes.join(", "));
  const usageLink = element("a", { href: `#/usage?key=${encodeURIComponent(key.id)}`, textContent: "Usage", className: "key-usage" });
  usageLink.setAttribute("aria-label", `Usage of key ${key.name}`);
  item.append(head, facts, usageLink);
  if (status.live) {
    const actions = element("div", { className: "buttons" });
    const rotate = element("button", { type: "button", textContent: "Rotate" });
    rotate.setAttribute("aria-label", `Rotate key ${key.name}`);
    rotate.addEventListener("click", () => void rotateKey(key, rotate));
    const revoke = element("button", { type: "button", textContent: "Revoke", className: "danger" });
    revoke.setAttribute("aria-label", `Revoke key ${key.name}`);
    revoke.addEventListener("click", () => void revokeKey(key, revoke));
    actions.append(rotate, revoke);
    item.append(actions);
  }
  return item;
}

async function createKey(event) {
  event.preventDefault();
  const form = $("key-form");
  $("key-form-error").textContent = "";
  const name = $("key-name").value.trim();
  if (name === "") return showFieldErrors(form, { "key-name": "Give the key a name." });
  showFieldErrors(form, {});

  const body = { name };
  const days = Number($("key-expiry").value);
  if (days > 0) body.expiresAt = new Date(Date.now() + days * 86_400_000).toISOString();
  const scopes = [...form.querySelectorAll("#key-scopes input:checked")].map((box) => box.value);
  if (scopes.length > 0) body.scopes = scopes;

  busy($("key-submit"), true);
  const result = await call("POST", "/account/api/keys", body);
  busy($("key-submit"), false);
  if (result.status === 401) return sessionEnded();
  if (result.status === 201) {
    form.reset();
    showNewKey(result.data.key, "", result.data.record);
    return void loadKeys();
  }
  if (result.status === 400 && Array.isArray(result.data?.invalidParams)) {
    const fields = {};
    for (const param of result.data.invalidParams) {
      const field = param.name === "name" ? "key-name" : param.name === "expiresAt" ? "key-expiry" : param.name.startsWith("scopes") ? "key-scopes" : null;
      if (field !== null) fields[field] = sentence(param.reason);
    }
    if (Object.keys(fields).length > 0) return showFieldErrors(form, fields);
  }
  $("key-form-error").textContent = problemText(result);
}

async function revokeKey(key, button) {
  if (!confirm(`Revoke the key “${key.name}” (${key.start}…)? Programs using it stop working at once.`)) return;
  busy(button, true);
  const result = await call("DELETE", `/account/api/keys/${encodeURIComponent(key.id)}`);
  if (result.status === 401) return sessionEnded();
  if (!result.ok) {
    busy(button, false);
    $("keys-status").textContent = problemText(result);
    return;
  }
  await loadKeys();
  $("keys-status").textContent = `Revoked “${key.name}”.`;
  $("keys-title").focus();
}

/** Asks how long the old key may keep working (the rotate dialog); the seconds, or null when cancelled. */
function askGrace(key) {
  const dialog = $("rotate-dialog");
  $("rotate-text").textContent = `You get a new key in place of “${key.name}” (${key.start}…).`;
  $("rotate-grace").value = "3600";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "rotate" ? Number($("rotate-grace").value) : null), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}

async function rotateKey(key, button) {
  const graceSeconds = await askGrace(key);
  button.focus();
  if (graceSeconds === null) return;
  busy(button, true);
  const result = await call("POST", `/account/api/keys/${encodeURIComponent(key.id)}/rotate`, { graceSeconds });
  if (result.status === 401) return sessionEnded();
  if (result.status !== 201) {
    busy(button, false);
    $("keys-status").textContent = problemText(result);
    return;
  }
  const replaced = result.data.replaced;
  const until = Date.parse(replaced.expiresAt) <= Date.now() ? "which has stopped working" : `which keeps working until ${formatDate(replaced.expiresAt)}`;
  showNewKey(result.data.key, `It replaces “${key.name}” (${key.start}…), ${until}.`, result.data.record);
  await loadKeys();
}

/** A path on this gateway that a key with `scopes` may call: a demo's real one when it is there. */
const DEMO_PATHS = { random: "/api/random/number", users: "/api/users/users/101", recommend: "/api/recommend/recommend/101" };
function tryPath(scopes) {
  const allowed = scopes ?? session.services;
  const demo = Object.keys(DEMO_PATHS).find((name) => allowed.includes(name));
  if (demo !== undefined) return DEMO_PATHS[demo];
  return `/api/${allowed[0] ?? "SERVICE"}/`;
}

function showNewKey(key, note, record) {
  $("new-key-value").textContent = key;
  $("new-key-note").textContent = note;
  $("new-key-curl").textContent = `curl -i -H 'x-api-key: ${key}' ${window.location.origin}${tryPath(record.scopes)}`;
  $("copy-status").textContent = "";
  $("copy-curl-status").textContent = "";
  $("new-key").hidden = false;
  $("new-key-title").focus();
}

function hideNewKey() {
  $("new-key-value").textContent = "";
  $("new-key-curl").textContent = "";
  $("new-key").hidden = true;
}

async function copyText(source, status) {
  try {
    await navigator.clipboard.writeText(source.textContent);
    status.textContent = "Copied to the clipboard.";
  } catch {
    // No clipboard access: select the text so one keystroke copies it.
    window.getSelection()?.selectAllChildren(source);
    status.textContent = "Selected: press Ctrl+C (⌘C on a Mac) to copy.";
  }
}

/** A box per service for the new key's scopes. */
function renderScopes(services) {
  const boxes = services.map((service) => {
    const label = element("label", { className: "check" });
    label.append(element("input", { type: "checkbox", name: "scopes", value: service }), document.createTextNode(` ${service}`));
    return label;
  });
  $("key-scopes-boxes").replaceChildren(...boxes);
}
