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
