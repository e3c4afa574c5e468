/*
 * The dashboard's script (served as-is to the browser by src/dashboard/dashboard.ts; no build).
 * One page, views chosen by the URL's hash: sign-in/sign-up (#/login, #/signup), the playground
 * (#/playground), API keys (#/keys), usage charts (#/usage), the account's password (#/account),
 * and for admins users, plans, services and the limit inspector (#/admin-users, -plans,
 * -services, -limits). It only calls this origin: the JSON API under /auth, /account and
 * /admin/api (every change a same-origin fetch with a JSON body, which the server's Origin check
 * and JSON-only parsing protect from cross-site requests), and the gateway's /api/* with the
 * session cookie. Text from the server is set with textContent, never parsed as HTML; charts are
 * SVG elements made one by one.
 */
/* global document, window, fetch, navigator, setInterval, clearInterval, confirm */

const $ = (id) => {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`the page has no #${id}`);
  return element;
};

const state = {
  /** The signed-in user ({id, email, role, plan}), or null. */
  user: null,
  /** The gateway's service names. */
  services: [],
  /** "login" or "signup": what the auth form does. */
  authMode: "login",
  /** When the random-number limit lets calls through again (ms since the epoch), or 0. */
  limitedUntil: 0,
  countdownTimer: 0,
  /** The usage charts as last drawn: [container, points, options]. */
  charts: [],
};

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const formatDate = (iso) => (iso === null ? "Never" : dateFormat.format(new Date(iso)));

// ---------------------------------------------------------------------------------------------
// Talking to Sluice

/**
 * A same-origin request; a JSON body when `body` is given. Resolves with the status, headers and
 * parsed body (null when empty or not JSON); status 0 when Sluice could not be reached.
 */
async function call(method, path, body) {
  const init = { method, credentials: "same-origin", headers: { accept: "application/json, application/problem+json" } };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    return { status: 0, ok: false, headers: new window.Headers(), data: null };
  }
  const text = await response.text();
  let data = null;
  try {
    data = text === "" ? null : JSON.parse(text);
  } catch {
    data = null;
  }
  return { status: response.status, ok: response.ok, headers: response.headers, data };
}

/** What a failed answer says, for people. */
function problemText(result) {
  if (result.status === 0) return "Sluice did not answer. Check that it is running, then try again.";
  const detail = result.data && (result.data.detail || result.data.title);
  return detail ? String(detail) : `Sluice answered with status ${result.status}.`;
}

/** Seconds from a Retry-After header (at least 1). */
function retryAfterSeconds(headers) {
  const seconds = Number.parseInt(headers.get("retry-after") ?? "", 10);
  return Number.isFinite(seconds) && seconds > 0 ? seconds : 1;
}

/**
 * The RateLimit and RateLimit-Policy headers, read: the binding limit's name, what is left,
 * seconds to its reset, and its quota and window when the policy names them. Null without them.
 */
function readRateLimit(headers) {
  const value = headers.get("ratelimit");
  if (!value) return null;
  const item = parseItem(value.split(",")[0]);
  if (item === null || item.params.r === undefined) return null;
  const policy = (headers.get("ratelimit-policy") ?? "").split(",").map(parseItem).find((p) => p !== null && p.name === item.name);
  return { name: item.name, remaining: item.params.r, resetSeconds: item.params.t, quota: policy?.params.q, windowSeconds: policy?.params.w };
}

/** One structured-field item with integer parameters: `"name";r=4;t=30`. */
function parseItem(text) {
  const match = /^\s*"([^"]*)"((?:\s*;\s*[a-z]+=\d+)*)\s*$/.exec(text);
  if (match === null) return null;
  const params = {};
  for (const [, key, number] of match[2].matchAll(/([a-z]+)=(\d+)/g)) params[key] = Number(number);
  return { name: match[1], params };
}

function describeRateLimit(limit) {
  if (limit === null) return "";
  const left = limit.quota === undefined ? `${limit.remaining} requests left` : `${limit.remaining} of ${limit.quota} requests left`;
  const reset = limit.resetSeconds === undefined ? "" : `; the window resets in ${limit.resetSeconds} s`;
  return `${left} in this window (limit “${limit.name}”)${reset}.`;
}

// ---------------------------------------------------------------------------------------------
// Views

const VIEWS = {
  login: { section: "page-auth", title: "Log in", signedIn: false },
  signup: { section: "page-auth", title: "Sign up", signedIn: false },
  playground: { section: "page-playground", title: "Playground", signedIn: true },
  keys: { section: "page-keys", title: "API keys", signedIn: true },
  usage: { section: "page-usage", title: "Usage", signedIn: true },
  account: { section: "page-account", title: "Account", signedIn: true },
  "admin-users": { section: "page-admin", title: "Admin: users", signedIn: true, panel: "admin-users" },
  "admin-plans": { section: "page-admin", title: "Admin: plans", signedIn: true, panel: "admin-plans" },
  "admin-services": { section: "page-admin", title: "Admin: services", signedIn: true, panel: "admin-services" },
  "admin-limits": { section: "page-admin", title: "Admin: limit inspector", signedIn: true, panel: "admin-limits" },
};

