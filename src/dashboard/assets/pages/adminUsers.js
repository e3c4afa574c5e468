/*
 * Admin: users (#/admin-users): find users by email, fifty at a time; change a user's plan or
 * role (each after a confirmation; cancelling puts the choice back), disable or enable them (after
 * a confirmation: they are signed out and their keys stop), a link to their limits in the
 * inspector, their API keys (listed, each revocable and inspectable), and a one-time link to set
 * a new password for someone who forgot theirs (Sluice sends no email: the admin passes it on).
 */
/* global window, confirm */
import { call } from "../shared/api.js";
import { confirmChange } from "../shared/confirm.js";
import { $, busy, element } from "../shared/dom.js";
import { count, formatDate } from "../shared/format.js";
import { labelCells } from "../shared/limitTable.js";
import { adminAnswered } from "./admin.js";

/** The plans a user can be moved to, and where the next page of users starts. */
const listing = { plans: [], usersCursor: undefined };

export function wireAdminUsers() {
  $("user-search").addEventListener("submit", (event) => {
    event.preventDefault();
    void loadUsers(false);
  });
  $("user-more").addEventListener("click", () => void loadUsers(true));
  $("user-keys-close").addEventListener("click", () => {
    $("user-keys").hidden = true;
    $("user-search-email").focus();
  });
}

/** The first fifty users matching the search, or (`more`) the next fifty below them. */
export async function loadUsers(more) {
  const query = new window.URLSearchParams({ limit: "50" });
  const email = $("user-search-email").value.trim();
  if (email !== "") query.set("email", email);
  if (more && listing.usersCursor) query.set("cursor", listing.usersCursor);
  $("admin-status").textContent = "Loading users…";
  const [users, plans] = await Promise.all([call("GET", `/admin/api/users?${query}`), call("GET", "/admin/api/plans")]);
  if (!adminAnswered(users) || !adminAnswered(plans)) return;
  listing.plans = plans.data.items.map((plan) => plan.name);
  listing.usersCursor = users.data.nextCursor;
  const rows = users.data.items.map(userRow);
  const body = $("user-table").tBodies[0];
  if (more) body.append(...rows);
  else body.replaceChildren(...rows);
  $("user-more").hidden = listing.usersCursor === undefined;
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
  /** A dropdown's change, once confirmed; cancelled, the dropdown shows what is stored again. */
  const confirmed = async (select, current, what, body) => {
    const yes = await confirmChange(`Change the ${what} of ${user.email} from ${current} to ${select.value}? It takes effect on their next request.`, `Make it ${select.value}`);
    if (!yes) {
      select.value = current;
      select.focus();
      return;
    }
    await patch(select, body, `${what} is now ${select.value}`);
  };
  const plan = choice(`Plan of ${user.email}`, listing.plans.includes(user.plan) ? listing.plans : [...listing.plans, user.plan], user.plan, (select) => confirmed(select, user.plan, "plan", { plan: select.value }));
  plan.dataset.focus = "plan";
  const role = choice(`Role of ${user.email}`, ["user", "admin"], user.role, (select) => confirmed(select, user.role, "role", { role: select.value }));
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
  const keys = element("button", { type: "button", textContent: "Keys", className: "quiet" });
  keys.setAttribute("aria-label", `Keys of ${user.email}`);
  keys.addEventListener("click", () => void showUserKeys(user));
  const reset = element("button", { type: "button", textContent: "Reset password", className: "quiet" });
  reset.setAttribute("aria-label", `Reset password of ${user.email}`);
  reset.addEventListener("click", () => void resetPassword(user, reset));
  const actions = element("td", { className: "actions" });
  actions.append(toggle, keys, reset, limits);
  row.append(email, cell(plan), cell(role), status, actions);
  return labelCells($("user-table"), row);
}

/** The user's keys, newest first, revoked ones included, each with Revoke and Limits. */
async function showUserKeys(user) {
  const panel = $("user-keys");
  panel.hidden = false;
  $("user-reset").hidden = true;
  $("user-keys-wrap").hidden = false;
  $("user-keys-title").textContent = `Keys of ${user.email}`;
  $("user-keys-status").textContent = "Loading keys…";
  const result = await call("GET", `/admin/api/keys?${new window.URLSearchParams({ userId: user.id, includeRevoked: "true", limit: "100" })}`);
  if (!adminAnswered(result)) return;
  const now = Date.now();
  const table = $("user-keys-table");
  table.tBodies[0].replaceChildren(...result.data.items.map((key) => {
    const row = element("tr", {});
    row.dataset.keyId = key.id;
    const expired = key.expiresAt !== null && Date.parse(key.expiresAt) <= now;
    const state = key.revokedAt !== null ? "Revoked" : expired ? "Expired" : key.replacedBy !== null ? `Rotated: works until ${formatDate(key.expiresAt)}` : "Active";
    const actions = element("td", { className: "actions" });
    if (key.revokedAt === null && !expired) {
      const revoke = element("button", { type: "button", textContent: "Revoke", className: "quiet danger" });
      revoke.setAttribute("aria-label", `Revoke key ${key.name} (${key.start}…)`);
      revoke.addEventListener("click", async () => {
        if (!confirm(`Revoke the key “${key.name}” (${key.start}…) of ${user.email}? Programs using it stop working at once.`)) return;
        busy(revoke, true);
        const revoked = await call("POST", `/admin/api/keys/${encodeURIComponent(key.id)}/revoke`);
        if (!adminAnswered(revoked)) return busy(revoke, false);
        await showUserKeys(user);
        $("user-keys-status").textContent = `Revoked “${key.name}” (${key.start}…).`;
        $("user-keys-title").focus();
      });
      actions.append(revoke);
    }
    const limits = element("a", { href: `#/admin-limits?keyId=${encodeURIComponent(key.id)}`, textContent: "Limits" });
    limits.setAttribute("aria-label", `Limits of key ${key.name} (${key.start}…)`);
    actions.append(limits);
    row.append(element("th", { scope: "row", textContent: key.name, className: "wrap" }), element("td", { textContent: `${key.start}…`, className: "mono" }),
      element("td", { textContent: state, className: state === "Active" ? "" : "muted" }), element("td", { textContent: formatDate(key.lastUsedAt) }), actions);
    return labelCells(table, row);
  }));
  $("user-keys-status").textContent = result.data.items.length === 0 ? `${user.email} has no keys.` : `${count(result.data.items.length, "key")}.`;
  $("user-keys-title").focus();
}

/** A one-time link that lets the user set a new password; shown to the admin to pass on. */
async function resetPassword(user, button) {
  if (!confirm(`Make a one-time link for ${user.email} to set a new password? Their current password keeps working until they use it.`)) return;
  busy(button, true);
  const result = await call("POST", `/admin/api/users/${encodeURIComponent(user.id)}/password-reset`);
  busy(button, false);
  if (!adminAnswered(result)) return;
  $("user-keys").hidden = false;
  $("user-keys-title").textContent = `Password reset for ${user.email}`;
  $("user-keys-wrap").hidden = true;
  $("user-keys-status").textContent = "";
  $("user-reset").hidden = false;
  $("user-reset-valid").textContent = `until ${formatDate(result.data.expiresAt)}`;
  $("user-reset-link").textContent = `${window.location.origin}/#/reset?token=${encodeURIComponent(result.data.token)}`;
  $("user-keys-title").focus();

}
