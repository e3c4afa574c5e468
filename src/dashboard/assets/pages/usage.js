/*
 * Usage (#/usage, #/usage?key=<id>): the calls the gateway let through and turned away, for all
 * of the user's traffic (every key and the playground: the default), one key, or the playground
 * alone, over the range picked (the last hour per minute, the last 24 hours or 7 days per hour),
 * drawn by usageChart.js (again at each resize) with a sentence for screen readers, and what is
 * left of each limit now. While the page is shown it refreshes itself every 10 s.
 */
/* global document, window, setInterval, clearInterval */
import { call, problemText } from "../shared/api.js";
import { $, element } from "../shared/dom.js";
import { count, dayFormat, secondsFormat, timeFormat } from "../shared/format.js";
import { renderLimits } from "../shared/limitTable.js";
import { onSignOut } from "../shared/session.js";
import { drawChart } from "./usageChart.js";
import { sessionEnded } from "./signIn.js";

const REFRESH_MS = 10_000;

/** Range → the series it reads, how many of its last points, and how it is told. */
const RANGES = {
  hour: { series: "minutes", points: 60, title: "Last hour, per minute", span: "the last hour", step: "minute", format: timeFormat, tickBase: 15 },
  day: { series: "hours", points: 24, title: "Last 24 hours, per hour", span: "the last 24 hours", step: "hour", format: timeFormat, tickBase: 6 },
  week: { series: "hours", points: 168, title: "Last 7 days, per hour", span: "the last 7 days", step: "hour", format: dayFormat, tickBase: 24 },
};

/** The last answer, redrawn on resize and on a change of range without asking again. */
let last = null;
let timer = 0;

export function wireUsage() {
  $("usage-subject").addEventListener("change", () => void loadUsage());
  $("usage-range").addEventListener("change", () => drawUsage());
  $("usage-auto").addEventListener("change", () => scheduleRefresh());
  $("usage-refresh").addEventListener("click", () => void loadUsage());
  let resizing = 0;
  window.addEventListener("resize", () => {
    window.cancelAnimationFrame(resizing);
    resizing = window.requestAnimationFrame(drawUsage);
  });
  // Refreshes only while the usage page is the one shown.
  window.addEventListener("hashchange", () => scheduleRefresh());
  document.addEventListener("visibilitychange", () => scheduleRefresh());
  onSignOut(() => clearInterval(timer));
}

function scheduleRefresh() {
  clearInterval(timer);
  const shown = !$("page-usage").hidden && document.visibilityState === "visible";
  if (shown && $("usage-auto").checked) timer = setInterval(() => void loadUsage(), REFRESH_MS);
}

/** Fills the subject list (all traffic, the playground, then each key) and shows the chosen one. */
export async function loadUsageSubjects(keyId) {
  $("usage-status").textContent = "Loading…";
  const result = await call("GET", "/account/api/keys");
  if (result.status === 401) return sessionEnded();
  if (!result.ok) {
    $("usage-status").textContent = problemText(result);
    return;
  }
  const select = $("usage-subject");
  const options = [
    element("option", { value: "all", textContent: "All your traffic (every key and the Playground)" }),
    element("option", { value: "session", textContent: "Your Playground calls" }),
  ];
  for (const key of result.data.keys) {
    const dead = key.revokedAt !== null ? " (revoked)" : "";
    options.push(element("option", { value: key.id, textContent: `Key “${key.name}” (${key.start}…)${dead}` }));
  }
  select.replaceChildren(...options);
  select.value = keyId !== null && options.some((option) => option.value === keyId) ? keyId : "all";
  await loadUsage();
  scheduleRefresh();
}

async function loadUsage() {
  const subject = $("usage-subject").value;
  const path = subject === "all" ? "/account/api/usage"
    : subject === "session" ? "/account/api/usage/session"
    : `/account/api/usage/keys/${encodeURIComponent(subject)}`;
  const result = await call("GET", path);
  if (result.status === 401) return sessionEnded();
  if (!result.ok) {
    $("usage-status").textContent = problemText(result);
    return;
  }
  last = result.data;
  drawUsage();
  renderLimits($("usage-limits"), last.limits, null);
  $("usage-status").textContent = `Updated at ${secondsFormat.format(new Date())}.`;
}

/** Draws the chosen range of the last answer at the chart's current width. */
function drawUsage() {
  if (last === null) return;
  const range = RANGES[$("usage-range").value] ?? RANGES.hour;
  const points = last[range.series].slice(-range.points);
  $("usage-chart-title").textContent = range.title;
  drawChart($("usage-chart"), points, { label: `Requests per ${range.step} over ${range.span}`, format: range.format, tickBase: range.tickBase });
  $("usage-summary").textContent = summary(points, range);
}

function summary(points, { span, step, format }) {
  const allowed = points.reduce((sum, p) => sum + p.allowed, 0);
  const limited = points.reduce((sum, p) => sum + p.limited, 0);
  if (allowed + limited === 0) return `No calls in ${span}.`;
  const busiest = points.reduce((best, p) => (p.allowed + p.limited > best.allowed + best.limited ? p : best));
  return `${count(allowed, "call")} let through and ${limited} turned away in ${span}; the busiest ${step} (${format.format(new Date(busiest.at))}) had ${busiest.allowed + busiest.limited}.`;
}