/** Shows the view the hash names, or the right default for a signed-in or signed-out visitor. */
function showView({ focus }) {
  const [wanted, query] = window.location.hash.replace(/^#\/?/, "").split("?");
  let name = Object.hasOwn(VIEWS, wanted) ? wanted : "";
  if (name === "" || VIEWS[name].signedIn !== (state.user !== null)) name = state.user === null ? "login" : "playground";
  if (wanted !== name) window.history.replaceState(null, "", `#/${name}`);
  const params = new window.URLSearchParams(wanted === name ? query ?? "" : "");

  const view = VIEWS[name];
  for (const section of document.querySelectorAll("main > section")) section.hidden = section.id !== view.section;
  for (const link of document.querySelectorAll("[data-page-link]")) {
    if (link.dataset.pageLink === (view.panel === undefined ? name : "admin")) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${view.title} · Sluice`;
  if (view.section === "page-auth") setAuthMode(name);
  if (name === "keys") void loadKeys();
  if (name === "usage") void loadUsageSubjects(params.get("key"));
  if (name === "account") showAccount();
  if (view.panel !== undefined) showAdminPanel(name, view.title, params);
  if (focus) $(view.section).querySelector("h1").focus();
}

function navigate(name) {
  if (window.location.hash === `#/${name}`) showView({ focus: true });
  else window.location.hash = `#/${name}`;
}

function setUser(user) {
  state.user = user;
  for (const element of document.querySelectorAll(".signed-in")) element.hidden = user === null;
  for (const element of document.querySelectorAll(".admin-only")) element.hidden = user?.role !== "admin";
  $("who-email").textContent = user === null ? "" : user.email;
  if (user === null) {
    stopCountdown();
    hideNewKey();
    $("key-list").replaceChildren();
    state.services = [];
    renderScopes();
    fitPlayground();
  }
}

/** The session is gone (expired, signed out elsewhere): back to the sign-in form, saying why. */
function sessionEnded() {
  setUser(null);
  notice("Your session has ended. Log in again.");
  navigate("login");
}

function notice(text) {
  const element = $("auth-notice");
  element.textContent = text;
  element.hidden = text === "";
}

// ---------------------------------------------------------------------------------------------
// Forms

/** Marks `fields` ({inputId: message}) invalid and focuses the first; clears the others. */
function showFieldErrors(form, fields) {
  let first = null;
  for (const input of form.querySelectorAll("input, select, textarea, fieldset")) {
    if (!input.id) continue;
    const message = fields[input.id];
    const error = document.getElementById(`${input.id}-error`);
    if (error !== null) error.textContent = message ?? "";
    if (message) {
      input.setAttribute("aria-invalid", "true");
      first ??= input.matches("fieldset") ? input.querySelector("input") : input;
    } else {
      input.removeAttribute("aria-invalid");
    }
  }
  first?.focus();
}

function busy(button, isBusy) {
  button.disabled = isBusy;
  button.setAttribute("aria-busy", String(isBusy));
}

function setAuthMode(mode) {
  state.authMode = mode;
  const signup = mode === "signup";
  $("auth-title").textContent = signup ? "Sign up" : "Log in";
  $("auth-intro").textContent = signup
    ? "Make an account to try the gateway and get API keys. It starts on the free plan."
    : "Sign in to try the gateway and manage your API keys.";
  $("auth-submit").textContent = signup ? "Sign up" : "Log in";
  $("auth-form").setAttribute("action", signup ? "/auth/signup" : "/auth/login");
  $("password").setAttribute("autocomplete", signup ? "new-password" : "current-password");
  $("password-hint").hidden = !signup;
  $("auth-switch-text").textContent = signup ? "Have an account?" : "No account yet?";
  $("auth-switch").textContent = signup ? "Log in" : "Sign up";
  $("auth-switch").setAttribute("href", signup ? "#/login" : "#/signup");
  $("auth-error").textContent = "";
  showFieldErrors($("auth-form"), {});
}

async function submitAuth(event) {
  event.preventDefault();
  const form = $("auth-form");
  const signup = state.authMode === "signup";
  const email = $("email").value.trim();
  const password = $("password").value;
  $("auth-error").textContent = "";
  notice("");

  const errors = {};
  if (email === "") errors.email = "Enter your email address.";
  else if (signup && !/^[^\s@]+@[^\s@]+$/.test(email)) errors.email = "Enter an email address, like ada@example.com.";
  if (password === "") errors.password = "Enter your password.";
  else if (signup && [...password].length < 8) errors.password = "Use at least 8 characters.";
  showFieldErrors(form, errors);
  if (Object.keys(errors).length > 0) return;

  busy($("auth-submit"), true);
  const result = await call("POST", signup ? "/auth/signup" : "/auth/login", { email, password });
  busy($("auth-submit"), false);
  if (result.ok) {
    $("password").value = "";
    setUser(result.data.user);
    await loadServiceNames();
    navigate("playground");
    return;
  }
  if (result.status === 400 && Array.isArray(result.data?.invalidParams)) {
    const fields = {};
    for (const param of result.data.invalidParams) {
      if (param.name === "email") fields.email = `This is ${param.reason}.`;
      else if (param.name === "password") fields.password = sentence(param.reason);
    }
    if (Object.keys(fields).length > 0) return showFieldErrors(form, fields);
  }
  if (result.status === 409) return showFieldErrors(form, { email: "An account with this email exists already. Log in instead." });
  $("auth-error").textContent =
    result.status === 401 ? "The email and password do not match an account. Check them and try again."
    : result.status === 429 && signup ? `Too many sign-ups from your address. Try again in ${retryAfterSeconds(result.headers)} s.`
    : result.status === 429 ? `Too many failed attempts. Try again in ${retryAfterSeconds(result.headers)} s.`
    : result.status === 503 ? "Sluice is busy. Try again in a moment."
    : result.status === 403 ? "Open this page from Sluice's own address to sign in."
    : problemText(result);
}

const sentence = (text) => String(text).charAt(0).toUpperCase() + String(text).slice(1) + (/[.!?]$/.test(text) ? "" : ".");

async function logOut() {
  await call("POST", "/auth/logout");
  setUser(null);
  notice("You have logged out.");
  navigate("login");
}

// ---------------------------------------------------------------------------------------------
// Playground

async function getRandomNumber() {
  const button = $("random-button");
  // While the countdown runs the button stays focusable (aria-disabled) but does nothing.
  if (state.limitedUntil > Date.now() || button.getAttribute("aria-busy") === "true") return;
  button.setAttribute("aria-busy", "true");
  const result = await call("GET", "/api/random/number");
  button.setAttribute("aria-busy", "false");
  $("random-error").textContent = "";
  $("random-left").textContent = describeRateLimit(readRateLimit(result.headers));
  if (result.status === 200 && typeof result.data?.number === "number") {
    $("random-number").textContent = String(result.data.number);
  } else if (result.status === 429) {
    startCountdown(retryAfterSeconds(result.headers));
  } else if (result.status === 401 && (await call("GET", "/auth/me")).status === 401) {
    sessionEnded();
  } else {
    $("random-error").textContent = problemText(result);
  }
}

function startCountdown(seconds) {
  stopCountdown();
  state.limitedUntil = Date.now() + seconds * 1000;
  $("random-button").setAttribute("aria-disabled", "true");
  $("rate-limited").hidden = false;
  // Screen readers hear it once, not every second.
  $("announcer").textContent = `Rate limited. Try again in ${seconds} seconds.`;
  tick();
  state.countdownTimer = setInterval(tick, 250);
}

function tick() {
  const left = Math.ceil((state.limitedUntil - Date.now()) / 1000);
  if (left > 0) {
    $("countdown").textContent = String(left);
    return;
  }
  stopCountdown();
  $("announcer").textContent = "You can get random numbers again.";
}

function stopCountdown() {
  clearInterval(state.countdownTimer);
  state.limitedUntil = 0;
  $("random-button").removeAttribute("aria-disabled");
  $("rate-limited").hidden = true;
}

async function tryService(event) {
  const button = event.currentTarget;
  busy(button, true);
  const result = await call("GET", button.dataset.path);
  busy(button, false);
  if (result.status === 401 && (await call("GET", "/auth/me")).status === 401) return sessionEnded();
  const limit = describeRateLimit(readRateLimit(result.headers));
  const waited = result.status === 429 ? ` Rate limited: try again in ${retryAfterSeconds(result.headers)} s.` : "";
  $("service-status").textContent = `GET ${button.dataset.path} → ${result.status || "no answer"}. ${limit}${waited}`;
  $("service-result").textContent = result.data === null ? "" : JSON.stringify(result.data, null, 2);
}

// ---------------------------------------------------------------------------------------------
// API keys

function keyStatus(key, now) {
  if (key.revokedAt !== null) return { label: "Revoked", live: false };
  if (key.expiresAt !== null && Date.parse(key.expiresAt) <= now) return { label: "Expired", live: false };
  if (key.replacedBy !== null) return { label: `Rotated: works until ${formatDate(key.expiresAt)}`, live: false };
  return { label: "Active", live: true };
}

async function loadKeys() {
  $("keys-status").textContent = "Loading your keys…";
  const result = await call("GET", "/account/api/keys");
  if (result.status === 401) return sessionEnded();
  if (!result.ok) {
    $("keys-status").textContent = problemText(result);
    return;
  }
  renderKeys(result.data.keys);
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

function element(tag, properties) {
  return Object.assign(document.createElement(tag), properties);
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
    showNewKey(result.data.key, "");
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
  showNewKey(result.data.key, `It replaces “${key.name}” (${key.start}…), ${until}.`);
  await loadKeys();
}

function showNewKey(key, note) {
  $("new-key-value").textContent = key;
  $("new-key-note").textContent = note;
  $("copy-status").textContent = "";
  $("new-key").hidden = false;
  $("new-key-title").focus();
}

function hideNewKey() {
  $("new-key-value").textContent = "";
  $("new-key").hidden = true;
}

async function copyKey() {
  const key = $("new-key-value").textContent;
  try {
    await navigator.clipboard.writeText(key);
    $("copy-status").textContent = "Copied to the clipboard.";
  } catch {
    // No clipboard access: select the key so one keystroke copies it.
    window.getSelection()?.selectAllChildren($("new-key-value"));
    $("copy-status").textContent = "Selected: press Ctrl+C (⌘C on a Mac) to copy.";
  }
}

/** The gateway's services, for key scopes and the playground: for signed-in users only. */
async function loadServiceNames() {
  const result = await call("GET", "/dashboard/services.json");
  state.services = result.ok ? result.data.services : [];
  renderScopes();
  fitPlayground();
}

function renderScopes() {
  const boxes = state.services.map((service) => {
    const label = element("label", { className: "check" });
    label.append(element("input", { type: "checkbox", name: "scopes", value: service }), document.createTextNode(` ${service}`));
    return label;
  });
  $("key-scopes-boxes").replaceChildren(...boxes);
}

/** Hides the playground's buttons for services this gateway does not have. */
function fitPlayground() {
  const has = (name) => state.services.includes(name);
  $("random-card").hidden = !has("random");
  for (const button of document.querySelectorAll("[data-service]")) button.hidden = !has(button.dataset.service);
  $("services-card").hidden = !has("users") && !has("recommend");
}

// ---------------------------------------------------------------------------------------------
// Usage

const SVG = "http://www.w3.org/2000/svg";
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "short", hour: "2-digit", minute: "2-digit" });
const count = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Fills the usage page's subject list (the session, then each key) and shows the chosen one. */
async function loadUsageSubjects(keyId) {
  $("usage-status").textContent = "Loading…";
  const result = await call("GET", "/account/api/keys");
  if (result.status === 401) return sessionEnded();
  if (!result.ok) {
    $("usage-status").textContent = problemText(result);
    return;
  }
  const select = $("usage-subject");
  const options = [element("option", { value: "session", textContent: "Your signed-in calls (playground)" })];
  for (const key of result.data.keys) {
    const dead = key.revokedAt !== null ? " (revoked)" : "";
    options.push(element("option", { value: key.id, textContent: `Key “${key.name}” (${key.start}…)${dead}` }));
  }
  select.replaceChildren(...options);
  const wanted = keyId ?? (result.data.keys.find((key) => key.revokedAt === null)?.id ?? "session");
  select.value = options.some((option) => option.value === wanted) ? wanted : "session";
  await loadUsage();
}

async function loadUsage() {
  const subject = $("usage-subject").value;
  const path = subject === "session" ? "/account/api/usage/session" : `/account/api/usage/keys/${encodeURIComponent(subject)}`;
  $("usage-status").textContent = "Loading…";
  const result = await call("GET", path);
  if (result.status === 401) return sessionEnded();
  if (!result.ok) {
    $("usage-status").textContent = problemText(result);
    return;
  }
  const { minutes, hours, limits } = result.data;
  state.charts = [
    [$("minutes-chart"), minutes, { label: "Requests per minute over the last hour", format: timeFormat, tickBase: 15 }],
    [$("hours-chart"), hours, { label: "Requests per hour over the last week", format: dayFormat, tickBase: 24 }],
  ];
  drawCharts();
  $("minutes-summary").textContent = summary(minutes, "the last hour", "minute", timeFormat);
  $("hours-summary").textContent = summary(hours, "the last week", "hour", dayFormat);
  renderLimits($("usage-limits"), limits, null);
  $("usage-status").textContent = `Updated at ${timeFormat.format(new Date())}.`;
}

function summary(points, span, step, format) {
  const allowed = points.reduce((sum, p) => sum + p.allowed, 0);
  const limited = points.reduce((sum, p) => sum + p.limited, 0);
  if (allowed + limited === 0) return `No calls in ${span}.`;
  const busiest = points.reduce((best, p) => (p.allowed + p.limited > best.allowed + best.limited ? p : best));
  return `${count(allowed, "call")} allowed and ${limited} limited in ${span}; the busiest ${step} (${format.format(new Date(busiest.at))}) had ${busiest.allowed + busiest.limited}.`;
}

function svg(tag, attributes) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

/** Draws the usage charts at their boxes' current width (again when the window is resized). */
function drawCharts() {
  for (const [container, points, options] of state.charts) drawChart(container, points, options);
}

/**
 * A bar chart of `points` ({at, allowed, limited}), allowed below and limited stacked on top, with
 * the largest total on the y axis and times under the bars, every `tickBase` bars or a multiple
 * of it, as many as fit. Each bar's title names its time and counts. Drawn at the box's width in
 * pixels, so text keeps its size on a phone; the box's height is fixed, so nothing jumps.
 */
function drawChart(container, points, { label, format, tickBase }) {
  const width = Math.max(280, container.clientWidth || 720);
  const height = 200;
  const left = 36;
  const bottom = 22;
  const top = 8;
  const plotHeight = height - bottom - top;
  const max = Math.max(1, ...points.map((p) => p.allowed + p.limited));
  const step = (width - left) / Math.max(1, points.length);
  const labels = Math.max(1, Math.floor((width - left) / 120));
  const tickEvery = Math.max(1, Math.ceil(points.length / labels / tickBase)) * tickBase;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label, class: "chart-svg" });
  chart.append(svg("line", { x1: left, y1: top + plotHeight, x2: width, y2: top + plotHeight, class: "axis" }));
  chart.append(svg("line", { x1: left, y1: top, x2: width, y2: top, class: "grid-line" }));
  const maxLabel = svg("text", { x: left - 6, y: top + 10, class: "tick tick-y" });
  maxLabel.textContent = String(max);
  const zeroLabel = svg("text", { x: left - 6, y: top + plotHeight, class: "tick tick-y" });
  zeroLabel.textContent = "0";
  chart.append(maxLabel, zeroLabel);
  points.forEach((point, i) => {
    const x = left + i * step;
    const allowedHeight = (point.allowed / max) * plotHeight;
    const limitedHeight = (point.limited / max) * plotHeight;
    const group = svg("g", { class: "bar" });
    const title = svg("title", {});
    title.textContent = `${format.format(new Date(point.at))}: ${point.allowed} allowed, ${point.limited} limited`;
    // A full-height hit area, so even an empty step has its title on hover.
    group.append(title, svg("rect", { x, y: top, width: step, height: plotHeight, class: "bar-hit" }));
    if (point.allowed > 0) group.append(svg("rect", { x: x + step * 0.1, y: top + plotHeight - allowedHeight, width: step * 0.8, height: allowedHeight, class: "bar-allowed" }));
    if (point.limited > 0) group.append(svg("rect", { x: x + step * 0.1, y: top + plotHeight - allowedHeight - limitedHeight, width: step * 0.8, height: limitedHeight, class: "bar-limited" }));
    chart.append(group);
    if ((points.length - 1 - i) % tickEvery === 0) {
      const tick = svg("text", { x: x + step / 2, y: height - 6, class: "tick tick-x" });
      tick.textContent = i === points.length - 1 ? "now" : format.format(new Date(point.at));
      chart.append(tick);
    }
  });
  container.replaceChildren(chart);
  container.dataset.allowed = String(points.reduce((sum, p) => sum + p.allowed, 0));
  container.dataset.limited = String(points.reduce((sum, p) => sum + p.limited, 0));
}

