/*
 * The usage page's bar chart, as SVG elements made one by one (no markup, no library): allowed
 * calls below, limited ones stacked on top, a title on every bar.
 */
/* global document */

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attributes) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

/**
 * A bar chart of `points` ({at, allowed, limited}), allowed below and limited stacked on top, with
 * the largest total on the y axis and times under the bars, every `tickBase` bars or a multiple
 * of it, as many as fit. Each bar's title names its time and counts. Drawn at the box's width in
 * pixels, so text keeps its size on a phone; the box's height is fixed, so nothing jumps.
 */
export function drawChart(container, points, { label, format, tickBase }) {
  const width = Math.max(280, container.clientWidth || 720);
  const height = 200;
  const left = 36;
  const bottom = 22;
  const top = 8;
  const plotHeight = height - bottom - top;
  const max = Math.max(1, ...points.map((p) => p.allowed + p.limited));
  const step = (width - left) / Math.max(1, points.length);
  const labels = Math.max(1, Math.floor((width - left) / 120));
  const tickEvery = Math.max(1, Math.ceil(points.length / labels / tickBase)) * tickBase;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label, class: "chart-svg" });
  chart.append(svg("line", { x1: left, y1: top + plotHeight, x2: width, y2: top + plotHeight, class: "axis" }));
  chart.append(svg("line", { x1: left, y1: top, x2: width, y2: top, class: "grid-line" }));
  const maxLabel = svg("text", { x: left - 6, y: top + 10, class: "tick tick-y" });
  maxLabel.textContent = String(max);
  const zeroLabel = svg("text", { x: left - 6, y: top + plotHeight, class: "tick tick-y" });
  zeroLabel.textContent = "0";
  chart.append(maxLabel, zeroLabel);
  points.forEach((point, i) => {
    const x = left + i * step;
    const allowedHeight = (point.allowed / max) * plotHeight;
    const limitedHeight = (point.limited / max) * plotHeight;
    const group = svg("g", { class: "bar" });
    const title = svg("title", {});
    title.textContent = `${format.format(new Date(point.at))}: ${point.allowed} let through, ${point.limited} turned away`;
    // A full-height hit area, so even an empty step has its title on hover.
    group.append(title, svg("rect", { x, y: top, width: step, height: plotHeight, class: "bar-hit" }));
    if (point.allowed > 0) group.append(svg("rect", { x: x + step * 0.1, y: top + plotHeight - allowedHeight, width: step * 0.8, height: allowedHeight, class: "bar-allowed" }));
    if (point.limited > 0) group.append(svg("rect", { x: x + step * 0.1, y: top + plotHeight - allowedHeight - limitedHeight, width: step * 0.8, height: limitedHeight, class: "bar-limited" }));
    chart.append(group);
    if ((points.length - 1 - i) % tickEvery === 0) {
      const tick = svg("text", { x: x + step / 2, y: height - 6, class: "tick tick-x" });
      tick.textContent = i === points.length - 1 ? "now" : format.format(new Date(point.at));
      chart.append(tick);
    }
  });
  container.replaceChildren(chart);
  container.dataset.allowed = String(points.reduce((sum, p) => sum + p.allowed, 0));
  container.dataset.limited = String(points.reduce((sum, p) => sum + p.limited, 0));
}
