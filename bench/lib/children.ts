/**
 * Child processes of the bench: spawned pinned to a core, awaited until they print their ready
 * line, drained so their pipes never fill, and always cleaned up (normal exit, failure, Ctrl-C).
 *
 * Pinning uses `taskset -c N node …`: taskset exec()s node, so the pid we hold is node's own and
 * /proc/<pid>/stat is the server's CPU time, not a wrapper's. `start` checks that.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readlinkSync, realpathSync } from "node:fs";
import { createServer } from "node:net";
import { availableParallelism } from "node:os";

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly process: ChildProcess;
  /** The last few KB of the child's stdout and stderr, for error messages. */
  output(): string;
}

export interface StartOptions {
  readonly name: string;
  /** The program to run (an absolute path, e.g. /usr/sbin/nginx); node when undefined. */
  readonly command?: string;
  /** Arguments to the program: for node, the script and its arguments. */
  readonly args: readonly string[];
  /** Core to pin to, or undefined for no pinning. */
  readonly core: number | undefined;
  readonly env?: NodeJS.ProcessEnv;
  /** Working directory (default: this process's). */
  readonly cwd?: string;
  /** The ready line (stdout or stderr); its first capture group is returned (e.g. the URL). */
  readonly ready: RegExp;
  readonly timeoutMs: number;
}

const TAIL_BYTES = 8_192;
const live = new Set<ChildProcess>();
/** Set once stopAll() begins: nothing new is spawned while (or after) the bench shuts down. */
let closed = false;

/** Children that exited on their own before stopAll(), with their last output. */
const casualties: string[] = [];

/** What each child that died unexpectedly said last; empty when none did. */
export function unexpectedExits(): readonly string[] {
  return casualties;
}

function refuseIfClosed(name: string): void {
  if (closed) throw new Error(`not starting ${name}: the bench is shutting down`);
}

export const hasTaskset: boolean = spawnSync("taskset", ["-V"], { stdio: "ignore" }).status === 0;

/** Cores this process may use, read when the bench loads (once it pins itself, nproc says 1). */
export const CORES = availableParallelism();
/** Pinning needs taskset and two cores: the servers under test on core 0, alone; load and orchestrator on core 1. */
export const canPin = hasTaskset && CORES >= 2;
export const SERVER_CORE = canPin ? 0 : undefined;
export const LOAD_CORE = canPin ? 1 : undefined;

/** The command that runs `node args` pinned to `core` (when pinning is possible). */
export function nodeCommand(args: readonly string[], core: number | undefined): [string, string[]] {
  return pinnedCommand(process.execPath, args, core);
}

/** The command that runs `program args` pinned to `core` (when pinning is possible). */
export function pinnedCommand(program: string, args: readonly string[], core: number | undefined): [string, string[]] {
  return core !== undefined && hasTaskset ? ["taskset", ["-c", String(core), program, ...args]] : [program, [...args]];
}

/**
 * Pins an existing process (e.g. this one) to a core, every thread of it (`-a`): without it only
 * the main thread moves, and V8's GC and compiler threads, already started, stay free to run on
 * the other core.
 */
export function pin(pid: number, core: number): void {
  const result = spawnSync("taskset", ["-a", "-cp", String(core), String(pid)], { stdio: "ignore", timeout: 5_000 });
  if (result.status !== 0) throw new Error(`taskset -a -cp ${core} ${pid} failed`);
}

export async function start(options: StartOptions): Promise<{ child: Child; match: string }> {
  refuseIfClosed(options.name);
  const program = options.command ?? process.execPath;
  const [command, args] = pinnedCommand(program, options.args, options.core);
  const proc = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...options.env }, ...(options.cwd !== undefined && { cwd: options.cwd }) });
  live.add(proc);
  let tail = "";
  // 'close', not 'exit': by then the child's last words are in `tail`.
  proc.once("close", (code, signal) => {
    live.delete(proc);
    if (!closed) casualties.push(`${options.name} (pid ${proc.pid}) exited on its own (${signal ?? `code ${code}`}); its last output:\n${tail}`);
  });
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString("utf8")).slice(-TAIL_BYTES);
  };
  proc.stdout.on("data", keep);
  proc.stderr.on("data", keep);
  const child: Child = { name: options.name, pid: proc.pid ?? -1, process: proc, output: () => tail };

  const match = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`${options.name} did not become ready within ${options.timeoutMs} ms`)), options.timeoutMs);
    const onData = () => {
      const found = options.ready.exec(tail);
      if (found) done(undefined, found[1] ?? found[0]);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => done(new Error(`${options.name} exited (${signal ?? `code ${code}`}) before it was ready`));
    const onError = (error: Error) => done(error);
    function done(error: Error | undefined, value?: string) {
      clearTimeout(timer);
      proc.stdout.off("data", onData);
      proc.stderr.off("data", onData);
      proc.off("exit", onExit);
      proc.off("error", onError);
      if (error) reject(new Error(`${error.message}\n--- ${options.name} output ---\n${tail}`));
      else resolve(value!);
    }
    proc.stdout.on("data", onData);
    proc.stderr.on("data", onData);
    proc.once("exit", onExit);
    proc.once("error", onError);
  });

  const exe = readlinkSync(`/proc/${child.pid}/exe`);
  if (exe !== realpathSync(program)) throw new Error(`${options.name}: pid ${child.pid} is ${exe}, not ${program}; its CPU time would be wrong`);
  return { child, match };
}

/** Runs `node args` to completion and returns its stdout; killed (and rejected) after timeoutMs. */
export function run(name: string, args: readonly string[], core: number | undefined, timeoutMs: number): Promise<string> {
  const [command, argv] = nodeCommand(args, core);
  return runProgram(name, command, argv, timeoutMs);
}

/** Runs any program (e.g. `taskset -c 1 redis-benchmark …`) to completion; same contract as `run`. */
export function runProgram(name: string, command: string, argv: readonly string[], timeoutMs: number): Promise<string> {
  refuseIfClosed(name);
  const proc = spawn(command, argv, { stdio: ["ignore", "pipe", "pipe"] });
  live.add(proc);
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  proc.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-TAIL_BYTES)));
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`${name} did not finish within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    proc.once("error", (error) => {
      clearTimeout(timer);
      live.delete(proc);
      reject(error);
    });
    proc.once("close", (code, signal) => {
      clearTimeout(timer);
      live.delete(proc);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${name} failed (${signal ?? `code ${code}`})\n${stderr}`));
    });
  });
}

/** SIGTERM to every live child, SIGKILL to those still there after graceMs. */
export async function stopAll(graceMs = 3_000): Promise<void> {
  closed = true;
  const procs = [...live];
  await Promise.all(procs.map((proc) => new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      resolve();
    }, graceMs);
    proc.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    proc.kill("SIGTERM");
  })));
}

/** Last resort, synchronous (for process 'exit'): SIGKILL whatever is still running. */
export function killAllNow(): void {
  for (const proc of live) {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
  }
  live.clear();
}

/** A port nobody listens on now, for a server that cannot listen on port 0 and say which it got. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no free port");
  return address.port;
}