/** A window in the largest whole unit: "30 s", "15 min", "1 d". */
function formatWindow(seconds) {
  for (const [unit, size] of [["d", 86_400], ["h", 3_600], ["min", 60]]) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size} ${unit}`;
  }
  return `${seconds} s`;
}

/** When a limit is whole again, as briefly as is clear: "now", "in 12 s", "in 9 min", "08:31 AM", "Wed 08:31 AM". */
function formatReset(iso) {
  const ms = Date.parse(iso) - Date.now();
  if (ms <= 0) return "now";
  if (ms < 60_000) return `in ${Math.ceil(ms / 1000)} s`;
  if (ms < 3_600_000) return `in ${Math.ceil(ms / 60_000)} min`;
  return (ms < 86_400_000 ? timeFormat : dayFormat).format(new Date(iso));
}

/** Rows of limit states; with `onReset`, each row has a Reset button. */
function renderLimits(table, limits, onReset) {
  const rows = limits.map((limit) => {
    const row = element("tr", {});
    const name = element("th", { scope: "row" });
    name.append(element("span", { textContent: limit.name, className: "mono" }), element("span", { className: "muted small", textContent: ` ${limit.algorithm}, ${limit.limit} per ${formatWindow(limit.windowSeconds)}` }));
    const cells = [name];
    if (onReset !== null) cells.push(element("td", { textContent: limit.source }));
    cells.push(
      element("td", { textContent: limit.services.length === 0 ? "—" : limit.services.join(", ") }),
      element("td", { textContent: `${limit.remaining} of ${limit.limit}`, className: limit.remaining <= 0 ? "spent" : "" }),
      element("td", { textContent: formatReset(limit.resetAt) }),
    );
    if (onReset !== null) {
      const cell = element("td", {});
      const button = element("button", { type: "button", textContent: "Reset", className: "quiet" });
      button.setAttribute("aria-label", `Reset ${limit.name}`);
      button.addEventListener("click", () => void onReset(limit, button));
      cell.append(button);
      cells.push(cell);
    }
    row.append(...cells);
    return row;
  });
  if (rows.length === 0) {
    const row = element("tr", {});
    row.append(element("td", { colSpan: onReset === null ? 4 : 6, className: "muted", textContent: "No limits apply." }));
    rows.push(row);
  }
  table.tBodies[0].replaceChildren(...rows);
}

// ---------------------------------------------------------------------------------------------
// Account

function showAccount() {
  $("account-email").textContent = state.user.email;
  $("account-plan").textContent = state.user.plan;
  $("account-role").textContent = state.user.role;
  $("password-username").value = state.user.email;
}

async function changePassword(event) {
  event.preventDefault();
  const form = $("password-form");
  const currentPassword = $("current-password").value;
  const newPassword = $("new-password").value;
  $("password-form-error").textContent = "";
  $("password-done").hidden = true;
  const errors = {};
  if (currentPassword === "") errors["current-password"] = "Enter your current password.";
  if ([...newPassword].length < 8) errors["new-password"] = newPassword === "" ? "Enter a new password." : "Use at least 8 characters.";
  showFieldErrors(form, errors);
  if (Object.keys(errors).length > 0) return;

  busy($("password-submit"), true);
  const result = await call("POST", "/auth/password", { currentPassword, newPassword });
  busy($("password-submit"), false);
  if (result.status === 204) {
    form.reset();
    $("password-username").value = state.user.email;
    $("password-done").hidden = false;
    return;
  }
  if (result.status === 401 && result.data?.code === "SLUICE_ERR_NOT_SIGNED_IN") return sessionEnded();
  if (result.status === 401) return showFieldErrors(form, { "current-password": "This is not your current password." });
  if (result.status === 400 && Array.isArray(result.data?.invalidParams)) {
    const fields = {};
    for (const param of result.data.invalidParams) {
      if (param.name === "newPassword") fields["new-password"] = sentence(param.reason);
      else if (param.name === "currentPassword") fields["current-password"] = sentence(param.reason);
    }
    if (Object.keys(fields).length > 0) return showFieldErrors(form, fields);
  }
  $("password-form-error").textContent = result.status === 429 ? `Too many wrong passwords. Try again in ${retryAfterSeconds(result.headers)} s.` : problemText(result);
}

// ---------------------------------------------------------------------------------------------
// Admin

const admin = { plans: [], usersCursor: undefined };

/** Shows one admin panel; a 403 from the API hides them all and says why. */
function showAdminPanel(name, title, params) {
  $("admin-title").textContent = title;
  for (const link of document.querySelectorAll("[data-admin-link]")) {
    if (link.dataset.adminLink === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  for (const panel of document.querySelectorAll(".admin-panel")) panel.hidden = panel.id !== name;
  $("admin-forbidden").hidden = true;
  $("admin-status").textContent = "";
  if (name === "admin-users") void loadUsers(false);
  if (name === "admin-plans") void loadPlans();
  if (name === "admin-services") void loadServices();
  if (name === "admin-limits") {
    for (const kind of ["ip", "keyId", "userId"]) {
      if (params.has(kind)) {
        $("inspect-kind").value = kind;
        $("inspect-value").value = params.get(kind);
        void inspect();
      }
    }
  }
}

/** Handles what every admin call may answer; true when the caller should go on with the data. */
function adminAnswered(result) {
  if (result.ok) return true;
  if (result.status === 401) {
    sessionEnded();
  } else if (result.status === 403) {
    for (const panel of document.querySelectorAll(".admin-panel")) panel.hidden = true;
    $("admin-forbidden").hidden = false;
  } else {
    $("admin-status").textContent = problemText(result);
  }
  return false;
}

async function loadUsers(more) {
  const query = new window.URLSearchParams({ limit: "50" });
  const email = $("user-search-email").value.trim();
  if (email !== "") query.set("email", email);
  if (more && admin.usersCursor) query.set("cursor", admin.usersCursor);
  $("admin-status").textContent = "Loading users…";
  const [users, plans] = await Promise.all([call("GET", `/admin/api/users?${query}`), call("GET", "/admin/api/plans")]);
  if (!adminAnswered(users) || !adminAnswered(plans)) return;
  admin.plans = plans.data.items.map((plan) => plan.name);
  admin.usersCursor = users.data.nextCursor;
  const rows = users.data.items.map(userRow);
  const body = $("user-table").tBodies[0];
  if (more) body.append(...rows);
  else body.replaceChildren(...rows);
  $("user-more").hidden = admin.usersCursor === undefined;
  $("admin-status").textContent = `${count(users.data.total, "user")}${email === "" ? "" : ` matching “${email}”`}.`;
}

function choice(label, values, current, onChange) {
  const select = element("select", {});
  select.setAttribute("aria-label", label);
  select.append(...values.map((value) => element("option", { value, textContent: value })));
  select.value = current;
  select.addEventListener("change", () => void onChange(select));
  return select;
}

function userRow(user) {
  const row = element("tr", {});
  row.dataset.userId = user.id;
  const disabled = user.disabledAt !== null;
  const email = element("th", { scope: "row", textContent: user.email, className: "wrap" });
  const status = element("td", { textContent: disabled ? "Disabled" : "Active", className: disabled ? "spent" : "" });
  const patch = async (control, body, done) => {
    busy(control, true);
    const result = await call("PATCH", `/admin/api/users/${encodeURIComponent(user.id)}`, body);
    busy(control, false);
    if (!adminAnswered(result)) return;
    const changed = userRow(result.data);
    row.replaceWith(changed);
    $("admin-status").textContent = `${user.email}: ${done}.`;
    changed.querySelector(`[data-focus="${control.dataset.focus}"]`)?.focus();
  };
  const plan = choice(`Plan of ${user.email}`, admin.plans.includes(user.plan) ? admin.plans : [...admin.plans, user.plan], user.plan, (select) => patch(select, { plan: select.value }, `plan is now ${select.value}`));
  plan.dataset.focus = "plan";
  const role = choice(`Role of ${user.email}`, ["user", "admin"], user.role, (select) => patch(select, { role: select.value }, `role is now ${select.value}`));
  role.dataset.focus = "role";
  const toggle = element("button", { type: "button", textContent: disabled ? "Enable" : "Disable", className: disabled ? "quiet" : "quiet danger" });
  toggle.dataset.focus = "toggle";
  toggle.setAttribute("aria-label", `${disabled ? "Enable" : "Disable"} ${user.email}`);
  toggle.addEventListener("click", () => {
    if (!disabled && !confirm(`Disable ${user.email}? They are signed out and their keys stop working.`)) return;
    void patch(toggle, { disabled: !disabled }, disabled ? "enabled" : "disabled");
  });
  const limits = element("a", { href: `#/admin-limits?userId=${encodeURIComponent(user.id)}`, textContent: "Limits" });
  limits.setAttribute("aria-label", `Limits of ${user.email}`);
  const cell = (child) => {
    const td = element("td", {});
    td.append(child);
    return td;
  };
  const actions = element("td", {});
  actions.append(toggle, document.createTextNode(" "), limits);
  row.append(email, cell(plan), cell(role), status, actions);
  return row;
}

