/**
 * The load generator: wrk (C, one thread, pinned with the upstream), driven by rotateKeys.lua so
 * every request carries the next API key of a file. Why wrk and not autocannon: on the shared core
 * it costs a few µs of CPU per request where autocannon, a Node process, costs about 12, so the
 * upstream's core is less of a ceiling; its latency histogram has µs resolution (autocannon's,
 * whole ms); and rotating 10,000 keys is a table lookup in Lua, formatted once, not a
 * `setupRequest` callback per request.
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { pinnedCommand, runProgram } from "./children.js";

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "rotateKeys.lua");

export const hasWrk: boolean = spawnSync("wrk", ["-v"], { stdio: "ignore" }).error === undefined;

/** What rotateKeys.lua's done() prints. */
export interface WrkResult {
  readonly requests: number;
  readonly durationUs: number;
  /** `status`: responses with a status ≥ 400. */
  readonly errors: { readonly connect: number; readonly read: number; readonly write: number; readonly status: number; readonly timeout: number };
  readonly latencyUs: { readonly p50: number; readonly p99: number; readonly max: number };
}

export interface LoadOptions {
  /** For error messages. */
  readonly name: string;
  readonly url: string;
  /** A file of API keys, one per line, sent round-robin. */
  readonly keysFile: string;
  readonly connections: number;
  readonly seconds: number;
  readonly core: number | undefined;
}

/** One wrk run; rejects when wrk fails or prints no result. */
export async function wrk(options: LoadOptions): Promise<WrkResult> {
  const args = ["-t1", `-c${options.connections}`, `-d${options.seconds}s`, "--timeout", "5s", "-s", SCRIPT, options.url, "--", options.keysFile];
  const [command, argv] = pinnedCommand("wrk", args, options.core);
  const stdout = await runProgram(`wrk (${options.name})`, command, argv, (options.seconds + 30) * 1000);
  const line = stdout.split("\n").reverse().find((l) => l.startsWith("{"));
  if (line === undefined) throw new Error(`wrk printed no JSON result for ${options.name}:\n${stdout}`);
  return JSON.parse(line) as WrkResult;
}

/** Every way a run can go wrong, as readable phrases; empty when it went right. */
export function problemsOf(result: WrkResult): string[] {
  const { connect, read, write, status, timeout } = result.errors;
  return [
    status > 0 && `${status} responses with status ≥ 400`,
    connect > 0 && `${connect} connect errors`,
    read > 0 && `${read} read errors`,
    write > 0 && `${write} write errors`,
    timeout > 0 && `${timeout} timeouts`,
    result.requests === 0 && "no completed requests",
  ].filter((p): p is string => typeof p === "string");
}
