/*
 * Admin: plans (#/admin-plans): every plan with its limits as a table, and one form that makes a
 * plan or edits one (limits as JSON, as in the config file); the server's objections are shown
 * on the field they concern.
 */
import { call } from "../shared/api.js";
import { $, busy, element, showFieldErrors } from "../shared/dom.js";
import { count } from "../shared/format.js";
import { adminAnswered } from "./admin.js";

export function wireAdminPlans() {
  $("plan-form").addEventListener("submit", (event) => void savePlan(event));
  $("plan-cancel").addEventListener("click", () => editPlan(null));
}

export async function loadPlans() {
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

/** Fills the form with `plan` to edit it, or empties it (null) for a new one. */
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
