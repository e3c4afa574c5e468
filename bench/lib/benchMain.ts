/**
 * How every bench script runs its `main`: on success it cleans up and exits 0; on an error, a
 * signal (exit 130) or `abort` (e.g. from a time budget) it says why, with what any child that
 * died said last, cleans up once and exits non-zero. Children are killed on any exit, even one
 * that skips the clean-up.
 *
 * @example
 * await runBench({ name: "limiter bench", cleanUp: stopAll }, main);
 */
import { killAllNow, stopAll, unexpectedExits } from "./children.js";

export interface BenchRun {
  /** Named in the failure line: "<name> FAILED: …". */
  readonly name: string;
  /** Stops the children and removes what the bench wrote; awaited once, after success or failure. */
  readonly cleanUp: () => Promise<void>;
  /** Synchronous last words on process exit, after the children are killed (e.g. removing a temp dir). */
  readonly onExit?: () => void;
}

let current: BenchRun = { name: "bench", cleanUp: stopAll };
let aborting = false;

/** Ends the bench with `error`: says why, cleans up, exits with `exitCode`. Only the first call counts. */
export async function abort(error: unknown, exitCode = 1): Promise<void> {
  if (aborting) return;
  aborting = true;
  process.stderr.write(`\n${current.name} FAILED: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  if (exitCode !== 130) for (const exit of unexpectedExits()) process.stderr.write(`\n${exit}\n`);
  await current.cleanUp();
  process.exit(exitCode);
}

export async function runBench(run: BenchRun, main: () => Promise<void>): Promise<void> {
  current = run;
  process.on("exit", () => {
    killAllNow();
    run.onExit?.();
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, () => void abort(new Error(`interrupted (${signal})`), 130));
  try {
    await main();
    await run.cleanUp();
    process.exit(0);
  } catch (error) {
    await abort(error);
  }
}
