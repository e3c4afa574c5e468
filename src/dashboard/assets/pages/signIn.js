/*
 * The signed-out views: the welcome page (#/, what Sluice is, sign-up first), one form that signs
 * in or signs up (#/login, #/signup) with errors on the field they concern, and the password reset
 * an admin's one-time link opens (#/reset?token=…); and the ways back to them: logging out, and a
 * session that ended elsewhere (sessionEnded, which every page calls on a 401), each saying why.
 */
import { call, problemText, retryAfterSeconds } from "../shared/api.js";
import { $, busy, showFieldErrors } from "../shared/dom.js";
import { formatWait, sentence } from "../shared/format.js";
import { navigate } from "../shared/router.js";
import { loadServiceNames, setUser } from "../shared/session.js";

/** "login" or "signup": what the form does. */
let authMode = "login";

export function wireSignIn() {
  $("auth-form").addEventListener("submit", (event) => void submitAuth(event));
  $("logout").addEventListener("click", () => void logOut());
  $("reset-form").addEventListener("submit", (event) => void submitReset(event));
}

/** The reset form, with the token of the link that opened it. */
export function showReset(params) {
  $("reset-token").value = params.get("token") ?? "";
  $("reset-error").textContent = "";
  showFieldErrors($("reset-form"), {});
}

async function submitReset(event) {
  event.preventDefault();
  const form = $("reset-form");
  const token = $("reset-token").value.trim();
  const newPassword = $("reset-password").value;
  $("reset-error").textContent = "";
  const errors = {};
  if (token === "") errors["reset-token"] = "Paste the code from the reset link.";
  if ([...newPassword].length < 8) errors["reset-password"] = newPassword === "" ? "Enter a new password." : "Use at least 8 characters.";
  showFieldErrors(form, errors);
  if (Object.keys(errors).length > 0) return;
  busy($("reset-submit"), true);
  const result = await call("POST", "/auth/reset", { token, newPassword });
  busy($("reset-submit"), false);
  if (result.ok) {
    form.reset();
    return signedIn(result.data.user);
  }
  const fields = fieldErrors(result, { newPassword: ["reset-password", sentence], token: ["reset-token", sentence] });
  if (fields !== undefined) return showFieldErrors(form, fields);
  $("reset-error").textContent = result.status === 429 ? `Too many tries. Try again in ${formatWait(retryAfterSeconds(result.headers))}.` : problemText(result);
}

/** Signed in (by the form, or by a reset link): the playground, with the services to try. */
async function signedIn(user) {
  setUser(user);
  await loadServiceNames();
  navigate("playground");
}

/**
 * A 400's `invalidParams` as errors on the form's fields: `fieldOf` maps a parameter's name to
 * its field's id and how its reason reads there. Undefined when none of them concerns a field.
 */
function fieldErrors(result, fieldOf) {
  if (result.status !== 400 || !Array.isArray(result.data?.invalidParams)) return undefined;
  const fields = {};
  for (const param of result.data.invalidParams) {
    if (!Object.hasOwn(fieldOf, param.name)) continue;
    const [id, reads] = fieldOf[param.name];
    fields[id] = reads(param.reason);
  }
  return Object.keys(fields).length > 0 ? fields : undefined;
}

/** The session is gone (expired, signed out elsewhere): back to the sign-in form, saying why. */
export function sessionEnded() {
  setUser(null);
  notice("Your session has ended. Log in again.");
  navigate("login");
}

function notice(text) {
  const element = $("auth-notice");
  element.textContent = text;
  element.hidden = text === "";
}

/** Turns the form into the sign-in ("login") or the sign-up ("signup") form. */
export function setAuthMode(mode) {
  authMode = mode;
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
  $("forgot").hidden = signup;
  $("auth-error").textContent = "";
  showFieldErrors($("auth-form"), {});
}

async function submitAuth(event) {
  event.preventDefault();
  const form = $("auth-form");
  const signup = authMode === "signup";
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
    return signedIn(result.data.user);
  }
  const fields = fieldErrors(result, { email: ["email", (reason) => `This is ${reason}.`], password: ["password", sentence] });
  if (fields !== undefined) return showFieldErrors(form, fields);
  if (result.status === 409) return showFieldErrors(form, { email: "An account with this email exists already. Log in instead." });
  const wait = formatWait(retryAfterSeconds(result.headers));
  $("auth-error").textContent =
    result.status === 401 ? "The email and password do not match an account. Check them and try again."
    : result.data?.code === "SLUICE_ERR_ACCOUNT_DISABLED" ? "Your account is disabled. Ask an admin to enable it."
    : result.status === 429 && signup ? `Too many sign-ups from your address. Try again in ${wait}.`
    : result.status === 429 ? `Too many failed attempts. Try again in ${wait}.`
    : result.status === 503 ? "Sluice is busy. Try again in a moment."
    : result.status === 403 ? "Open this page from Sluice's own address to sign in."
    : problemText(result);
}

async function logOut() {
  await call("POST", "/auth/logout");
  setUser(null);
  notice("You have logged out.");
  navigate("login");
}
