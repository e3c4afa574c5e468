/**
 * Where the gateway's CPU goes: `npm run bench:profile` (builds, then runs this file) starts the
 * demo users upstream and Sluice with the bench's config (memory store), the gateway under
 * `node --cpu-prof`, pinned as in bench/run.ts; loads it with wrk and one key for a warm-up and a
 * measured run; stops it (the profile is written on exit); and prints the measured run's CPU by
 * part of the process (node:http, undici, each stage, the limiter, logging…), by function and by
 * file, with µs per request from the gateway's own CPU time. The profile is kept in
 * bench/results/sluice-gateway.cpuprofile: open it in Chrome DevTools (Performance) or
 * https://www.speedscope.app for a flame graph.
 *
 *   npm run bench:profile                                                   # 10 s after a 2 s warm-up
 *   BENCH_QUICK=1 npm run bench:profile                                     # 3 s after 1 s
 *   node --import tsx bench/profile.ts bench/results/sluice-gateway.cpuprofile   # analyse a profile again
 *
 * Environment: BENCH_CONNECTIONS (50), BENCH_DURATION, BENCH_WARMUP, BENCH_PROFILE_TARGET (sluice, or
 * floor), BENCH_PROFILE_KEYS (1; 10000 rotates the bench's keys), BENCH_PROFILE_STORE (memory, or redis), BENCH_PROFILE_INTERVAL (µs
 * between samples, 250), BENCH_PROFILE_TOP (functions listed, 30).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { canPin, killAllNow, LOAD_CORE, pin, SERVER_CORE, stopAll } from "./lib/children.js";
import { processTreeCpuMicros } from "./lib/cpu.js";
import { summarizeProfile, type CpuProfile, type ProfileSummary, type Share } from "./lib/cpuProfile.js";
import { envInt } from "./lib/environment.js";
import { gatewayConfig } from "./lib/gatewayConfig.js";
import { benchKey, KEY_COUNT } from "./lib/keys.js";
import { textTable } from "./lib/report.js";
import { READY_TIMEOUT_MS, startSluice } from "./lib/sluiceCli.js";
import { startFixedUpstream, startFloor } from "./lib/upstream.js";
import { hasWrk, problemsOf, wrk } from "./lib/wrk.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const KEPT = join(ROOT, `bench/results/${process.env["BENCH_PROFILE_TARGET"] === "floor" ? "floor" : "sluice-gateway"}.cpuprofile`);
const URL_PATH = "/api/users/users/104";
/** The floor forwards the path as it comes. */
const FLOOR_PATH = "/users/104";

const quick = process.env["BENCH_QUICK"] === "1";
const settings = {
  connections: envInt("BENCH_CONNECTIONS", 50, 1),
  durationS: envInt("BENCH_DURATION", quick ? 3 : 10, 1),
  warmupS: envInt("BENCH_WARMUP", quick ? 1 : 2, 0),
  intervalUs: envInt("BENCH_PROFILE_INTERVAL", 250, 10),
  /** BENCH_PROFILE_TARGET=floor: profile the reference floor (../shared/bench/floor.mjs) instead of Sluice, to compare. */
  target: process.env["BENCH_PROFILE_TARGET"] === "floor" ? "floor" as const : "sluice" as const,
  /** BENCH_PROFILE_KEYS=10000: the bench's 10,000 keys in rotation instead of one key. */
  keys: envInt("BENCH_PROFILE_KEYS", 1, 1),
  /** BENCH_PROFILE_STORE=redis: limits in Redis (REDIS_URL, default the local server), as the bench's sluice-redis. */
  store: process.env["BENCH_PROFILE_STORE"] === "redis" ? "redis" as const : "memory" as const,
  top: envInt("BENCH_PROFILE_TOP", 30, 1),
};

/** The load window and what the gateway did in it, to turn shares into µs per request. */
interface Window {
  readonly fromUs: number;
  readonly toUs: number;
  readonly requests: number;
  readonly cpuUsPerReq: number;
}

let tempDir: string | undefined;