async function loadPlans() {
  $("admin-status").textContent = "Loading plans…";
  const result = await call("GET", "/admin/api/plans");
  if (!adminAnswered(result)) return;
  $("plan-list").replaceChildren(...result.data.items.map(planItem));
  $("admin-status").textContent = `${count(result.data.items.length, "plan")}.`;
}

function planItem(plan) {
  const item = element("li", { className: "card plan" });
  item.dataset.plan = plan.name;
  const head = element("div", { className: "key-head" });
  head.append(element("h2", { textContent: plan.name }), element("span", { className: "muted", textContent: plan.description }));
  const table = element("table", { className: "data" });
  table.append(element("caption", { className: "sr-only", textContent: `Limits of plan ${plan.name}` }));
  const headRow = element("tr", {});
  headRow.append(...["Limit", "Algorithm", "Limit", "Window", "Counted by"].map((text) => element("th", { scope: "col", textContent: text })));
  table.createTHead().append(headRow);
  const body = table.createTBody();
  for (const [name, limit] of Object.entries(plan.limits)) {
    const row = element("tr", {});
    row.append(element("th", { scope: "row", textContent: name, className: "mono" }),
      ...[limit.algorithm, limit.limit, limit.window ?? "—", (limit.by ?? ["consumer"]).join(", ")].map((value) => element("td", { textContent: String(value) })));
    body.append(row);
  }
  const edit = element("button", { type: "button", textContent: "Edit" });
  edit.setAttribute("aria-label", `Edit plan ${plan.name}`);
  edit.addEventListener("click", () => editPlan(plan));
  const wrap = element("div", { className: "table-wrap" });
  wrap.append(table);
  item.append(head, wrap, edit);
  return item;
}

