/**
 * The Sluice benchmark: `npm run bench` (builds, then runs this file). bench/README.md explains
 * what it measures and how to read the numbers.
 *
 * Targets, all GET of Sean's record (/users/104) from the same demo users upstream:
 *   direct         the upstream itself, no proxy
 *   sluice         the gateway (dist/), full pipeline: request id, API key, route, limit, proxy
 *   sluice-db-key  the same gateway process, called with a key from its accounts database (cached)
 *   fastify-proxy  bench/baselines/fastifyProxy.ts: bare Fastify 5 + undici, no auth, no limit
 *   node-proxy     bench/baselines/nodeProxy.ts: bare node:http + undici, no auth, no limit
 *
 * Pinning (when taskset exists and there are 2+ cores): every proxy on core 0, alone; the upstream,
 * the load generator (autocannon, its own process) and this orchestrator on core 1. The proxies'
 * CPU time is read from /proc/<pid>/stat around each measured run.
 *
 * Environment: BENCH_CONNECTIONS (50), BENCH_DURATION (10 s), BENCH_WARMUP (2 s), BENCH_ROUNDS (3),
 * BENCH_QUICK=1 (1 round of 3 s after a 1 s warm-up, for smoke tests; the others still override it).
 */
import { deepStrictEqual } from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Agent, request } from "undici";
import { openAccounts } from "../src/accounts/accounts.js";
import { openDatabase } from "../src/db/openDatabase.js";
import { hasTaskset, killAllNow, pin, run, start, stopAll, unexpectedExits, type Child } from "./lib/children.js";
import { CLK_TCK, coreBusy, coreTimes, processCpuMicros } from "./lib/cpu.js";
import { envInt, machineInfo } from "./lib/environment.js";
import { consoleTable, markdownTable, median, type Summary } from "./lib/report.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const CLI = join(ROOT, "dist/cli/sluice.js");
const AUTOCANNON = createRequire(import.meta.url).resolve("autocannon");
const RESULTS = join(ROOT, "bench/results/latest.json");

const API_KEY = "bench-key-0001";
const PATH = "/users/104";
const SEAN = { user_id: 104, name: "Sean", segment: "ultra luxury" };
const READY_TIMEOUT_MS = 20_000;

const quick = process.env["BENCH_QUICK"] === "1";
const settings = {
  connections: envInt("BENCH_CONNECTIONS", 50, 1),
  durationS: envInt("BENCH_DURATION", quick ? 3 : 10, 1),
  warmupS: envInt("BENCH_WARMUP", quick ? 1 : 2, 0),
  rounds: envInt("BENCH_ROUNDS", quick ? 1 : 3, 1),
};

/** Cores this process may use, read before it pins itself (after that, nproc would say 1). */
const CORES = availableParallelism();
const canPin = hasTaskset && CORES >= 2;
const PROXY_CORE = canPin ? 0 : undefined;
const LOAD_CORE = canPin ? 1 : undefined;

interface Target {
  readonly name: string;
  readonly url: string;
  /** The x-api-key every request of this target sends. */
  readonly key: string;
  /** The process under test on core 0; undefined for `direct`. */
  readonly proxy: Child | undefined;
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
  readonly coreBusy: readonly number[];
  /** CPU ms of every proxy process during this run: the idle ones should be ~0 (isolation check). */
  readonly proxyCpuMs: Readonly<Record<string, number>>;
}

/** The fields of autocannon's --json result that the bench reads. */
interface AutocannonResult {
  readonly duration: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly mismatches: number;
  readonly resets: number;
  readonly "2xx": number;
  readonly latency: { readonly p50: number; readonly p99: number };
  readonly requests: { readonly total: number; readonly average: number };
}

let tempDir: string | undefined;