async function profileGateway(): Promise<{ profile: CpuProfile; window: Window }> {
  if (!hasWrk) throw new Error("wrk is not installed (apt-get install wrk)");
  tempDir = mkdtempSync(join(tmpdir(), "sluice-profile-"));
  if (canPin) pin(process.pid, LOAD_CORE!);
  const upstream = await startFixedUpstream(LOAD_CORE, READY_TIMEOUT_MS);
  const profileDir = join(tempDir, "profile");
  const nodeArgs = ["--cpu-prof", "--cpu-prof-dir", profileDir, "--cpu-prof-interval", String(settings.intervalUs)];
  const keysFile = join(tempDir, "keys.txt");
  writeFileSync(keysFile, `${Array.from({ length: Math.min(settings.keys, KEY_COUNT) }, (_, i) => benchKey(i)).join("\n")}\n`);
  const allKeysFile = join(tempDir, "all-keys.txt");
  writeFileSync(allKeysFile, `${Array.from({ length: KEY_COUNT }, (_, i) => benchKey(i)).join("\n")}\n`);
  const gateway = settings.target === "floor"
    ? await startFloor(upstream.match, allKeysFile, SERVER_CORE, READY_TIMEOUT_MS, nodeArgs)
    : await startSluice({
      name: "sluice",
      dir: tempDir,
      config: gatewayConfig(upstream.match, settings.store === "redis" ? { store: "redis", keyPrefix: `sluice-profile-${process.pid}:` } : { store: "memory" }),
      core: SERVER_CORE,
      ...(settings.store === "redis" && { env: { REDIS_URL: process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379" } }),
      nodeArgs,
    });
  const urlPath = settings.target === "floor" ? FLOOR_PATH : URL_PATH;
  const load = async (seconds: number) => {
    const result = await wrk({ name: settings.target, url: `${gateway.match}${urlPath}`, keysFile, connections: settings.connections, seconds, core: LOAD_CORE });
    const problems = problemsOf(result);
    if (problems.length > 0) throw new Error(`sluice: ${problems.join(", ")}\n${gateway.child.output()}`);
    return result;
  };
  say(`profiling ${settings.target}${settings.target === "sluice" ? ` (${settings.store} store)` : ""}, ${settings.keys === 1 ? "one key" : `${Math.min(settings.keys, KEY_COUNT)} keys`}, on ${canPin ? "core 0" : "any core"}: ${settings.warmupS} s warm-up, ${settings.durationS} s measured, a sample every ${settings.intervalUs} µs\n`);
  if (settings.warmupS > 0) await load(settings.warmupS);
  const cpuBefore = processTreeCpuMicros(gateway.child.pid);
  // process.hrtime and V8's profile clock are both CLOCK_MONOTONIC, in ns and µs.
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const result = await load(settings.durationS);
  const toUs = Number(process.hrtime.bigint() / 1000n);
  const cpuUsPerReq = (processTreeCpuMicros(gateway.child.pid) - cpuBefore) / result.requests;
  say(`${Math.round(result.requests / (result.durationUs / 1e6))} req/s under the profiler, gateway CPU ${cpuUsPerReq.toFixed(1)} µs/req (the profiler's own cost included)\n`);
  await stopAll();
  const file = readdirSync(profileDir).find((f) => f.endsWith(".cpuprofile"));
  if (file === undefined) throw new Error(`the gateway wrote no profile in ${profileDir}; did it exit cleanly?\n${gateway.child.output()}`);
  mkdirSync(dirname(KEPT), { recursive: true });
  copyFileSync(join(profileDir, file), KEPT);
  return { profile: JSON.parse(readFileSync(KEPT, "utf8")) as CpuProfile, window: { fromUs, toUs, requests: result.requests, cpuUsPerReq } };
}

function report(profile: CpuProfile, window: Window | undefined): void {
  let summary: ProfileSummary;
  if (window !== undefined && window.fromUs >= profile.startTime && window.toUs <= profile.endTime) {
    summary = summarizeProfile(profile, window.fromUs, window.toUs);
  } else {
    if (window !== undefined) say("(the load window is not within the profile's clock; the whole profile is analysed, start-up included)\n");
    summary = summarizeProfile(profile);
  }
  // Per request: the measured CPU split by share; without a measurement, the profile's busy time per request is unknown.
  const perReq = (s: Share) => (window === undefined ? "" : (s.share * window.cpuUsPerReq).toFixed(1));
  const rows = (shares: readonly Share[], limit: number) => shares.slice(0, limit).map((s) => [s.name, `${(s.share * 100).toFixed(1)} %`, perReq(s)]);
  const header = (what: string) => [what, "of busy CPU", window === undefined ? "" : "µs/req"];
  say(`\n${summary.samples} samples, ${(summary.windowUs / 1e6).toFixed(1)} s, busy ${(summary.busyUs / 1e6).toFixed(2)} s (${((summary.busyUs / summary.windowUs) * 100).toFixed(0)} %)\n`);
  say(`\nSelf time by part:\n\n${textTable(header("part"), rows(summary.byPart, 40))}\n`);
  say(`\nThe pipeline, inclusive (a stage with everything it calls):\n\n${textTable(header("function"), rows(summary.inclusive, 20))}\n`);
  say(`\nSelf time by function, top ${settings.top}:\n\n${textTable(header("function"), rows(summary.byFunction, settings.top))}\n`);
  say(`\nSelf time by file, top 20:\n\n${textTable(header("file"), rows(summary.byFile, 20))}\n`);
}

function say(text: string): void {
  process.stdout.write(text);
}

function removeTempDir(): void {
  if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
  tempDir = undefined;
}

process.on("exit", () => {
  killAllNow();
  removeTempDir();
});

try {
  const given = process.argv[2];
  if (given !== undefined) {
    report(JSON.parse(readFileSync(given, "utf8")) as CpuProfile, undefined);
  } else {
    const { profile, window } = await profileGateway();
    report(profile, window);
    say(`\nProfile kept in ${KEPT} (Chrome DevTools → Performance → Load profile, or speedscope.app)\n`);
  }
  process.exit(0);
} catch (error) {
  process.stderr.write(`\nprofile FAILED: ${error instanceof Error ? error.message : String(error)}\n`);
  await stopAll();
  process.exit(1);
}
