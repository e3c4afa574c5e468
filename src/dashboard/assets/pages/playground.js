/*
 * The playground (#/playground): calls the gateway's demo services as the signed-in user (the
 * session cookie stands in for an API key), shows what is left of the binding limit from the
 * RateLimit headers, and once the random-number service says 429, counts Retry-After down.
 * Buttons for services this gateway does not have are hidden.
 */
/* global document, setInterval, clearInterval */
import { call, problemText, retryAfterSeconds } from "../shared/api.js";
import { $, busy } from "../shared/dom.js";
import { describeRateLimit, readRateLimit } from "../shared/rateLimitHeaders.js";
import { onServicesChange, onSignOut } from "../shared/session.js";
import { sessionEnded } from "./signIn.js";

/** When the random-number limit lets calls through again (ms since the epoch), or 0. */
let limitedUntil = 0;
let countdownTimer = 0;

export function wirePlayground() {
  $("random-button").addEventListener("click", () => void getRandomNumber());
  for (const button of document.querySelectorAll("[data-path]")) button.addEventListener("click", (event) => void tryService(event));
  onSignOut(stopCountdown);
  onServicesChange(fitPlayground);
}

async function getRandomNumber() {
  const button = $("random-button");
  // While the countdown runs the button stays focusable (aria-disabled) but does nothing.
  if (limitedUntil > Date.now() || button.getAttribute("aria-busy") === "true") return;
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
  limitedUntil = Date.now() + seconds * 1000;
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
  $("announcer").textContent = "You can get random numbers again.";
}

function stopCountdown() {
  clearInterval(countdownTimer);
  limitedUntil = 0;
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

/** Hides the playground's buttons for services this gateway does not have. */
function fitPlayground(services) {
  const has = (name) => services.includes(name);
  $("random-card").hidden = !has("random");
  for (const button of document.querySelectorAll("[data-service]")) button.hidden = !has(button.dataset.service);
  $("services-card").hidden = !has("users") && !has("recommend");
}
