/**
 * Runs the built `sluice` command (dist/cli/sluice.js) as a real child process, the way a user
 * does, and waits for its "ready" line. `npm run test:e2e` builds dist/ first. Each process gets
 * an embedded database of its own (a copy of a migrated one), unless the test names one.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { TEST_ENGINES } from "./databases.js";

export const CLI = fileURLToPath(new URL("../../dist/cli/sluice.js", import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SOURCE_CLI = fileURLToPath(new URL("../../src/cli/sluice.ts", import.meta.url));

export interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface SluiceProcess {
  readonly url: string;
  readonly child: ChildProcess;
  output(): { stdout: string; stderr: string };
  /** Sends SIGTERM and resolves with how the process ended. */
  stop(): Promise<Finished>;
}

/** Runs the CLI to completion (for commands that exit by themselves), with a time bound. */
export async function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 15_000): Promise<Finished> {
  const child = spawnCli(args, { ...(await databaseEnv(env)), ...env });
  const finished = collect(child);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const result = await finished;
  clearTimeout(timer);
  return result;
}

/**
 * Starts `sluice start …` on a free port and resolves once it prints that it is ready. With
 * `fromSource`, the command runs from src/ through tsx, for suites that run before dist/ is built.
 */
export async function startCli(args: readonly string[] = [], env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000, { fromSource = false } = {}): Promise<SluiceProcess> {
  const child = spawnCli(["start", ...args], { PORT: "0", ...(await databaseEnv(env)), ...env }, fromSource);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const finished = collect(child);

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(`not ready within ${timeoutMs} ms`), timeoutMs);
    const poll = setInterval(() => {
      const match = /Sluice is ready at (http:\/\/\S+)/.exec(stdout);
      if (match) done(() => resolve(match[1]!));
    }, 20);
    void finished.then((f) => fail(`exited early with code ${f.code}`));
    function done(then: () => void) {
      clearTimeout(timer);
      clearInterval(poll);
      then();
    }
    function fail(why: string) {
      done(() => reject(new Error(`sluice ${why}\nstdout:\n${stdout}\nstderr:\n${stderr}`)));
      child.kill("SIGKILL");
    }
  });

  return {
    url,
    child,
    output: () => ({ stdout, stderr }),
    stop: () => {
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      child.kill("SIGTERM");
      return finished.then((f) => {
        clearTimeout(timer);
        return f;
      });
    },
  };
}

/** A database of the process's own, unless the test names one. */
async function databaseEnv(env: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  return env["SLUICE_DATA_DIR"] !== undefined || env["DATABASE_URL"] !== undefined ? {} : { SLUICE_DATA_DIR: await freshDataDir() };
}

/** A directory holding a migrated embedded database nobody else uses; removed when the test file ends. */
export async function freshDataDir(): Promise<string> {
  const { dataDir } = await TEST_ENGINES.find((engine) => engine.name === "embedded")!.fresh();
  return dataDir!;
}

function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv, fromSource = false) {
  return spawn(process.execPath, [...(fromSource ? ["--import", "tsx", SOURCE_CLI] : [CLI]), ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env["PATH"], LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function collect(child: ChildProcess): Promise<Finished> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
}
