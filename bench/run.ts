/**
 * The Sluice gateway benchmark: `npm run bench` (builds, then runs this file). bench/README.md
 * explains what it measures and how to read the numbers.
 *
 * Targets, all GET of Sean's record (/users/104) from the same upstream (bench/baselines/fixedUpstream.ts,
 * a fixed body), every one (but `direct` and `node-proxy`) checking `x-api-key` against the same
 * 10,000 keys and counting each request against a per-consumer limit that never refuses:
 *   direct           the upstream itself, no proxy
 *   floor            ../shared/bench/floor.mjs, run from the project root: the reference floor
 *   sluice           the gateway (dist/), memory store: request id, API key, route, limit, proxy
 *   sluice-redis     the same, limits in Redis (REDIS_URL, default the local server)
 *   nginx            NGINX (Debian package): map of keys, limit_req, keep-alive proxy_pass
 *   fastify-gateway  bench/baselines/fastifyGateway.ts: Fastify 5 + @fastify/http-proxy + @fastify/rate-limit
 *   express-gateway  bench/baselines/expressGateway.ts: Express 5 + http-proxy-middleware + rate-limiter-flexible
 *   fast-gateway     bench/baselines/fastGateway.ts: fast-gateway 3 (restana + fast-proxy-lite) + rate-limiter-flexible
 *   node-gateway     bench/baselines/nodeGateway.ts: node:http + undici + rate-limiter-flexible
 *   node-proxy       bench/baselines/nodeProxy.ts: node:http + undici, no key, no limit (the floor)
 * each with one key, and with 10,000 keys in rotation; then an open-loop phase (bench/openLoop/) at
 * a constant offered rate, reporting the latency each proxy adds over `direct`.
 *
 * Pinning (when taskset exists and there are 2+ cores): every proxy on core 0, alone; the upstream,
 * the load generator (wrk, bench/lib/wrk.ts) and this orchestrator on core 1. The proxies' CPU time
 * is read from /proc/<pid>/stat around each measured run.
 *
 * Environment: BENCH_CONNECTIONS (50), BENCH_DURATION (10 s), BENCH_WARMUP (2 s), BENCH_ROUNDS (3),
 * BENCH_TARGETS (all; a comma-separated list of names, `direct` always runs), BENCH_OPEN_RATE (5000; 0
 * skips the open loop), BENCH_OPEN_ONLY=1 (the open loop alone), REDIS_URL,
 * BENCH_QUICK=1 (1 round of 3 s after a 1 s warm-up, for smoke tests; the others still override it).
 */
import { deepStrictEqual } from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Redis } from "ioredis";
import { Agent, request } from "undici";
import { abort, runBench } from "./lib/benchMain.js";
import { canPin, CORES, LOAD_CORE, pin, SERVER_CORE, start, stopAll, type Child } from "./lib/children.js";
import { CLK_TCK, coreBusy, coreTimes, processCpuMicros, processTreeCpuMicros, reapedChildrenCpuMicros } from "./lib/cpu.js";
import { loadSettings, machineInfo, wantedTargets } from "./lib/environment.js";
import { gatewayConfig } from "./lib/gatewayConfig.js";
import { benchKey, KEY_COUNT } from "./lib/keys.js";
import { hasNginx, startNginx } from "./lib/nginx.js";
import { consoleTable, coreProblems, goalRows, keyScalingRows, markdownTable, markdownTableOf, median, textTable, type Summary } from "./lib/report.js";
import { READY_TIMEOUT_MS, startSluice } from "./lib/sluiceCli.js";
import { FLOOR, hasFloor, startFixedUpstream, startFloor } from "./lib/upstream.js";
import { hasWrk, problemsOf, wrk, type WrkResult } from "./lib/wrk.js";
import { adminClientOrWhy, KEY_PREFIX, redisCpuMicros, removeBenchKeys } from "./limiter/redis.js";
import type { OpenLoopResult } from "./openLoop/generator.js";
import { OPEN_LOOP_HEADER, openLoopCells, openLoopGoals, openLoopRate, openLoopRows, openLoopRun } from "./openLoop/openLoop.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const RESULTS = join(ROOT, "bench/results/latest.json");
const REDIS_URL = process.env["REDIS_URL"] || "redis://127.0.0.1:6379";

