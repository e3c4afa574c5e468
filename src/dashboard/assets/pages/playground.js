/*
 * The playground (#/playground): calls the gateway's services as the signed-in user (the session
 * cookie stands in for an API key). Before the first call it shows the random-number limit read
 * from the server (nothing spent); after each call, what is left of the binding limit from the
 * RateLimit headers. Once the random-number service says 429, it counts Retry-After down (the one
 * wait it shows), and the countdown outlives a reload. The demo buttons show for the demo services
 * this gateway has; "Any service" calls any of its services by path.
 */
/* global document, window, setInterval, clearInterval, setTimeout, clearTimeout */
import { call, problemText, retryAfterSeconds } from "../shared/api.js";
import { $, busy, element } from "../shared/dom.js";
import { describeLimit } from "../shared/limitTable.js";
import { describeRateLimit, readRateLimit } from "../shared/rateLimitHeaders.js";
import { onServicesChange, onSignOut } from "../shared/session.js";
import { sessionEnded } from "./signIn.js";

/** Where the countdown's end is kept across a reload (this tab only). */
const LIMITED_UNTIL = "sluice.playground.limitedUntil";

/** When the random-number limit lets calls through again (ms since the epoch), or 0. */
let limitedUntil = 0;
let countdownTimer = 0;
/** Clears the "left" line once the window it speaks of has reset, so it never goes stale. */
let staleTimer = 0;

export function wirePlayground() {
  $("random-button").addEventListener("click", () => void getRandomNumber());
  for (const button of document.querySelectorAll("[data-path]")) button.addEventListener("click", (event) => void tryService(event));
  $("builder").addEventListener("submit", (event) => void sendBuilt(event));
  $("builder-service").addEventListener("change", () => fitBuilder(true));
  $("builder-path").addEventListener("input", () => fitBuilder(false));
  onSignOut(() => {
    stopCountdown();
    window.sessionStorage.removeItem(LIMITED_UNTIL);
  });
  onServicesChange(fitPlayground);
}

/** The playground as shown: the limit before any call, and a countdown a reload interrupted. */
export async function showPlayground() {
  const until = Number(window.sessionStorage.getItem(LIMITED_UNTIL) ?? 0);
  if (until > Date.now()) startCountdown(Math.ceil((until - Date.now()) / 1000));
  if ($("random-left").textContent !== "" || $("random-card").hidden) return;
  const result = await call("GET", "/account/api/usage/session");
  if (!result.ok) return;
  const applies = result.data.limits.filter((l) => l.source !== "sign-in" && l.source !== "sign-up" && (l.services.length === 0 || l.services.includes("random")));
  const binding = applies.reduce((low, l) => (low === null || l.remaining < low.remaining ? l : low), null);
  $("random-before").textContent = binding === null ? "" : `You have ${binding.remaining} of ${binding.limit} calls left now (limit “${binding.name}”: ${describeLimit(binding)}).`;
}

async function getRandomNumber() {
  const button = $("random-button");
  // While the countdown runs the button stays focusable (aria-disabled) but does nothing.
  if (limitedUntil > Date.now() || button.getAttribute("aria-busy") === "true") return;
  button.setAttribute("aria-busy", "true");
  const result = await call("GET", "/api/random/number");
  button.setAttribute("aria-busy", "false");
  $("random-error").textContent = "";
  $("random-before").textContent = "";
  const limit = readRateLimit(result.headers);
  // On a 429 the countdown is the one wait shown: the header's reset may differ from Retry-After.
  showLeft($("random-left"), result.status === 429 ? "" : describeRateLimit(limit), limit?.resetSeconds);
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

/** Shows `text` on a "left" line until the window it describes resets. */
function showLeft(line, text, resetSeconds) {
  clearTimeout(staleTimer);
  line.textContent = text;
  if (text !== "" && resetSeconds !== undefined) {
    staleTimer = setTimeout(() => { line.textContent = "The window has reset: every call is available again."; }, resetSeconds * 1000);
  }
}

function startCountdown(seconds) {
  stopCountdown();
  limitedUntil = Date.now() + seconds * 1000;
  window.sessionStorage.setItem(LIMITED_UNTIL, String(limitedUntil));
  $("random-button").setAttribute("aria-disabled", "true");
  $("rate-limited").hidden = false;
  // Screen readers hear it once, not every second.
  $("announcer").textContent = `Rate limited. Try again in ${seconds} seconds.`;
  tick();
  countdownTimer = setInterval(tick, 250);
}

function tick() {
  const left = Math.ceil((limitedUntil - Date.now()) / 1000);
  if (left > 0) {
    $("countdown").textContent = String(left);
    return;
  }
  stopCountdown();
  window.sessionStorage.removeItem(LIMITED_UNTIL);
  $("announcer").textContent = "You can get random numbers again.";
}

function stopCountdown() {
  clearInterval(countdownTimer);
  limitedUntil = 0;
  $("random-button").removeAttribute("aria-disabled");
  $("rate-limited").hidden = true;
}

/** What a call answered, in one line: the status, what is left, and on a 429 the one wait. */
function outcome(path, result) {
  const waited = result.status === 429 ? ` Rate limited: try again in ${retryAfterSeconds(result.headers)} s.` : ` ${describeRateLimit(readRateLimit(result.headers))}`;
  return `GET ${path} → ${result.status || "no answer"}.${waited}`;
}

async function tryService(event) {
  const button = event.currentTarget;
  busy(button, true);
  const result = await call("GET", button.dataset.path);
  busy(button, false);
  if (result.status === 401 && (await call("GET", "/auth/me")).status === 401) return sessionEnded();
  showLeft($("service-status"), outcome(button.dataset.path, result), result.status === 429 ? undefined : readRateLimit(result.headers)?.resetSeconds);
  $("service-result").textContent = result.data === null ? "" : JSON.stringify(result.data, null, 2);
}

/** The request builder's URL, from its service and path. */
function builtPath() {
  const path = $("builder-path").value.trim().replace(/^\/+/, "");
  return `/api/${encodeURIComponent($("builder-service").value)}/${path}`;
}

function fitBuilder(serviceChanged) {
  if (serviceChanged) {
    const demo = { random: "number", users: "users/101", recommend: "recommend/101" }[$("builder-service").value];
    $("builder-path").value = demo ?? "";
  }
  $("builder-url").textContent = `GET ${window.location.origin}${builtPath()}`;
}

async function sendBuilt(event) {
  event.preventDefault();
  const path = builtPath();
  busy($("builder-send"), true);
  const result = await call("GET", path);
  busy($("builder-send"), false);
  if (result.status === 401 && (await call("GET", "/auth/me")).status === 401) return sessionEnded();
  showLeft($("builder-status"), outcome(path, result), result.status === 429 ? undefined : readRateLimit(result.headers)?.resetSeconds);
  $("builder-result").textContent = result.data === null ? "" : JSON.stringify(result.data, null, 2);
}

/** Hides the demo buttons for services this gateway does not have; the builder offers every one. */
function fitPlayground(services) {
  const has = (name) => services.includes(name);
  $("random-card").hidden = !has("random");
  for (const button of document.querySelectorAll("[data-service]")) button.hidden = !has(button.dataset.service);
  $("services-card").hidden = !has("users") && !has("recommend");
  $("builder").hidden = services.length === 0;
  $("builder-service").replaceChildren(...services.map((name) => element("option", { value: name, textContent: name })));
  if (services.length > 0) fitBuilder(true);
}
