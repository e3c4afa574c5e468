/*
 * Admin: plans (#/admin-plans): every plan with its limits as a table, and one form that makes a
 * plan or edits one: a row per limit (name, requests, window, what it counts by, how it counts),
 * added and removed with buttons; fields the form has no control for (burst, capacity, …) are
 * kept as they were. The description follows the limits while it is the one they would give
 * (so it cannot say 5 while the limit is 8), until the admin writes their own. The server's
 * objections are shown on the field they concern.
 */
import { call } from "../shared/api.js";
import { $, busy, element, showFieldErrors } from "../shared/dom.js";
import { count } from "../shared/format.js";
import { adminAnswered } from "./admin.js";

/** How a limit counts, in words; the values are the config's. */
const ALGORITHMS = [
  ["sliding-window-log", "Sliding window, exact"],
  ["sliding-window-counter", "Sliding window, approximate"],
  ["fixed-window", "Fixed window"],
  ["gcra", "Evenly spaced (GCRA)"],
  ["token-bucket", "Token bucket"],
  ["concurrency", "At once (concurrency)"],
];
/** What a limit counts by, in words: one counter per … */
const COUNTED_BY = [["consumer", "Each user"], ["ip", "Each client address"], ["global", "Everyone together"]];

let rowSeq = 0;

export function wireAdminPlans() {
  $("plan-form").addEventListener("submit", (event) => void savePlan(event));
  $("plan-cancel").addEventListener("click", () => editPlan(null));
  $("plan-add-limit").addEventListener("click", () => {
    const row = limitRow("", { algorithm: "sliding-window-log", limit: 10, window: "1m", by: ["consumer"] });
    $("plan-limit-rows").append(row);
    row.querySelector("input").focus();
    followLimits();
  });
  $("plan-name").addEventListener("input", followLimits);
  $("plan-description").addEventListener("input", () => {
    $("plan-description").dataset.auto = String($("plan-description").value === describePlan($("plan-name").value, readLimits()));
  });
  editPlan(null);
}

export async function loadPlans() {
  $("admin-status").textContent = "Loading plans…";
  const result = await call("GET", "/admin/api/plans");
  if (!adminAnswered(result)) return;
  $("plan-list").replaceChildren(...result.data.items.map(planItem));
  $("admin-status").textContent = `${count(result.data.items.length, "plan")}.`;
}

/** "5 requests per 30 s" from a window as written ("30s", "1m"). */
function windowWords(window) {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(window ?? "");
  if (match === null) return window ?? "";
  return `${match[1]} ${{ ms: "ms", s: "s", m: "min", h: "h", d: "d" }[match[2]]}`;
}

/** The description the limits give: "Free: 5 requests per 30 s". */
function describePlan(name, limits) {
  const parts = Object.values(limits).map((l) => `${l.limit} ${l.limit === 1 ? "request" : "requests"}${l.window ? ` per ${windowWords(l.window)}` : " at once"}`);
  const title = name.charAt(0).toUpperCase() + name.slice(1);
  return parts.length === 0 ? title : `${title}: ${parts.join(", ")}`;
}