const PREFIX = "/api/users";
const PATH = "/users/104";
const SEAN = { user_id: 104, name: "Sean", segment: "ultra luxury" };
/** Targets of the open-loop phase: the ceiling, the floor, Sluice and the Node gateway products. */
const OPEN_LOOP_TARGETS = new Set(["direct", "floor", "sluice", "sluice-redis", "fastify-gateway", "fast-gateway"]);
/** Targets that do no gateway work: no key check, no limit. */
const PASS_THROUGH = new Set(["direct", "node-proxy"]);

const settings = loadSettings(50);
/** BENCH_OPEN_ONLY=1: the open-loop phase alone, no closed-loop rounds. */
const openOnly = process.env["BENCH_OPEN_ONLY"] === "1";
const wanted = wantedTargets("direct");

interface Target {
  readonly name: string;
  /** The full URL of Sean's record through this target. */
  readonly url: string;
  /** The process under test on core 0; undefined for `direct`. */
  readonly proxy: Child | undefined;
}

/** One key for every request, or all the bench's keys in turn. */
interface Scenario {
  readonly name: string;
  readonly keysFile: string;
}

interface Measurement {
  readonly round: number;
  readonly requests: number;
  readonly durationS: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly proxyCpuUsPerReq: number | undefined;
  readonly upstreamCpuUsPerReq: number;
  /** Redis server CPU per request (sluice-redis only). */
  readonly redisCpuUsPerReq: number | undefined;
  readonly coreBusy: readonly number[];
  /** Share of the run's wall time the proxy process itself was on the CPU (of its core); undefined for `direct`. */
  readonly proxyShare: number | undefined;
  /** Share of the run's wall time wrk, the upstream and this orchestrator were on the CPU (the load core's own work). */
  readonly loadShare: number;
  /** wrk's CPU per request, µs. */
  readonly wrkCpuUsPerReq: number;
  /** CPU ms of every proxy process during this run: the idle ones should be ~0 (isolation check). */
  readonly proxyCpuMs: Readonly<Record<string, number>>;
}

let tempDir: string | undefined;
let redis: Redis | undefined;