function editPlan(plan) {
  const form = $("plan-form");
  showFieldErrors(form, {});
  $("plan-form-error").textContent = "";
  $("plan-form-title").textContent = plan === null ? "New plan" : `Edit plan ${plan.name}`;
  $("plan-name").value = plan?.name ?? "";
  $("plan-name").readOnly = plan !== null;
  $("plan-description").value = plan?.description ?? "";
  $("plan-limits").value = JSON.stringify(plan?.limits ?? {}, null, 2);
  if (plan !== null) $("plan-form-title").focus();
}

async function savePlan(event) {
  event.preventDefault();
  const form = $("plan-form");
  $("plan-form-error").textContent = "";
  const name = $("plan-name").value.trim();
  const errors = {};
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) errors["plan-name"] = "Use lower-case letters, digits and dashes.";
  let limits;
  try {
    limits = JSON.parse($("plan-limits").value || "{}");
  } catch (error) {
    errors["plan-limits"] = `This is not JSON: ${error.message}`;
  }
  showFieldErrors(form, errors);
  if (Object.keys(errors).length > 0) return;

  busy($("plan-submit"), true);
  const result = await call("PUT", `/admin/api/plans/${encodeURIComponent(name)}`, { description: $("plan-description").value, limits });
  busy($("plan-submit"), false);
  if (result.status === 400 && Array.isArray(result.data?.invalidParams)) {
    const fields = {};
    for (const param of result.data.invalidParams) {
      const field = param.name.startsWith("limits") ? "plan-limits" : param.name === "description" ? "plan-description" : "plan-name";
      fields[field] = [fields[field], `${param.name}: ${param.reason}`].filter(Boolean).join("; ");
    }
    return showFieldErrors(form, fields);
  }
  if (!adminAnswered(result)) return;
  editPlan(null);
  await loadPlans();
  $("admin-status").textContent = `Saved plan ${name}; its users meet the new limits on their next request.`;
}