function planItem(plan) {
  const item = element("li", { className: "card plan" });
  item.dataset.plan = plan.name;
  const head = element("div", { className: "key-head" });
  head.append(element("h2", { textContent: plan.name }), element("span", { className: "muted", textContent: plan.description }));
  const table = element("table", { className: "data stack" });
  table.append(element("caption", { className: "sr-only", textContent: `Limits of plan ${plan.name}` }));
  const headings = ["Limit", "Requests", "Window", "Counted for", "Counts by"];
  const headRow = element("tr", {});
  headRow.append(...headings.map((text) => element("th", { scope: "col", textContent: text })));
  table.createTHead().append(headRow);
  const body = table.createTBody();
  for (const [name, limit] of Object.entries(plan.limits)) {
    const row = element("tr", {});
    const by = (limit.by ?? ["consumer"]).map((part) => COUNTED_BY.find(([value]) => value === part)?.[1] ?? part).join(", ");
    const algorithm = ALGORITHMS.find(([value]) => value === (limit.algorithm ?? "gcra"))?.[1] ?? limit.algorithm;
    const cells = [element("th", { scope: "row", textContent: name, className: "mono" }),
      ...[limit.limit, windowWords(limit.window) || "—", by, algorithm].map((value) => element("td", { textContent: String(value) }))];
    cells.forEach((cell, i) => { cell.dataset.label = headings[i]; });
    row.append(...cells);
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

function select(id, label, options, value) {
  const field = element("div", { className: "field" });
  const control = element("select", { id });
  control.append(...options.map(([v, text]) => element("option", { value: v, textContent: text })));
  if (!options.some(([v]) => v === value)) control.append(element("option", { value, textContent: value }));
  control.value = value;
  field.append(element("label", { htmlFor: id, textContent: label }), control);
  return field;
}

function input(id, label, type, value) {
  const field = element("div", { className: "field" });
  const control = element("input", { id, type, value: String(value ?? ""), autocomplete: "off", spellcheck: false });
  if (type === "number") control.min = "1";
  field.append(element("label", { htmlFor: id, textContent: label }), control);
  return field;
}

/** One limit as a row of fields; what the form has no field for rides along in data-rest. */
function limitRow(name, limit) {
  const n = rowSeq++;
  const { algorithm = "gcra", limit: size, window, by = ["consumer"], ...rest } = limit;
  const row = element("fieldset", { className: "limit-row" });
  row.dataset.rest = JSON.stringify(rest);
  row.dataset.by = JSON.stringify(by);
  row.append(element("legend", { className: "sr-only", textContent: `Limit ${name || "(new)"}` }));
  const byValue = by.length === 1 && COUNTED_BY.some(([v]) => v === by[0]) ? by[0] : by.join(",");
  row.append(
    input(`plan-limit-${n}-name`, "Name", "text", name),
    input(`plan-limit-${n}-limit`, "Requests", "number", size),
    input(`plan-limit-${n}-window`, "Per (e.g. 30s, 1m, 1h)", "text", window ?? ""),
    select(`plan-limit-${n}-by`, "Counted for", COUNTED_BY, byValue),
    select(`plan-limit-${n}-algorithm`, "Counts by", ALGORITHMS, algorithm),
  );
  const remove = element("button", { type: "button", textContent: "Remove", className: "quiet danger" });
  remove.setAttribute("aria-label", `Remove limit ${name || "(new)"}`);
  remove.addEventListener("click", () => {
    row.remove();
    followLimits();
    $("plan-add-limit").focus();
  });
  row.append(remove);
  row.addEventListener("input", followLimits);
  row.addEventListener("change", followLimits);
  return row;
}

/** The rows as the limits object the API takes. */
function readLimits() {
  const limits = {};
  for (const row of $("plan-limit-rows").querySelectorAll(".limit-row")) {
    const value = (suffix) => row.querySelector(`[id$="-${suffix}"]`).value.trim();
    const by = value("by");
    const limit = { ...JSON.parse(row.dataset.rest), algorithm: value("algorithm"), limit: Number(value("limit")), by: by.split(",") };
    if (value("window") !== "") limit.window = value("window");
    limits[value("name")] = limit;
  }
  return limits;
}

/** The description follows the limits while it is theirs (data-auto). */
function followLimits() {
  const description = $("plan-description");
  if (description.dataset.auto === "true") description.value = describePlan($("plan-name").value, readLimits());
}

/** Fills the form with `plan` to edit it, or empties it (null) for a new one. */
function editPlan(plan) {
  const form = $("plan-form");
  showFieldErrors(form, {});
  $("plan-form-error").textContent = "";
  $("plan-form-title").textContent = plan === null ? "New plan" : `Edit plan ${plan.name}`;
  $("plan-name").value = plan?.name ?? "";
  $("plan-name").readOnly = plan !== null;
  $("plan-limit-rows").replaceChildren(...Object.entries(plan?.limits ?? {}).map(([name, limit]) => limitRow(name, limit)));
  const description = plan?.description ?? "";
  $("plan-description").value = description;
  // A description the limits would give (or none) keeps following them; one written by hand stays.
  $("plan-description").dataset.auto = String(description === "" || description === describePlan(plan?.name ?? "", plan?.limits ?? {}));
  if (plan !== null) $("plan-form-title").focus();
}

async function savePlan(event) {
  event.preventDefault();
  const form = $("plan-form");
  $("plan-form-error").textContent = "";
  const name = $("plan-name").value.trim();
  const errors = {};
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) errors["plan-name"] = "Use lower-case letters, digits and dashes.";
  const limits = readLimits();
  if (Object.keys(limits).some((limitName) => limitName === "")) errors["plan-limits"] = "Give every limit a name.";
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