async function main(): Promise<void> {
  if (!hasWrk) throw new Error("wrk is not installed (apt-get install wrk): the bench's load generator");
  tempDir = mkdtempSync(join(tmpdir(), "sluice-bench-"));
  if (canPin) pin(process.pid, LOAD_CORE!);
  else skip("taskset or a second core is missing; running unpinned (numbers will be noisier)");

  const upstream = await startFixedUpstream(LOAD_CORE, READY_TIMEOUT_MS);
  const upstreamUrl = upstream.match;
  const scenarios = writeScenarios(tempDir);
  const proxies = await startProxies(upstreamUrl, scenarios[1]!.keysFile);
  const targets: Target[] = [
    { name: "direct", url: `${upstreamUrl}${PATH}`, proxy: undefined },
    ...proxies.map(({ name, started, prefix }) => ({ name, url: `${started.match}${prefix}${PATH}`, proxy: started.child })),
  ];

  const rounds = settings.rounds;
  const perRun = settings.warmupS + settings.durationS + 5;
  const openLoopTargets = openLoopRate > 0 ? targets.filter((t) => OPEN_LOOP_TARGETS.has(t.name)) : [];
  const budgetMs = (rounds * (scenarios.length + 1) * targets.length * perRun + 120) * 1000;
  setTimeout(() => void abort(new Error(`the bench exceeded its time budget of ${budgetMs / 1000} s`)), budgetMs).unref();

  say(`Sluice bench: ${settings.connections} connections, ${rounds} round(s) of ${settings.durationS} s after ${settings.warmupS} s warm-up; ` +
    `${canPin ? "proxies on core 0, upstream + wrk on core 1" : "unpinned"}; targets: ${targets.map((t) => t.name).join(", ")}\n`);
  await verify(targets);
  say(`correctness: every target answers 200 with Sean's record for keys 0, ${KEY_COUNT >> 1} and ${KEY_COUNT - 1}; every gateway refuses a missing and an unknown key (401)\n\n`);

  const runs = new Map<string, Measurement[]>();
  const label = (scenario: Scenario, target: Target) => `${scenario.name} | ${target.name}`;
  for (let round = 1; round <= (openOnly ? 0 : rounds); round++) {
    for (const scenario of scenarios) {
      for (const target of targets) {
        say(`round ${round}/${rounds}  ${scenario.name.padEnd(11)} ${target.name.padEnd(16)} `);
        const m = await measure(target, scenario, targets, upstream.child, round);
        runs.set(label(scenario, target), [...(runs.get(label(scenario, target)) ?? []), m]);
        say(`${Math.round(m.rps).toString().padStart(7)} req/s  p50 ${m.p50Ms.toFixed(2)} ms  p99 ${m.p99Ms.toFixed(2)} ms` +
          `${m.proxyCpuUsPerReq === undefined ? "" : `  proxy CPU ${m.proxyCpuUsPerReq.toFixed(0)} µs/req`}` +
          `${m.redisCpuUsPerReq === undefined ? "" : `  Redis CPU ${m.redisCpuUsPerReq.toFixed(0)} µs/req`}` +
          `  cores busy ${m.coreBusy.map((b) => `${Math.round(b * 100)}%`).join("/")}` +
          ` (gateway ${pct(m.proxyShare)}, load ${pct(m.loadShare)})\n`);
      }
    }
  }

  // Open loop: a constant offered rate, every key in rotation; what each proxy adds to direct's latency.
  const openRuns = new Map<string, OpenLoopResult[]>();
  if (openLoopTargets.length > 0) {
    say(`\nopen loop: ${openLoopRate.toLocaleString("en-US")} req/s offered, ${settings.durationS} s after ${settings.warmupS} s, every key in rotation\n`);
    for (let round = 1; round <= rounds; round++) {
      for (const target of openLoopTargets) {
        say(`round ${round}/${rounds}  open loop   ${target.name.padEnd(16)} `);
        const result = await openLoopRun(target, scenarios[1]!.keysFile, settings.durationS, settings.warmupS, LOAD_CORE);
        if (result.errors > 0) throw new Error(`${target.name}, open loop: ${result.errors} requests failed or answered ≥ 400${target.proxy ? `\n${target.proxy.output()}` : ""}`);
        openRuns.set(target.name, [...(openRuns.get(target.name) ?? []), result]);
        const l = result.latencyUs;
        say(`${Math.round(result.achievedRate).toString().padStart(7)} req/s  p50 ${(l.p50 / 1000).toFixed(2)} ms  p99 ${(l.p99 / 1000).toFixed(2)} ms  p99.9 ${(l.p999 / 1000).toFixed(2)} ms  max ${(l.max / 1000).toFixed(1)} ms\n`);
      }
    }
  }

  const machine = machineInfo(CORES);
  const date = new Date().toISOString();
  const byScenario = openOnly ? [] : scenarios.map((scenario) => {
    const directRps = median(runs.get(label(scenario, targets[0]!))!.map((m) => m.rps));
    const summaries = targets.map((t) => summarize(t, runs.get(label(scenario, t))!, directRps));
    return { scenario: scenario.name, summaries };
  });

  let markdown = `${date.slice(0, 10)}, ${machine.cores} cores (${machine.model}), Node ${machine.node}; wrk, ${settings.connections} connections, ` +
    `medians of ${rounds} × ${settings.durationS} s after ${settings.warmupS} s warm-up.\n`;
  for (const { scenario, summaries } of byScenario) {
    say(`\n${scenario}, medians of ${rounds} round(s):\n\n${consoleTable(summaries)}\n\n`);
    say(`Upstream CPU µs/req: ${summaries.map((s) => `${s.target} ${s.upstreamCpuUsPerReq.toFixed(0)}`).join(", ")}\n`);
    say(`wrk CPU µs/req: ${summaries.map((s) => `${s.target} ${s.wrkCpuUsPerReq.toFixed(1)}`).join(", ")}\n`);
    const redisRow = summaries.find((s) => s.redisCpuUsPerReq !== undefined);
    if (redisRow !== undefined) say(`Redis server CPU µs/req (sluice-redis, not in its gateway CPU): ${redisRow.redisCpuUsPerReq!.toFixed(1)}\n`);
    for (const s of summaries) {
      const problems = coreProblems(s);
      if (problems.length > 0) say(`⚠ ${s.target}: ${problems.join(", ")}: its CPU per request is not the proxy's alone at saturation\n`);
    }
    const goals = goalRows(summaries);
    if (goals.length > 0) say(`\nIssue 19's goals, ${scenario}:\n\n${textTable(GOAL_HEADER, goals)}\n`);
    markdown += `\n**${scenario}**\n\n${markdownTable(summaries)}\n${goals.length > 0 ? `\n${markdownTableOf(GOAL_HEADER, goals)}\n` : ""}`;
  }

  if (byScenario.length === 2) {
    const scaling = keyScalingRows(byScenario[0]!.summaries, byScenario[1]!.summaries);
    if (scaling.length > 0) {
      say(`\n${textTable(GOAL_HEADER, scaling)}\n`);
      markdown += `\n${markdownTableOf(GOAL_HEADER, scaling)}\n`;
    }
  }

  const openLoop = openRuns.size > 0 ? openLoopRows(openRuns) : [];
  if (openLoop.length > 0) {
    const cells = openLoopCells(openLoop);
    const goals = openLoopGoals(openLoop);
    say(`\nOpen loop, ${openLoopRate.toLocaleString("en-US")} req/s offered, medians of ${rounds} round(s):\n\n${textTable(OPEN_LOOP_HEADER, cells)}\n${goals.length > 0 ? `\n${textTable(GOAL_HEADER, goals)}\n` : ""}`);
    markdown += `\n**open loop, ${openLoopRate.toLocaleString("en-US")} req/s offered, 10,000 keys**\n\n${markdownTableOf(OPEN_LOOP_HEADER, cells)}\n${goals.length > 0 ? `\n${markdownTableOf(GOAL_HEADER, goals)}\n` : ""}`;
  }

  mkdirSync(dirname(RESULTS), { recursive: true });
  const record = { date, machine, settings: { ...settings, loadGenerator: "wrk", openLoopRate, pinned: canPin, clockTicksPerSecond: CLK_TCK }, scenarios: byScenario, runs: Object.fromEntries(runs), openLoop, openLoopRuns: Object.fromEntries(openRuns) };
  writeFileSync(RESULTS, `${JSON.stringify(record, (_key, value: unknown) => value ?? null, 2)}\n`);
  say(`\nResults written to ${RESULTS}\n\nMarkdown for bench/README.md:\n\n${markdown}`);
}