async function loadServices() {
  $("admin-status").textContent = "Checking the upstreams…";
  const result = await call("GET", "/admin/api/services");
  if (!adminAnswered(result)) return;
  $("service-list").replaceChildren(...result.data.items.map((service) => {
    const item = element("li", { className: "card service" });
    item.dataset.service = service.name;
    const head = element("div", { className: "key-head" });
    const healthy = service.health === "reachable";
    head.append(element("h2", { textContent: service.name }), element("span", { className: `badge${healthy ? " badge-live" : " badge-down"}`, textContent: healthy ? "Upstream answers" : "Upstream unreachable" }));
    const facts = element("dl", { className: "facts" });
    facts.append(element("dt", { textContent: "Upstream" }), element("dd", { textContent: service.upstream, className: "mono" }),
      element("dt", { textContent: "Timeout" }), element("dd", { textContent: `${service.timeoutMs / 1000} s` }));
    for (const route of service.routes) {
      facts.append(element("dt", { textContent: `${route.methods === null ? "Any" : route.methods.join(", ")} ${route.path}` }),
        element("dd", { textContent: route.limits.length === 0 ? "No limits" : `Limits: ${route.limits.join(", ")}${route.cost === 1 ? "" : ` (costs ${route.cost})`}` }));
    }
    item.append(head, facts);
    return item;
  }));
  $("admin-status").textContent = `Checked at ${timeFormat.format(new Date())}.`;
}

