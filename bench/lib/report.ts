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
  /** Fraction of time each core was busy during the measured runs (median), whoever ran there. */
  readonly coreBusy: readonly number[];
  /** Fraction of the run the proxy process itself was on the CPU; undefined for `direct`. */
  readonly proxyShare: number | undefined;
  /** Fraction of the run the load (wrk, the upstream, the orchestrator) was on the CPU. */
  readonly loadShare: number;
  /** wrk's own CPU per request, µs. */
  readonly wrkCpuUsPerReq: number;
}

/** The median of what `pick` reads from each of `items` (medians over rounds). */
export function medianOf<T>(items: readonly T[], pick: (item: T) => number): number {
  return median(items.map(pick));
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

/** The gateway core must be this busy for a proxy's CPU per request to compare (it was the bottleneck). */
export const GATEWAY_CORE_BUSY_MIN = 0.95;
/** Above this, the load core (wrk + upstream) may have been the bottleneck instead. */
export const LOAD_CORE_BUSY_MAX = 0.9;

const percent = (fraction: number | undefined) => (fraction === undefined || !Number.isFinite(fraction) ? "?" : `${Math.round(fraction * 100)} %`);

/**
 * Why a proxy's row does not measure the proxy alone at saturation, empty when it does: its core
 * not busy (the bottleneck was elsewhere), the proxy itself not on it ≥ 95 % of the time (other
 * work on the machine took its core), or the load core's own work (wrk, upstream) near full.
 */
export function coreProblems(s: Summary): string[] {
  if (s.proxyCpuUsPerReq === undefined) return [];
  const [gateway] = s.coreBusy;
  return [
    gateway !== undefined && gateway < GATEWAY_CORE_BUSY_MIN && `gateway core ${percent(gateway)} busy (< ${percent(GATEWAY_CORE_BUSY_MIN)})`,
    s.proxyShare !== undefined && s.proxyShare < GATEWAY_CORE_BUSY_MIN && `the gateway itself on its core ${percent(s.proxyShare)} of the time (other work ran there)`,
    s.loadShare > LOAD_CORE_BUSY_MAX && `wrk + upstream ${percent(s.loadShare)} of the load core (> ${percent(LOAD_CORE_BUSY_MAX)})`,
  ].filter((p): p is string => typeof p === "string");
}

function cells(s: Summary): string[] {
  const flag = coreProblems(s).length > 0 ? " ⚠" : "";
  return [
    s.target,
    integer.format(s.rps),
    millis.format(s.p50Ms),
    millis.format(s.p99Ms),
    s.ratio.toFixed(2),
    s.proxyCpuUsPerReq === undefined ? "—" : integer.format(s.proxyCpuUsPerReq),
    s.proxyCpuUsPerReq === undefined ? "—" : `${percent(s.coreBusy[0])} (${percent(s.proxyShare)})${flag}`,
    `${percent(s.coreBusy[1])} (${percent(s.loadShare)})`,
  ];
}

/** Core busy: all work on the core, and in parentheses the share of it that was the gateway's (core 0) or the load's (core 1). */
const HEADER = ["target", "req/s", "p50 ms", "p99 ms", "vs direct", "gateway CPU µs/req", "core 0 busy (gateway)", "core 1 busy (wrk + upstream)"];

export function consoleTable(rows: readonly Summary[]): string {
  return textTable(HEADER, rows.map(cells));
}

export function markdownTable(rows: readonly Summary[]): string {
  return markdownTableOf(HEADER, rows.map(cells));
}

/** The Node gateway products "the best Node peer" of issue 19 is chosen from: the one with most req/s. */
export const NODE_GATEWAYS = ["fastify-gateway", "express-gateway", "fast-gateway"];

/**
 * Issue 19's goals against one scenario's medians, as rows of [target, measured, goal, met]:
 * gateway CPU per request against the reference floor, throughput against the best Node gateway
 * product, p99 against that peer's, issue 15's ratio of the two stores' CPU, and (no goal, for
 * reading the profile) what Sluice spends over the floor. Rows whose targets did not run are left out.
 */
export function goalRows(rows: readonly Summary[]): string[][] {
  const find = (name: string) => rows.find((r) => r.target === name);
  const out: string[][] = [];
  const floor = find("floor")?.proxyCpuUsPerReq;
  const best = rows.filter((r) => NODE_GATEWAYS.includes(r.target)).sort((a, b) => b.rps - a.rps)[0];
  for (const name of ["sluice", "sluice-redis"]) {
    const sluice = find(name);
    if (sluice === undefined) continue;
    if (floor !== undefined && sluice.proxyCpuUsPerReq !== undefined) {
      const ratio = sluice.proxyCpuUsPerReq / floor;
      out.push([`${name}: gateway CPU µs/req ÷ floor`, ratio.toFixed(2), name === "sluice" ? "≤ 1.25" : "—", name === "sluice" ? (ratio <= 1.25 ? "yes" : "no") : "—"]);
    }
    if (best !== undefined) {
      const ratio = sluice.rps / best.rps;
      out.push([`${name}: req/s ÷ best Node peer (${best.target})`, ratio.toFixed(2), "≥ 1.5", ratio >= 1.5 ? "yes" : "no"]);
      out.push([`${name}: p99 ms against ${best.target}'s`, `${millis.format(sluice.p99Ms)} / ${millis.format(best.p99Ms)}`, "≤", sluice.p99Ms <= best.p99Ms ? "yes" : "no"]);
    }
  }
  const sluice = find("sluice")?.proxyCpuUsPerReq;
  const redis = find("sluice-redis")?.proxyCpuUsPerReq;
  if (sluice !== undefined && redis !== undefined) {
    // Issue 15: limits in Redis cost the gateway at most a fifth more than limits in memory.
    const ratio = redis / sluice;
    out.push(["sluice-redis ÷ sluice, gateway CPU µs/req (issue 15)", ratio.toFixed(2), "≤ 1.2", ratio <= 1.2 ? "yes" : "no"]);
  }
  if (sluice !== undefined && floor !== undefined) {
    out.push(["sluice − floor, CPU µs/req", integer.format(sluice - floor), "—", "—"]);
    out.push(["floor, CPU µs/req", integer.format(floor), "—", "—"]);
  }
  return out;
}

/** Issue 19: 10,000 keys may cost at most 1.05× one key (gateway CPU per request), per Sluice target. */
export function keyScalingRows(oneKey: readonly Summary[], manyKeys: readonly Summary[]): string[][] {
  const out: string[][] = [];
  for (const one of oneKey) {
    const many = manyKeys.find((m) => m.target === one.target);
    if (!one.target.startsWith("sluice") && one.target !== "floor") continue;
    if (many?.proxyCpuUsPerReq === undefined || one.proxyCpuUsPerReq === undefined) continue;
    const ratio = many.proxyCpuUsPerReq / one.proxyCpuUsPerReq;
    const goal = one.target.startsWith("sluice");
    out.push([`${one.target}: 10,000 keys ÷ one key, gateway CPU µs/req`, ratio.toFixed(2), goal ? "≤ 1.05" : "—", goal ? (ratio <= 1.05 ? "yes" : "no") : "—"]);
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