const GOAL_HEADER = ["goal (issue 19)", "measured", "goal", "met"];

function summarize(target: Target, ms: readonly Measurement[], directRps: number): Summary {
  const rps = median(ms.map((m) => m.rps));
  const redisCpu = ms.map((m) => m.redisCpuUsPerReq);
  return {
    target: target.name,
    rps,
    p50Ms: median(ms.map((m) => m.p50Ms)),
    p99Ms: median(ms.map((m) => m.p99Ms)),
    ratio: rps / directRps,
    proxyCpuUsPerReq: target.proxy === undefined ? undefined : median(ms.map((m) => m.proxyCpuUsPerReq ?? Number.NaN)),
    upstreamCpuUsPerReq: median(ms.map((m) => m.upstreamCpuUsPerReq)),
    redisCpuUsPerReq: redisCpu[0] === undefined ? undefined : median(redisCpu.map((c) => c ?? Number.NaN)),
    coreBusy: (ms[0]?.coreBusy ?? []).map((_, core) => median(ms.map((m) => m.coreBusy[core] ?? Number.NaN))),
    proxyShare: target.proxy === undefined ? undefined : median(ms.map((m) => m.proxyShare ?? Number.NaN)),
    loadShare: median(ms.map((m) => m.loadShare)),
    wrkCpuUsPerReq: median(ms.map((m) => m.wrkCpuUsPerReq)),
  };
}

/**
 * Every proxy under test, pinned to core 0; the ones that cannot run here are skipped, saying why.
 * `prefix`: what the target's URL has before the upstream's path (the floor forwards the path as is).
 */