async function inspect(event) {
  event?.preventDefault();
  const kind = $("inspect-kind").value;
  const value = $("inspect-value").value.trim();
  $("inspect-error").textContent = "";
  if (value === "") return showFieldErrors($("inspect-form"), { "inspect-value": "Enter an address or an id." });
  showFieldErrors($("inspect-form"), {});
  window.history.replaceState(null, "", `#/admin-limits?${new window.URLSearchParams({ [kind]: value })}`);
  busy($("inspect-submit"), true);
  const result = await call("GET", `/admin/api/limits?${new window.URLSearchParams({ [kind]: value })}`);
  busy($("inspect-submit"), false);
  if (result.status === 400 || result.status === 404) {
    const reason = result.data?.invalidParams?.[0]?.reason;
    showFieldErrors($("inspect-form"), { "inspect-value": reason ? sentence(reason) : problemText(result) });
    return;
  }
  if (!adminAnswered(result)) return;
  showInspection(result.data, { kind, value });
}

function showInspection(inspection, subject) {
  $("inspect-subject").textContent = `Limits of ${inspection.subject.label}`;
  renderLimits($("inspect-table"), inspection.limits, async (limit, button) => {
    busy(button, true);
    const result = await call("POST", "/admin/api/limits/reset", { [subject.kind]: subject.value, counter: limit.counter });
    busy(button, false);
    if (!adminAnswered(result)) return;
    showInspection(result.data, subject);
    $("admin-status").textContent = `Reset ${limit.name}: it is whole again.`;
    $("inspect-subject").focus();
  });
}

