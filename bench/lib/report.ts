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
  /** Redis server CPU per request, µs; only for the Redis-backed gateway. */
  readonly redisCpuUsPerReq?: number | undefined;
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
/** wrk's latency histogram counts microseconds; tenths of a millisecond say all that is meaningful here. */
const millis = new Intl.NumberFormat("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 });

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

/** The Node gateways "the best Node setup" of issue 7 is chosen from: the one with most req/s. */
export const NODE_GATEWAYS = ["fastify-gateway", "express-gateway", "fast-gateway", "node-gateway"];

/**
 * Issue 7's targets against one scenario's medians, as rows of [target, measured, goal, met]:
 * gateway CPU per request on the memory store and on Redis, throughput against the best Node
 * gateway, issue 15's ratio of the two stores' CPU, and (no goal, for reading the profile) what
 * Sluice spends over the `node-proxy` floor.
 * Rows whose targets did not run are left out.
 */
export function goalRows(rows: readonly Summary[]): string[][] {
  const find = (name: string) => rows.find((r) => r.target === name);
  const out: string[][] = [];
  const cpuGoal = (name: string, most: number) => {
    const cpu = find(name)?.proxyCpuUsPerReq;
    if (cpu !== undefined && Number.isFinite(cpu)) out.push([`${name}: gateway CPU µs/req`, integer.format(cpu), `≤ ${most}`, cpu <= most ? "yes" : "no"]);
  };
  cpuGoal("sluice", 50);
  cpuGoal("sluice-redis", 60);
  const best = rows.filter((r) => NODE_GATEWAYS.includes(r.target)).sort((a, b) => b.rps - a.rps)[0];
  for (const name of ["sluice", "sluice-redis"]) {
    const sluice = find(name);
    if (sluice !== undefined && best !== undefined) {
      const ratio = sluice.rps / best.rps;
      out.push([`${name}: req/s ÷ best Node (${best.target})`, ratio.toFixed(2), "≥ 1.5", ratio >= 1.5 ? "yes" : "no"]);
    }
  }
  const sluice = find("sluice")?.proxyCpuUsPerReq;
  const redis = find("sluice-redis")?.proxyCpuUsPerReq;
  if (sluice !== undefined && redis !== undefined) {
    // Issue 15: limits in Redis cost the gateway at most a fifth more than limits in memory.
    const ratio = redis / sluice;
    out.push(["sluice-redis ÷ sluice, gateway CPU µs/req (issue 15)", ratio.toFixed(2), "≤ 1.2", ratio <= 1.2 ? "yes" : "no"]);
  }
  const floor = find("node-proxy")?.proxyCpuUsPerReq;
  if (sluice !== undefined && floor !== undefined) {
    out.push(["sluice − node-proxy floor, CPU µs/req", integer.format(sluice - floor), "—", "—"]);
    out.push(["node-proxy floor, CPU µs/req", integer.format(floor), "—", "—"]);
  }
  return out;
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