async function startProxies(upstreamUrl: string, allKeysFile: string): Promise<{ name: string; prefix: string; started: { child: Child; match: string } }[]> {
  const dir = tempDir!;
  const baselineEnv = { UPSTREAM: upstreamUrl, PORT: "0", HOST: "127.0.0.1" };
  const baseline = (name: string, file: string) => () =>
    start({ name, args: ["--import", "tsx", join(ROOT, "bench/baselines", file)], core: SERVER_CORE, env: baselineEnv, ready: /is ready at (http:\/\/\S+)/, timeoutMs: READY_TIMEOUT_MS });
  const sluice = (name: string, store: "memory" | "redis", env: NodeJS.ProcessEnv = {}) => () =>
    startSluice({ name, dir, config: gatewayConfig(upstreamUrl, store === "memory" ? { store } : { store, keyPrefix: `${KEY_PREFIX}gateway:` }), core: SERVER_CORE, env });

  const candidates: { name: string; prefix?: string; start: () => Promise<{ child: Child; match: string }>; missing?: () => Promise<string | undefined> }[] = [
    { name: "floor", prefix: "", start: () => startFloor(upstreamUrl, allKeysFile, SERVER_CORE, READY_TIMEOUT_MS), missing: () => Promise.resolve(hasFloor ? undefined : `${FLOOR} is not there`) },
    { name: "sluice", start: sluice("sluice", "memory") },
    { name: "sluice-redis", start: sluice("sluice-redis", "redis", { REDIS_URL }), missing: redisMissing },
    { name: "nginx", start: () => startNginx(join(dir, "nginx"), upstreamUrl, PREFIX, SERVER_CORE, READY_TIMEOUT_MS), missing: () => Promise.resolve(hasNginx ? undefined : "/usr/sbin/nginx is not installed") },
    { name: "fastify-gateway", start: baseline("fastify-gateway", "fastifyGateway.ts") },
    { name: "express-gateway", start: baseline("express-gateway", "expressGateway.ts") },
    { name: "fast-gateway", start: baseline("fast-gateway", "fastGateway.ts") },
    { name: "node-gateway", start: baseline("node-gateway", "nodeGateway.ts") },
    { name: "node-proxy", start: baseline("node-proxy", "nodeProxy.ts") },
  ];
  const started = [];
  // One at a time: start-up (a gateway opening its database, tsx compiling a baseline) is CPU work.
  for (const candidate of candidates.filter((c) => wanted(c.name))) {
    const why = await candidate.missing?.();
    if (why !== undefined) {
      skip(`skipping ${candidate.name}: ${why}`);
      continue;
    }
    started.push({ name: candidate.name, prefix: candidate.prefix ?? PREFIX, started: await candidate.start() });
  }
  return started;
}

/** Why the Redis target cannot run, or undefined when Redis answers (the admin client is kept for clean-up and INFO). */
async function redisMissing(): Promise<string | undefined> {
  const reached = await adminClientOrWhy(REDIS_URL);
  if ("why" in reached) return reached.why;
  redis = reached.client;
  return undefined;
}

/** The two key files wrk reads: key 0 alone, and every key. */
function writeScenarios(dir: string): Scenario[] {
  const one = join(dir, "one-key.txt");
  const all = join(dir, "all-keys.txt");
  writeFileSync(one, `${benchKey(0)}\n`);
  writeFileSync(all, `${Array.from({ length: KEY_COUNT }, (_, i) => benchKey(i)).join("\n")}\n`);
  return [
    { name: "one key", keysFile: one },
    { name: `${KEY_COUNT.toLocaleString("en-US")} keys`, keysFile: all },
  ];
}