// ---------------------------------------------------------------------------------------------
// Start

async function start() {
  $("auth-form").addEventListener("submit", (event) => void submitAuth(event));
  $("logout").addEventListener("click", () => void logOut());
  $("random-button").addEventListener("click", () => void getRandomNumber());
  for (const button of document.querySelectorAll("[data-path]")) button.addEventListener("click", (event) => void tryService(event));
  $("key-form").addEventListener("submit", (event) => void createKey(event));
  $("copy-key").addEventListener("click", () => void copyKey());
  $("dismiss-key").addEventListener("click", () => {
    hideNewKey();
    $("keys-title").focus();
  });
  $("usage-subject").addEventListener("change", () => void loadUsage());
  let resizing = 0;
  window.addEventListener("resize", () => {
    window.cancelAnimationFrame(resizing);
    resizing = window.requestAnimationFrame(drawCharts);
  });
  $("usage-refresh").addEventListener("click", () => void loadUsage());
  $("password-form").addEventListener("submit", (event) => void changePassword(event));
  $("user-search").addEventListener("submit", (event) => {
    event.preventDefault();
    void loadUsers(false);
  });
  $("user-more").addEventListener("click", () => void loadUsers(true));
  $("plan-form").addEventListener("submit", (event) => void savePlan(event));
  $("plan-cancel").addEventListener("click", () => editPlan(null));
  $("services-refresh").addEventListener("click", () => void loadServices());
  $("inspect-form").addEventListener("submit", (event) => void inspect(event));
  window.addEventListener("hashchange", () => showView({ focus: true }));

  const me = await call("GET", "/auth/me");
  setUser(me.status === 200 ? me.data.user : null);
  if (state.user !== null) await loadServiceNames();
  $("loading").hidden = true;
  showView({ focus: false });
  document.body.dataset.ready = "true";
}

void start();
