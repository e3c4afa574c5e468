/** What the bench reports about where it ran, and how it reads its settings from the environment. */
import { execFileSync } from "node:child_process";
import { availableParallelism, cpus } from "node:os";

/** Cores, CPU model, Node version and platform. `cores` is read before a bench pins itself (after, nproc says 1). */
export function machineInfo(cores = availableParallelism()): { cores: number; model: string; node: string; platform: string } {
  let model = cpus()[0]?.model ?? "unknown";
  try {
    const line = execFileSync("lscpu", { encoding: "utf8", timeout: 5_000 }).split("\n").find((l) => l.startsWith("Model name:"));
    if (line !== undefined) model = line.slice("Model name:".length).trim();
  } catch {
    // lscpu is optional; os.cpus() already gave a model name.
  }
  return { cores, model, node: process.version, platform: `${process.platform}-${process.arch}` };
}

/** An integer setting from the environment, at least `min`; `fallback` when unset or empty. */
export function envInt(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer ≥ ${min}, not "${raw}"`);
  return value;
}

/**
 * The settings of a bench that loads servers: BENCH_CONNECTIONS, BENCH_DURATION (s), BENCH_WARMUP (s)
 * and BENCH_ROUNDS, each overriding BENCH_QUICK=1's smoke-test values (1 round of 3 s after 1 s).
 */
export function loadSettings(defaultConnections: number): { connections: number; durationS: number; warmupS: number; rounds: number } {
  const quick = process.env["BENCH_QUICK"] === "1";
  return {
    connections: envInt("BENCH_CONNECTIONS", defaultConnections, 1),
    durationS: envInt("BENCH_DURATION", quick ? 3 : 10, 1),
    warmupS: envInt("BENCH_WARMUP", quick ? 1 : 2, 0),
    rounds: envInt("BENCH_ROUNDS", quick ? 1 : 3, 1),
  };
}

/** Whether BENCH_TARGETS (a comma-separated list; all when unset) asks for a target; `always` run regardless. */
export function wantedTargets(...always: readonly string[]): (name: string) => boolean {
  const only = (process.env["BENCH_TARGETS"] ?? "").split(",").map((t) => t.trim()).filter((t) => t !== "");
  return (name) => only.length === 0 || always.includes(name) || only.includes(name);
}
