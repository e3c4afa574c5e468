/*
 * A table of limit states as the server reads them (name, algorithm, what is left, when whole
 * again): the usage page's "Limits now", and the admin limit inspector's, with a Reset button
 * per row.
 */
import { element } from "./dom.js";
import { formatReset, formatWindow } from "./format.js";

/** Rows of limit states; with `onReset`, each row has a Reset button. */
export function renderLimits(table, limits, onReset) {
  const rows = limits.map((limit) => {
    const row = element("tr", {});
    const name = element("th", { scope: "row" });
    name.append(element("span", { textContent: limit.name, className: "mono" }), element("span", { className: "muted small", textContent: ` ${limit.algorithm}, ${limit.limit} per ${formatWindow(limit.windowSeconds)}` }));
    const cells = [name];
    if (onReset !== null) cells.push(element("td", { textContent: limit.source }));
    cells.push(
      element("td", { textContent: limit.services.length === 0 ? "—" : limit.services.join(", ") }),
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
    row.append(...cells);
    return row;
  });
  if (rows.length === 0) {
    const row = element("tr", {});
    row.append(element("td", { colSpan: onReset === null ? 4 : 6, className: "muted", textContent: "No limits apply." }));
    rows.push(row);
  }
  table.tBodies[0].replaceChildren(...rows);
}
