/*
 * The dashboard's script (served as-is to the browser by src/dashboard/dashboard.ts; no build).
 * One page, three views chosen by the URL's hash: sign-in/sign-up (#/login, #/signup), the
 * playground (#/playground) and API keys (#/keys). It only calls this origin: the JSON API under
 * /auth and /account (every change a same-origin fetch with a JSON body, which the server's
 * Origin check and JSON-only parsing protect from cross-site requests), and the gateway's /api/*
 * with the session cookie. Text from the server is set with textContent, never parsed as HTML.
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
};

/** Shows the view the hash names, or the right default for a signed-in or signed-out visitor. */
function showView({ focus }) {
  const wanted = window.location.hash.replace(/^#\/?/, "");
  let name = Object.hasOwn(VIEWS, wanted) ? wanted : "";
  if (name === "" || VIEWS[name].signedIn !== (state.user !== null)) name = state.user === null ? "login" : "playground";
  if (wanted !== name) window.history.replaceState(null, "", `#/${name}`);

  const view = VIEWS[name];
  for (const section of document.querySelectorAll("main > section")) section.hidden = section.id !== view.section;
  for (const link of document.querySelectorAll("[data-page-link]")) {
    if (link.dataset.pageLink === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${view.title} · Sluice`;
  if (view.section === "page-auth") setAuthMode(name);
  if (name === "keys") void loadKeys();
  if (focus) $(view.section).querySelector("h1").focus();
}

function navigate(name) {
  if (window.location.hash === `#/${name}`) showView({ focus: true });
  else window.location.hash = `#/${name}`;
}

function setUser(user) {
  state.user = user;
  for (const element of document.querySelectorAll(".signed-in")) element.hidden = user === null;
  $("who-email").textContent = user === null ? "" : user.email;
  if (user === null) {
    stopCountdown();
    hideNewKey();
    $("key-list").replaceChildren();
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
  for (const input of form.querySelectorAll("input, select, fieldset")) {
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
    : result.status === 429 ? `Too many failed attempts. Try again in ${retryAfterSeconds(result.headers)} s.`
    : result.status === 503 ? "Sluice is busy. Try again in a moment."
    : result.status === 403 ? "Open this page from Sluice's own address to sign in."
    : problemText(result);
}

const sentence = (text) => String(text).charAt(0).toUpperCase() + String(text).slice(1) + (/[.!?]$/.test(text) ? "" : ".");

async function logOut() {
  await call("POST", "/auth/logout", {});
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
  item.append(head, facts);
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

async function rotateKey(key, button) {
  if (!confirm(`Rotate the key “${key.name}”? You get a new key; the old one keeps working for an hour.`)) return;
  busy(button, true);
  const result = await call("POST", `/account/api/keys/${encodeURIComponent(key.id)}/rotate`, {});
  if (result.status === 401) return sessionEnded();
  if (result.status !== 201) {
    busy(button, false);
    $("keys-status").textContent = problemText(result);
    return;
  }
  showNewKey(result.data.key, `It replaces “${key.name}” (${key.start}…), which keeps working until ${formatDate(result.data.replaced.expiresAt)}.`);
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
  window.addEventListener("hashchange", () => showView({ focus: true }));

  const [me, services] = await Promise.all([call("GET", "/auth/me"), call("GET", "/dashboard/services.json")]);
  state.services = services.data?.services ?? [];
  renderScopes();
  fitPlayground();
  setUser(me.status === 200 ? me.data.user : null);
  $("loading").hidden = true;
  showView({ focus: false });
  document.body.dataset.ready = "true";
}

void start();
