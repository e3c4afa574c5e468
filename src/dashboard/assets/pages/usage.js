/*
 * Usage (#/usage, #/usage?key=<id>): the calls the gateway allowed and limited for the session's
 * own calls or one key, per minute over the last hour and per hour over the last week
 * (usageChart.js draws them, again at each resize), with a sentence per chart for screen
 * readers, and what is left of each limit now.
 */
/* global window */
import { call, problemText } from "../shared/api.js";
import { $, element } from "../shared/dom.js";
import { count, dayFormat, timeFormat } from "../shared/format.js";
import { renderLimits } from "../shared/limitTable.js";
import { drawChart } from "./usageChart.js";
import { sessionEnded } from "./signIn.js";

/** The usage charts as last drawn: [container, points, options]. */
let charts = [];

export function wireUsage() {
  $("usage-subject").addEventListener("change", () => void loadUsage());
  let resizing = 0;
  window.addEventListener("resize", () => {
    window.cancelAnimationFrame(resizing);
    resizing = window.requestAnimationFrame(drawCharts);
  });
  $("usage-refresh").addEventListener("click", () => void loadUsage());
}

/** Fills the usage page's subject list (the session, then each key) and shows the chosen one. */
export async function loadUsageSubjects(keyId) {
  $("usage-status").textContent = "Loading…";
  const result = await call("GET", "/account/api/keys");
  if (result.status === 401) return sessionEnded();
  if (!result.ok) {
    $("usage-status").textContent = problemText(result);
    return;
  }
  const select = $("usage-subject");
  const options = [element("option", { value: "session", textContent: "Your signed-in calls (playground)" })];
  for (const key of result.data.keys) {
    const dead = key.revokedAt !== null ? " (revoked)" : "";
    options.push(element("option", { value: key.id, textContent: `Key “${key.name}” (${key.start}…)${dead}` }));
  }
  select.replaceChildren(...options);
  const wanted = keyId ?? (result.data.keys.find((key) => key.revokedAt === null)?.id ?? "session");
  select.value = options.some((option) => option.value === wanted) ? wanted : "session";
  await loadUsage();
}

async function loadUsage() {
  const subject = $("usage-subject").value;
  const path = subject === "session" ? "/account/api/usage/session" : `/account/api/usage/keys/${encodeURIComponent(subject)}`;
  $("usage-status").textContent = "Loading…";
  const result = await call("GET", path);
  if (result.status === 401) return sessionEnded();
  if (!result.ok) {
    $("usage-status").textContent = problemText(result);
    return;
  }
  const { minutes, hours, limits } = result.data;
  charts = [
    [$("minutes-chart"), minutes, { label: "Requests per minute over the last hour", format: timeFormat, tickBase: 15 }],
    [$("hours-chart"), hours, { label: "Requests per hour over the last week", format: dayFormat, tickBase: 24 }],
  ];
  drawCharts();
  $("minutes-summary").textContent = summary(minutes, "the last hour", "minute", timeFormat);
  $("hours-summary").textContent = summary(hours, "the last week", "hour", dayFormat);
  renderLimits($("usage-limits"), limits, null);
  $("usage-status").textContent = `Updated at ${timeFormat.format(new Date())}.`;
}

function summary(points, span, step, format) {
  const allowed = points.reduce((sum, p) => sum + p.allowed, 0);
  const limited = points.reduce((sum, p) => sum + p.limited, 0);
  if (allowed + limited === 0) return `No calls in ${span}.`;
  const busiest = points.reduce((best, p) => (p.allowed + p.limited > best.allowed + best.limited ? p : best));
  return `${count(allowed, "call")} allowed and ${limited} limited in ${span}; the busiest ${step} (${format.format(new Date(busiest.at))}) had ${busiest.allowed + busiest.limited}.`;
}

/** Draws the usage charts at their boxes' current width (again when the window is resized). */
function drawCharts() {
  for (const [container, points, options] of charts) drawChart(container, points, options);
}
