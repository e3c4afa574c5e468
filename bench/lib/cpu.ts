/**
 * CPU accounting from /proc: a process's utime+stime (clock ticks), and each core's busy time.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc's time fields (`getconf CLK_TCK`, almost always 100). */
export const CLK_TCK: number = (() => {
  try {
    const value = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8", timeout: 5_000 }).trim());
    return Number.isInteger(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process, in microseconds (resolution 1/CLK_TCK s, i.e. 10 ms). */
export function processCpuMicros(pid: number): number {
  return statTimes(pid, 11);
}

/**
 * utime + stime of a process and of every live process under it, in microseconds: Sluice with
 * its embedded database's process (src/db/embeddedEngine.ts), or the primary with its workers.
 */
export function processTreeCpuMicros(pid: number): number {
  return processTree(pid).reduce((sum, member) => sum + processCpuMicros(member), 0);
}

/** A process and its descendants, from /proc/<pid>/task/<pid>/children. */
function processTree(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter((p) => p !== "").map(Number);
  } catch {
    // No children file (an old kernel): the process alone.
  }
  return [pid, ...children.flatMap(processTree)];
}

/**
 * cutime + cstime of this process: the CPU time of its children that have exited and been
 * reaped. Read around a wrk run, its difference is wrk's own CPU time.
 */
export function reapedChildrenCpuMicros(): number {
  return statTimes(process.pid, 13);
}

/** Two consecutive time fields of /proc/<pid>/stat from `index` (counted after the state), in µs. */
function statTimes(pid: number, index: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    throw new Error(`process ${pid} is gone: it exited or crashed during the bench`);
  }
  // Fields after the command name, which is in parentheses and may itself contain spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15, cutime and cstime 16 and 17.
  const user = Number(fields[index]);
  const system = Number(fields[index + 1]);
  if (!Number.isFinite(user) || !Number.isFinite(system)) throw new Error(`cannot read CPU time of pid ${pid}`);
  return ((user + system) * 1e6) / CLK_TCK;
}

export interface CoreTimes {
  readonly busy: number;
  readonly total: number;
}

/** Busy and total ticks of each core (cpu0, cpu1, …) from /proc/stat. */
export function coreTimes(): CoreTimes[] {
  const cores: CoreTimes[] = [];
  for (const line of readFileSync("/proc/stat", "utf8").split("\n")) {
    const match = /^cpu(\d+) (.*)$/.exec(line);
    if (!match) continue;
    const ticks = match[2]!.trim().split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal (guest times are already in user/nice).
    const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    cores[Number(match[1])] = { busy: total - idle, total };
  }
  return cores;
}

/** Fraction of time each core was busy between two coreTimes() readings. */
export function coreBusy(before: readonly CoreTimes[], after: readonly CoreTimes[]): number[] {
  return after.map((a, i) => {
    const b = before[i];
    if (b === undefined) return Number.NaN;
    const total = a.total - b.total;
    return total > 0 ? (a.busy - b.busy) / total : 0;
  });
}