/** One target, one round: an uncounted warm-up, then the measured run with CPU time read around it. */
async function measure(target: Target, scenario: Scenario, all: readonly Target[], upstream: Child, round: number): Promise<Measurement> {
  if (settings.warmupS > 0) check(target, await load(target, scenario, settings.warmupS), "warm-up");
  const proxies = all.flatMap((t) => (t.proxy === undefined ? [] : [t.proxy]));
  const withRedis = target.name === "sluice-redis" && redis !== undefined;
  const redisBefore = withRedis ? await redisCpuMicros(redis!) : 0;
  const proxiesBefore = proxies.map((p) => processTreeCpuMicros(p.pid));
  const upstreamBefore = processCpuMicros(upstream.pid);
  const selfBefore = process.cpuUsage();
  const wrkBefore = reapedChildrenCpuMicros();
  const coresBefore = coreTimes();
  const result = await load(target, scenario, settings.durationS);
  const coresAfter = coreTimes();
  const wrkCpu = reapedChildrenCpuMicros() - wrkBefore;
  const selfCpu = process.cpuUsage(selfBefore);
  const proxiesAfter = proxies.map((p) => processTreeCpuMicros(p.pid));
  const upstreamAfter = processCpuMicros(upstream.pid);
  const redisAfter = withRedis ? await redisCpuMicros(redis!) : 0;
  check(target, result, "measured run");
  const requests = result.requests;
  const durationS = result.durationUs / 1e6;
  const own = target.proxy === undefined ? -1 : proxies.indexOf(target.proxy);
  return {
    round,
    requests,
    durationS,
    rps: requests / durationS,
    p50Ms: result.latencyUs.p50 / 1000,
    p99Ms: result.latencyUs.p99 / 1000,
    proxyCpuUsPerReq: own === -1 ? undefined : (proxiesAfter[own]! - proxiesBefore[own]!) / requests,
    upstreamCpuUsPerReq: (upstreamAfter - upstreamBefore) / requests,
    redisCpuUsPerReq: withRedis ? (redisAfter - redisBefore) / requests : undefined,
    coreBusy: coreBusy(coresBefore, coresAfter),
    proxyShare: own === -1 ? undefined : (proxiesAfter[own]! - proxiesBefore[own]!) / result.durationUs,
    loadShare: (wrkCpu + upstreamAfter - upstreamBefore + selfCpu.user + selfCpu.system) / result.durationUs,
    wrkCpuUsPerReq: wrkCpu / requests,
    proxyCpuMs: Object.fromEntries(proxies.map((p, i) => [p.name, (proxiesAfter[i]! - proxiesBefore[i]!) / 1000])),
  };
}

function load(target: Target, scenario: Scenario, seconds: number): Promise<WrkResult> {
  return wrk({ name: `${target.name}, ${scenario.name}`, url: target.url, keysFile: scenario.keysFile, connections: settings.connections, seconds, core: LOAD_CORE });
}

function check(target: Target, result: WrkResult, what: string): void {
  const problems = problemsOf(result);
  if (problems.length > 0) {
    const output = target.proxy ? `\n--- ${target.proxy.name} output ---\n${target.proxy.output()}` : "";
    throw new Error(`${target.name} ${what}: ${problems.join(", ")}${output}`);
  }
}

/** Before measuring anything: every target returns Sean for any of the keys, and every gateway really checks keys. */
async function verify(targets: readonly Target[]): Promise<void> {
  const agent = new Agent({ connections: 1 });
  try {
    const get = async (url: string, headers: Record<string, string>) => {
      const { statusCode, headers: h, body } = await request(url, { dispatcher: agent, headers, headersTimeout: 5_000, bodyTimeout: 5_000 });
      return { status: statusCode, headers: h, text: await body.text() };
    };
    for (const target of targets) {
      for (const i of [0, KEY_COUNT >> 1, KEY_COUNT - 1]) {
        const res = await get(target.url, { "x-api-key": benchKey(i) });
        if (res.status !== 200) throw new Error(`${target.name}: GET ${target.url} with key ${i} answered ${res.status}: ${res.text}`);
        try {
          deepStrictEqual(JSON.parse(res.text), SEAN);
        } catch {
          throw new Error(`${target.name}: GET ${target.url} answered ${res.text}, not Sean's record`);
        }
        if (target.name.startsWith("sluice") && res.headers["ratelimit"] === undefined) {
          throw new Error(`${target.name}: the response has no RateLimit header; is the limit stage running?`);
        }
      }
      if (PASS_THROUGH.has(target.name)) continue;
      for (const headers of [{}, { "x-api-key": "bench-key-unknown" }]) {
        const refused = await get(target.url, headers);
        if (refused.status !== 401) throw new Error(`${target.name}: a request with ${JSON.stringify(headers)} answered ${refused.status}, not 401`);
      }
    }
  } finally {
    await agent.close();
  }
}

function pct(fraction: number | undefined): string {
  return fraction === undefined || !Number.isFinite(fraction) ? "?" : `${Math.round(fraction * 100)}%`;
}

function say(text: string): void {
  process.stdout.write(text);
}

function skip(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

async function cleanUp(): Promise<void> {
  await stopAll();
  if (redis !== undefined) {
    await removeBenchKeys(redis).catch((error: unknown) => skip(`could not remove the bench's Redis keys (${KEY_PREFIX}*): ${String(error)}`));
    redis.disconnect();
    redis = undefined;
  }
  removeTempDir();
}

function removeTempDir(): void {
  if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
  tempDir = undefined;
}

await runBench({ name: "bench", cleanUp, onExit: removeTempDir }, main);
