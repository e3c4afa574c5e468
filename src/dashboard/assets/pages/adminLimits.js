/*
 * Admin: limit inspector (#/admin-limits?ip=… | keyId=… | userId=…): any address's, key's or
 * user's limits as they stand (a key by its id or by the start the pages show, `sk_AbC123…`), read without spending anything, with a Reset per limit. The
 * subject goes into the hash, so an inspection can be linked to (the users panel does).
 */
/* global window */
import { call, problemText } from "../shared/api.js";
import { $, busy, showFieldErrors } from "../shared/dom.js";
import { sentence } from "../shared/format.js";
import { renderLimits } from "../shared/limitTable.js";
import { adminAnswered } from "./admin.js";

export function wireAdminLimits() {
  $("inspect-form").addEventListener("submit", (event) => void inspect(event));
}

/** Inspects the subject the hash's query names, if it names one. */
export function inspectFromParams(params) {
  for (const kind of ["ip", "keyId", "userId"]) {
    if (params.has(kind)) {
      $("inspect-kind").value = kind;
      $("inspect-value").value = params.get(kind);
      void inspect();
    }
  }
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
    // The previous subject's limits must not stay on screen under an error about this one.
    $("inspect-subject").textContent = "";
    $("inspect-table").tBodies[0].replaceChildren();
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
