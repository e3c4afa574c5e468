/*
 * Account (#/account): the signed-in user's email, plan and role, and the password change
 * (which signs out every other session; a wrong current password is said on its field).
 */
import { call, problemText, retryAfterSeconds } from "../shared/api.js";
import { $, busy, showFieldErrors } from "../shared/dom.js";
import { formatWait, sentence } from "../shared/format.js";
import { session } from "../shared/session.js";
import { sessionEnded } from "./signIn.js";

export function wireAccount() {
  $("password-form").addEventListener("submit", (event) => void changePassword(event));
}

export function showAccount() {
  $("account-email").textContent = session.user.email;
  $("account-plan").textContent = session.user.plan;
  $("account-role").textContent = session.user.role;
  $("password-username").value = session.user.email;
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
  else if (newPassword === currentPassword) errors["new-password"] = "This is your current password. Choose a new one.";
  showFieldErrors(form, errors);
  if (Object.keys(errors).length > 0) return;

  busy($("password-submit"), true);
  const result = await call("POST", "/auth/password", { currentPassword, newPassword });
  busy($("password-submit"), false);
  if (result.status === 204) {
    form.reset();
    $("password-username").value = session.user.email;
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
  $("password-form-error").textContent = result.status === 429 ? `Too many wrong passwords. Try again in ${formatWait(retryAfterSeconds(result.headers))}.` : problemText(result);
}
