/**
 * Turning runs into the numbers the bench reports: medians, and the console and Markdown tables.
 */

export interface Summary {
  readonly target: string;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** req/s relative to `direct`. */
  readonly ratio: number;
  /** CPU time of the proxy process per request, µs; undefined for `direct`. */
  readonly proxyCpuUsPerReq: number | undefined;
  readonly upstreamCpuUsPerReq: number;
  /** Fraction of time each core was busy during the measured runs (median). */
  readonly coreBusy: readonly number[];
}

export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
/** autocannon's latency histogram counts whole milliseconds; a median of two rounds may end in .5. */
const millis = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });

function cells(s: Summary): string[] {
  return [
    s.target,
    integer.format(s.rps),
    millis.format(s.p50Ms),
    millis.format(s.p99Ms),
    s.ratio.toFixed(2),
    s.proxyCpuUsPerReq === undefined ? "—" : integer.format(s.proxyCpuUsPerReq),
  ];
}

const HEADER = ["target", "req/s", "p50 ms", "p99 ms", "vs direct", "gateway CPU µs/req"];

export function consoleTable(rows: readonly Summary[]): string {
  return textTable(HEADER, rows.map(cells));
}

export function markdownTable(rows: readonly Summary[]): string {
  return markdownTableOf(HEADER, rows.map(cells));
}

/** Any table as aligned text: the first column (a name) left-aligned, the figures right-aligned. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const table = [header, ...rows];
  const widths = header.map((_, col) => Math.max(...table.map((row) => (row[col] ?? "").length)));
  const line = (row: readonly string[]) => row.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** Any table in Markdown, laid out like `textTable`; the first column is set as code. */
export function markdownTableOf(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map((_, col) => (col === 0 ? " --- " : " ---: ")).join("|")}|`,
    ...rows.map((r) => `| ${r.map((c, col) => (col === 0 ? `\`${c}\`` : c)).join(" | ")} |`),
  ].join("\n");
}
