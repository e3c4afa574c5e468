/*
 * Admin: users (#/admin-users): find users by email, fifty at a time; change a user's plan or
 * role, disable or enable them (after a confirmation: they are signed out and their keys stop),
 * and a link to their limits in the inspector.
 */
/* global document, window, confirm */
import { call } from "../shared/api.js";
import { $, busy, element } from "../shared/dom.js";
import { count } from "../shared/format.js";
import { adminAnswered } from "./admin.js";

/** The plans a user can be moved to, and where the next page of users starts. */
const listing = { plans: [], usersCursor: undefined };

export function wireAdminUsers() {
  $("user-search").addEventListener("submit", (event) => {
    event.preventDefault();
    void loadUsers(false);
  });
  $("user-more").addEventListener("click", () => void loadUsers(true));
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
  const plan = choice(`Plan of ${user.email}`, listing.plans.includes(user.plan) ? listing.plans : [...listing.plans, user.plan], user.plan, (select) => patch(select, { plan: select.value }, `plan is now ${select.value}`));
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