async function main(): Promise<void> {
  const rounds = settings.rounds;
  const perRun = settings.warmupS + settings.durationS + 5;
  const budgetMs = (rounds * 5 * perRun + 90) * 1000;
  setTimeout(() => void abort(new Error(`the bench exceeded its time budget of ${budgetMs / 1000} s`)), budgetMs).unref();

  if (canPin) pin(process.pid, LOAD_CORE!);
  else process.stderr.write("bench: taskset or a second core is missing; running unpinned (numbers will be noisier)\n");
  say(`Sluice bench: ${settings.connections} connections, ${settings.rounds} round(s) of ${settings.durationS} s after ${settings.warmupS} s warm-up; ` +
    `${canPin ? "proxies on core 0, upstream + autocannon on core 1" : "unpinned"}\n`);

  const upstream = await start({
    name: "users upstream",
    args: [CLI, "demo", "users", "--port", "0"],
    core: LOAD_CORE,
    ready: /users: (http:\/\/\S+)/,
    timeoutMs: READY_TIMEOUT_MS,
  });
  const upstreamUrl = upstream.match;

  tempDir = mkdtempSync(join(tmpdir(), "sluice-bench-"));
  const configFile = join(tempDir, "gateway.yaml");
  writeFileSync(configFile, gatewayConfig(upstreamUrl));
  // The gateway's own embedded database, with one user and key in it, made before it starts (one
  // process at a time may open it).
  const dataDir = join(tempDir, "data");
  const databaseKey = await createDatabaseKey(dataDir);

  const baselineEnv = { UPSTREAM: upstreamUrl, PORT: "0", HOST: "127.0.0.1" };
  const [gateway, fastifyProxy, nodeProxy] = await Promise.all([
    start({ name: "sluice", args: [CLI, "start", "--config", configFile], core: PROXY_CORE, env: { LOG_LEVEL: "warn", SLUICE_DATA_DIR: dataDir }, ready: /Sluice is ready at (http:\/\/\S+)/, timeoutMs: READY_TIMEOUT_MS }),
    start({ name: "fastify-proxy", args: ["--import", "tsx", join(ROOT, "bench/baselines/fastifyProxy.ts")], core: PROXY_CORE, env: baselineEnv, ready: /is ready at (http:\/\/\S+)/, timeoutMs: READY_TIMEOUT_MS }),
    start({ name: "node-proxy", args: ["--import", "tsx", join(ROOT, "bench/baselines/nodeProxy.ts")], core: PROXY_CORE, env: baselineEnv, ready: /is ready at (http:\/\/\S+)/, timeoutMs: READY_TIMEOUT_MS }),
  ]);

  const targets: Target[] = [
    { name: "direct", url: `${upstreamUrl}${PATH}`, key: API_KEY, proxy: undefined },
    { name: "sluice", url: `${gateway.match}/api/users${PATH}`, key: API_KEY, proxy: gateway.child },
    { name: "sluice-db-key", url: `${gateway.match}/api/users${PATH}`, key: databaseKey, proxy: gateway.child },
    { name: "fastify-proxy", url: `${fastifyProxy.match}/api/users${PATH}`, key: API_KEY, proxy: fastifyProxy.child },
    { name: "node-proxy", url: `${nodeProxy.match}/api/users${PATH}`, key: API_KEY, proxy: nodeProxy.child },
  ];

  await verify(targets);
  say("correctness: every target answers 200 with Sean's record; sluice refuses a request without a key (401)\n\n");

  const runs = new Map<string, Measurement[]>(targets.map((t) => [t.name, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const target of targets) {
      say(`round ${round}/${rounds}  ${target.name.padEnd(14)} `);
      const m = await measure(target, targets, upstream.child, round);
      runs.get(target.name)!.push(m);
      say(`${Math.round(m.rps).toString().padStart(7)} req/s  p50 ${m.p50Ms} ms  p99 ${m.p99Ms} ms` +
        `${m.proxyCpuUsPerReq === undefined ? "" : `  proxy CPU ${m.proxyCpuUsPerReq.toFixed(0)} µs/req`}` +
        `  cores busy ${m.coreBusy.map((b) => `${Math.round(b * 100)}%`).join("/")}\n`);
    }
  }

  const directRps = median(runs.get("direct")!.map((m) => m.rps));
  const summaries: Summary[] = targets.map((t) => {
    const ms = runs.get(t.name)!;
    const rps = median(ms.map((m) => m.rps));
    return {
      target: t.name,
      rps,
      p50Ms: median(ms.map((m) => m.p50Ms)),
      p99Ms: median(ms.map((m) => m.p99Ms)),
      ratio: rps / directRps,
      proxyCpuUsPerReq: t.proxy === undefined ? undefined : median(ms.map((m) => m.proxyCpuUsPerReq ?? Number.NaN)),
      upstreamCpuUsPerReq: median(ms.map((m) => m.upstreamCpuUsPerReq)),
      coreBusy: (ms[0]?.coreBusy ?? []).map((_, core) => median(ms.map((m) => m.coreBusy[core] ?? Number.NaN))),
    };
  });

  const machine = machineInfo(CORES);
  say(`\nMedians of ${rounds} round(s):\n\n${consoleTable(summaries)}\n\n`);
  say(`Core 1 (upstream + autocannon) busy, median per target: ${summaries.map((s) => `${s.target} ${pct(s.coreBusy[1])}`).join(", ")}\n`);
  say(`Core 0 (proxy) busy: ${summaries.filter((s) => s.proxyCpuUsPerReq !== undefined).map((s) => `${s.target} ${pct(s.coreBusy[0])}`).join(", ")}\n`);
  say(`Upstream CPU µs/req: ${summaries.map((s) => `${s.target} ${s.upstreamCpuUsPerReq.toFixed(0)}`).join(", ")}\n\n`);

  mkdirSync(dirname(RESULTS), { recursive: true });
  const date = new Date().toISOString();
  writeFileSync(RESULTS, `${JSON.stringify({ date, machine, settings: { ...settings, pinned: canPin, clockTicksPerSecond: CLK_TCK }, summaries, runs: Object.fromEntries(runs) }, (_key, value: unknown) => value ?? null, 2)}\n`);
  say(`Results written to ${RESULTS}\n\nMarkdown for bench/README.md:\n\n`);
  say(`${date.slice(0, 10)}, ${machine.cores} cores (${machine.model}), Node ${machine.node}; ${settings.connections} connections, ` +
    `medians of ${rounds} × ${settings.durationS} s after ${settings.warmupS} s warm-up.\n\n${markdownTable(summaries)}\n`);
}

/** One target, one round: an uncounted warm-up, then the measured run with CPU time read around it. */
async function measure(target: Target, all: readonly Target[], upstream: Child, round: number): Promise<Measurement> {
  if (settings.warmupS > 0) check(target, await autocannon(target, settings.warmupS), "warm-up");
  const proxies = all.flatMap((t) => (t.proxy === undefined ? [] : [t.proxy]));
  const proxiesBefore = proxies.map((p) => processCpuMicros(p.pid));
  const upstreamBefore = processCpuMicros(upstream.pid);
  const coresBefore = coreTimes();
  const result = await autocannon(target, settings.durationS);
  const coresAfter = coreTimes();
  const proxiesAfter = proxies.map((p) => processCpuMicros(p.pid));
  const upstreamAfter = processCpuMicros(upstream.pid);
  check(target, result, "measured run");
  const requests = result.requests.total;
  const proxyCpuMs = Object.fromEntries(proxies.map((p, i) => [p.name, (proxiesAfter[i]! - proxiesBefore[i]!) / 1000]));
  const proxyAfter = target.proxy === undefined ? 0 : proxiesAfter[proxies.indexOf(target.proxy)]!;
  const proxyBefore = target.proxy === undefined ? 0 : proxiesBefore[proxies.indexOf(target.proxy)]!;
  return {
    round,
    requests,
    durationS: result.duration,
    rps: requests / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    proxyCpuUsPerReq: target.proxy === undefined ? undefined : (proxyAfter - proxyBefore) / requests,
    upstreamCpuUsPerReq: (upstreamAfter - upstreamBefore) / requests,
    coreBusy: coreBusy(coresBefore, coresAfter),
    proxyCpuMs,
  };
}

/** autocannon in its own process, pinned with the upstream, so it never shares our event loop. */
async function autocannon(target: Target, seconds: number): Promise<AutocannonResult> {
  const args = [AUTOCANNON, "--json", "-c", String(settings.connections), "-d", String(seconds), "-H", `x-api-key=${target.key}`, target.url];
  const stdout = await run(`autocannon (${target.name})`, args, LOAD_CORE, (seconds + 30) * 1000);
  const line = stdout.split("\n").reverse().find((l) => l.startsWith("{"));
  if (line === undefined) throw new Error(`autocannon printed no JSON result for ${target.name}:\n${stdout}`);
  return JSON.parse(line) as AutocannonResult;
}

function check(target: Target, r: AutocannonResult, what: string): void {
  const problems = [
    r.non2xx > 0 && `${r.non2xx} non-2xx responses`,
    r.errors > 0 && `${r.errors} errors`,
    r.timeouts > 0 && `${r.timeouts} timeouts`,
    r.mismatches > 0 && `${r.mismatches} body mismatches`,
    r.requests.total === 0 && "no completed requests",
  ].filter((p): p is string => typeof p === "string");
  if (problems.length > 0) {
    const output = target.proxy ? `\n--- ${target.proxy.name} output ---\n${target.proxy.output()}` : "";
    throw new Error(`${target.name} ${what}: ${problems.join(", ")}${output}`);
  }
}

/** Before measuring anything: every target returns Sean, and the gateway really runs its pipeline. */
async function verify(targets: readonly Target[]): Promise<void> {
  const agent = new Agent({ connections: 1 });
  try {
    const get = async (url: string, headers: Record<string, string>) => {
      const { statusCode, headers: h, body } = await request(url, { dispatcher: agent, headers, headersTimeout: 5_000, bodyTimeout: 5_000 });
      return { status: statusCode, headers: h, text: await body.text() };
    };
    for (const target of targets) {
      const res = await get(target.url, { "x-api-key": target.key });
      if (res.status !== 200) throw new Error(`${target.name}: GET ${target.url} answered ${res.status}: ${res.text}`);
      try {
        deepStrictEqual(JSON.parse(res.text), SEAN);
      } catch {
        throw new Error(`${target.name}: GET ${target.url} answered ${res.text}, not Sean's record`);
      }
      if (target.name === "sluice") {
        if (res.headers["ratelimit"] === undefined) throw new Error("sluice: the response has no RateLimit header; is the limit stage running?");
        const anonymous = await get(target.url, {});
        if (anonymous.status !== 401) throw new Error(`sluice: a request without an API key answered ${anonymous.status}, not 401`);
      }
    }
  } finally {
    await agent.close();
  }
}

/** One service, one consumer, one limit so high it never refuses but is still checked per request. */
/** A user on a plan without limits (so only the bench's limit counts), and a key of theirs. */
async function createDatabaseKey(dataDir: string): Promise<string> {
  const db = await openDatabase({ dataDir });
  const accounts = await openAccounts(db);
  try {
    await accounts.plans.set("bench", { description: "no limits of its own", limits: {} });
    const user = await accounts.createUser({ email: "bench@example.com", password: "bench-password-0001", plan: "bench" });
    return (await accounts.apiKeys.create(user.id, { name: "bench" })).key;
  } finally {
    await accounts.close();
    await db.close();
  }
}

function gatewayConfig(upstreamUrl: string): string {
  return `# Written by bench/run.ts for one run; deleted when the bench exits.
server:
  host: 127.0.0.1
  port: 0
limits:
  bench-unlimited:
    algorithm: gcra
    limit: 1000000000
    window: 1s
    by: [consumer]
defaults:
  limits: [bench-unlimited]
services:
  users:
    upstream: ${upstreamUrl}
    openapi: false
consumers:
  bench:
    keys: [${API_KEY}]
`;
}



function pct(fraction: number | undefined): string {
  return fraction === undefined || !Number.isFinite(fraction) ? "?" : `${Math.round(fraction * 100)}%`;
}

function say(text: string): void {
  process.stdout.write(text);
}

function removeTempDir(): void {
  if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
  tempDir = undefined;
}

let aborting = false;
async function abort(error: unknown, exitCode = 1): Promise<void> {
  if (aborting) return;
  aborting = true;
  process.stderr.write(`\nbench FAILED: ${error instanceof Error ? error.message : String(error)}\n`);
  if (exitCode !== 130) for (const exit of unexpectedExits()) process.stderr.write(`\n${exit}\n`);
  await stopAll();
  removeTempDir();
  process.exit(exitCode);
}

process.on("exit", () => {
  killAllNow();
  removeTempDir();
});
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(signal, () => void abort(new Error(`interrupted (${signal})`), 130));
}

try {
  await main();
  await stopAll();
  removeTempDir();
  process.exit(0);
} catch (error) {
  await abort(error);
}
