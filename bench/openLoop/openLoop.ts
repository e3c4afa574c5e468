/**
 * The gateway bench's open-loop phase (bench/run.ts): each target at one constant offered rate
 * (BENCH_OPEN_RATE, 5,000 requests/s; 0 skips the phase) from generator.ts, pinned to the load
 * core, rounds interleaved; reported as the latency each proxy adds over `direct` at p50, p99 and
 * p99.9 (medians over rounds of each percentile). Issue 19's goal: Sluice adds ≤ 0.5 ms at p99.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "../lib/children.js";
import { envInt } from "../lib/environment.js";
import { medianOf } from "../lib/report.js";
import type { OpenLoopResult } from "./generator.js";

const GENERATOR = join(dirname(fileURLToPath(import.meta.url)), "generator.ts");

export const openLoopRate = envInt("BENCH_OPEN_RATE", 5_000, 0);

export interface OpenLoopTarget {
  readonly name: string;
  readonly url: string;
}

export interface OpenLoopRow {
  readonly target: string;
  readonly achievedRate: number;
  readonly errors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  /** Over `direct`'s percentile of the same rounds; undefined for `direct`. */
  readonly addedP50Ms: number | undefined;
  readonly addedP99Ms: number | undefined;
  readonly addedP999Ms: number | undefined;
}

/** One generator run against one target; rejects when it fails. */
export async function openLoopRun(target: OpenLoopTarget, keysFile: string, seconds: number, warmupS: number, core: number | undefined): Promise<OpenLoopResult> {
  const stdout = await run(`open loop (${target.name})`, ["--import", "tsx", GENERATOR, target.url, keysFile, String(openLoopRate), String(seconds), String(warmupS)], core, (seconds + warmupS + 180) * 1000);
  const line = stdout.split("\n").reverse().find((l) => l.startsWith("{"));
  if (line === undefined) throw new Error(`the open-loop generator printed no result for ${target.name}:\n${stdout}`);
  return JSON.parse(line) as OpenLoopResult;
}

/** Medians over rounds, and what each target adds over `direct`. */
export function openLoopRows(runs: ReadonlyMap<string, readonly OpenLoopResult[]>): OpenLoopRow[] {
  const ms = (us: number) => us / 1000;
  const direct = runs.get("direct");
  const rows: OpenLoopRow[] = [];
  for (const [target, results] of runs) {
    const p50 = ms(medianOf(results, (r) => r.latencyUs.p50));
    const p99 = ms(medianOf(results, (r) => r.latencyUs.p99));
    const p999 = ms(medianOf(results, (r) => r.latencyUs.p999));
    const base = target === "direct" || direct === undefined ? undefined : {
      p50: ms(medianOf(direct, (r) => r.latencyUs.p50)), p99: ms(medianOf(direct, (r) => r.latencyUs.p99)), p999: ms(medianOf(direct, (r) => r.latencyUs.p999)),
    };
    rows.push({
      target,
      achievedRate: medianOf(results, (r) => r.achievedRate),
      errors: results.reduce((sum, r) => sum + r.errors, 0),
      p50Ms: p50,
      p99Ms: p99,
      p999Ms: p999,
      maxMs: ms(medianOf(results, (r) => r.latencyUs.max)),
      addedP50Ms: base && p50 - base.p50,
      addedP99Ms: base && p99 - base.p99,
      addedP999Ms: base && p999 - base.p999,
    });
  }
  return rows;
}

export const OPEN_LOOP_HEADER = ["target", "achieved req/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "added p50 ms", "added p99 ms", "added p99.9 ms"];

export function openLoopCells(rows: readonly OpenLoopRow[]): string[][] {
  const f = (v: number | undefined, digits = 2) => (v === undefined ? "—" : v.toFixed(digits));
  return rows.map((r) => [r.target, Math.round(r.achievedRate).toLocaleString("en-US"), f(r.p50Ms), f(r.p99Ms), f(r.p999Ms), f(r.maxMs, 1), f(r.addedP50Ms), f(r.addedP99Ms), f(r.addedP999Ms)]);
}

/** Issue 19's open-loop goal: Sluice adds at most 0.5 ms at p99 over direct. */
export function openLoopGoals(rows: readonly OpenLoopRow[]): string[][] {
  return rows.filter((r) => r.target.startsWith("sluice") && r.addedP99Ms !== undefined).map((r) =>
    [`${r.target}: p99 added over direct at ${openLoopRate.toLocaleString("en-US")} req/s`, `${r.addedP99Ms!.toFixed(2)} ms`, "≤ 0.5 ms", r.addedP99Ms! <= 0.5 ? "yes" : "no"]);
}
