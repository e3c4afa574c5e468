/*
 * A table of limit states as the server reads them (name, size, what is left, when full again),
 * in plain words: the keys page's and usage page's "what is left now", and the admin limit
 * inspector's, with a Reset button per row. Each cell carries its column's name (data-label), so
 * on a phone the rows stack as cards (app.css) instead of clipping columns.
 */
import { element } from "./dom.js";
import { formatReset, formatWindow } from "./format.js";

/** "5 requests per 30 s". */
export const describeLimit = (limit) => `${limit.limit} ${limit.limit === 1 ? "request" : "requests"} per ${formatWindow(limit.windowSeconds)}`;

/** Where a limit comes from, in words. */
const SOURCES = { config: "Gateway", plan: "Plan", "sign-in": "Sign-in throttle", "sign-up": "Sign-up throttle" };

/** Rows of limit states; with `onReset`, each row has a Reset button and the column "From". */
export function renderLimits(table, limits, onReset) {
  const labels = [...table.tHead.rows[0].cells].map((cell) => cell.textContent);
  const rows = limits.map((limit) => {
    const row = element("tr", {});
    const name = element("th", { scope: "row" });
    name.append(element("span", { textContent: limit.name, className: "mono" }), element("span", { className: "muted small block", textContent: describeLimit(limit) }));
    const cells = [name];
    if (onReset !== null) cells.push(element("td", { textContent: SOURCES[limit.source] ?? limit.source }));
    cells.push(
      element("td", { textContent: limit.services.length === 0 ? "All services" : limit.services.join(", ") }),
      element("td", { textContent: `${limit.remaining} of ${limit.limit}`, className: limit.remaining <= 0 ? "spent" : "" }),
      element("td", { textContent: formatReset(limit.resetAt) }),
    );
    if (onReset !== null) {
      const cell = element("td", {});
      const button = element("button", { type: "button", textContent: "Reset", className: "quiet" });
      button.setAttribute("aria-label", `Reset ${limit.name}`);
      button.addEventListener("click", () => void onReset(limit, button));
      cell.append(button);
      cells.push(cell);
    }
    cells.forEach((cell, i) => { cell.dataset.label = labels[i] ?? ""; });
    row.append(...cells);
    return row;
  });
  if (rows.length === 0) {
    const row = element("tr", {});
    row.append(element("td", { colSpan: labels.length, className: "muted", textContent: "No limits apply." }));
    rows.push(row);
  }
  table.tBodies[0].replaceChildren(...rows);
}

/** Labels each body cell of `row` with its column's heading, for the stacked phone layout. */
export function labelCells(table, row) {
  const labels = [...table.tHead.rows[0].cells].map((cell) => cell.textContent);
  [...row.cells].forEach((cell, i) => { cell.dataset.label = labels[i] ?? ""; });
  return row;
}
