/**
 * The rate-limit service bench: `npm run bench:service` (and the last part of `npm run bench`;
 * needs `npm run build` first). bench/README.md explains what it measures and how to read it.
 *
 * Decisions per second and the p99 of one decision, through the HTTP API with 100 concurrent
 * callers, against calling the engine in-process in the same run. Each call is an ad-hoc check
 * (`{identifier, limit, duration}`, GCRA) of the next of 10,000 identifiers, a limit that never
 * refuses. Rows:
 *
 *   engine in-process    MemoryStore.consume of the same check, in this process: the floor
 *   service in-process   JSON.parse + the body schema + RatelimitService.decide + JSON.stringify: all but HTTP
 *   sluice               POST /v1/ratelimit of the built CLI (dist/), memory store
 *   sluice-redis         the same, limits in Redis (REDIS_URL, default the local server)
 *   raw-handler          this file as a server: node:http + the service's own handler, nothing else
 *   fastify-route        this file as a server: the same service behind a Fastify 5 route
 *   sluice-grpc          Envoy's ShouldRateLimit (gRPC) of the built CLI, memory store: one descriptor
 *                        of a named policy per call, from a grpc-js client in its own process
 *                        (bench/service/grpcLoad.ts) instead of wrk
 *
 * raw-handler and fastify-route differ only in the framework: the measurement behind serving
 * /v1/ratelimit from the node:http dispatcher rather than Fastify (src/service/ratelimitApi.ts).
 * Another kind of server joins by adding a `ServerTarget` with its own `load` (a load generator
 * that reports a LoadResult) to `serverTargets`, as sluice-grpc does.
 *
 * Pinning (taskset and 2+ cores): every server on core 0, alone; wrk (bench/lib/wrk.ts's reasons)
 * and this orchestrator, which also runs the in-process rows, on core 1. Servers' CPU time is read
 * from /proc/<pid>/stat around each measured run.
 *
 * Environment: BENCH_CONNECTIONS (100), BENCH_DURATION (10 s), BENCH_WARMUP (2 s), BENCH_ROUNDS (3),
 * BENCH_TARGETS (all; a comma-separated list of row names), REDIS_URL, BENCH_QUICK=1 (1 round of
 * 3 s after a 1 s warm-up, for smoke tests; the others still override it).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createTcpServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Redis } from "ioredis";
import { createLogger } from "../src/observability/logger.js";
import { adHocCheck } from "../src/service/adHocLimits.js";
import { decisionBody } from "../src/service/decisionRequest.js";
import { compilePolicyBook } from "../src/service/descriptorPolicies.js";
import { createRatelimitHandler, RATELIMIT_BODY_LIMIT, RATELIMIT_PREFIX } from "../src/service/ratelimitApi.js";
import { RatelimitService } from "../src/service/ratelimitService.js";
import { serviceAuthenticator } from "../src/service/serviceAuth.js";
import { MemoryStore } from "../src/stores/memoryStore.js";
import { runBench } from "./lib/benchMain.js";
import { canPin, CORES, LOAD_CORE, pin, pinnedCommand, run, runProgram, SERVER_CORE, start, stopAll, unexpectedExits, type Child } from "./lib/children.js";
import { processTreeCpuMicros } from "./lib/cpu.js";
import { loadSettings, machineInfo, wantedTargets } from "./lib/environment.js";
import { markdownTableOf, median, textTable } from "./lib/report.js";
import { READY_TIMEOUT_MS, startSluice } from "./lib/sluiceCli.js";
import { hasWrk } from "./lib/wrk.js";
import { adminClientOrWhy, KEY_PREFIX, removeBenchKeys } from "./limiter/redis.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SELF = fileURLToPath(import.meta.url);
const GRPC_LOAD = join(ROOT, "bench/service/grpcLoad.ts");
const RESULTS = join(ROOT, "bench/results/service.json");
const REDIS_URL = process.env["REDIS_URL"] || "redis://127.0.0.1:6379";
const TOKEN = "bench-admin-token-0123456789";
const IDENTIFIERS = 10_000;
/** The check every call makes: never refused at the rates a bench reaches. */
const LIMIT = { limit: 1_000_000, duration: "1s" } as const;

const settings = loadSettings(100);
const wanted = wantedTargets();

/** What a load generator reports of one run. */
export interface LoadResult {
  readonly requests: number;
  readonly durationUs: number;
  readonly p50Us: number;
  readonly p99Us: number;
  /** Failed requests (errors, statuses ≥ 400); a run with any is reported, not counted. */
  readonly failures: number;
}

/** A server under test: started pinned to the server core, then loaded by `load`. */
export interface ServerTarget {
  readonly name: string;
  readonly start: () => Promise<{ child: Child; match: string }>;
  /** Drives `url` (the ready line's capture) with `connections` callers for `seconds`. */
  readonly load: (url: string, connections: number, seconds: number) => Promise<LoadResult>;
  /** Why it cannot run here, or undefined. */
  readonly missing?: () => Promise<string | undefined>;
}

interface Row {
  readonly name: string;
  readonly decisionsPerS: number;
  readonly p50Us: number;
  readonly p99Us: number;
  /** CPU µs per decision: the server's, or this process's for the in-process rows. */
  readonly cpuUsPerDecision: number;
}

let tempDir: string | undefined;
let redis: Redis | undefined;

// ─── Servers ────────────────────────────────────────────────────────────────────────────────────

/** A body per identifier, one JSON document per line, for the wrk script. */
function bodiesFile(): string {
  const file = join(tempDir!, "bodies.txt");
  writeFileSync(file, Array.from({ length: IDENTIFIERS }, (_, i) => JSON.stringify({ identifier: `user-${i}`, ...LIMIT })).join("\n") + "\n");
  return file;
}

/** wrk script: POST the next body of a file, round-robin, with the token; done() prints bench/lib/wrk.ts's JSON. */
const WRK_SCRIPT = `
local requests, count, next_index = {}, 0, 0
function init(args)
  local headers = { ["authorization"] = "Bearer " .. args[2], ["content-type"] = "application/json" }
  for body in io.lines(args[1]) do
    count = count + 1
    requests[count] = wrk.format("POST", wrk.path, headers, body)
  end
end
function request()
  next_index = next_index % count + 1
  return requests[next_index]
end
function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"durationUs":%d,"failures":%d,"p50Us":%d,"p99Us":%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;

function httpLoad(bodies: string, script: string): ServerTarget["load"] {
  return async (url, connections, seconds) => {
    const args = ["-t1", `-c${connections}`, `-d${seconds}s`, "--timeout", "5s", "-s", script, url + RATELIMIT_PREFIX, "--", bodies, TOKEN];
    const [command, argv] = pinnedCommand("wrk", args, LOAD_CORE);
    const stdout = await runProgram("wrk", command, argv, (seconds + 30) * 1000);
    const line = stdout.split("\n").reverse().find((l) => l.startsWith("{"));
    if (line === undefined) throw new Error(`wrk printed no result:\n${stdout}`);
    return JSON.parse(line) as LoadResult;
  };
}

/** Every server row; a gRPC server joins here with a load generator of its own. */
function serverTargets(): ServerTarget[] {
  const script = join(tempDir!, "service.lua");
  writeFileSync(script, WRK_SCRIPT);
  const load = httpLoad(bodiesFile(), script);
  // A 1 s store deadline, as in the gateway bench: on two shared cores a Redis decision can miss
  // the default 50 ms, and the 503 of an ad-hoc limit failing closed would void the run.
  const sluice = (name: string, env: NodeJS.ProcessEnv, yaml = "") => () => startSluice({
    name, dir: tempDir!, config: `limiter: { keyPrefix: "${KEY_PREFIX}service:", timeout: 1s }\n${yaml}`, core: SERVER_CORE, cliArgs: ["--no-demo"],
    env: { PORT: "0", HOST: "127.0.0.1", SLUICE_ADMIN_TOKEN: TOKEN, ...env },
  });
  const selfServer = (name: string, mode: string) => () =>
    start({ name, args: ["--import", "tsx", SELF, mode], core: SERVER_CORE, ready: /is ready at (http:\/\/\S+)/, timeoutMs: READY_TIMEOUT_MS });
  return [
    { name: "sluice", start: sluice("sluice", {}), load },
    { name: "sluice-redis", start: sluice("sluice-redis", { REDIS_URL }), load, missing: redisMissing },
    { name: "raw-handler", start: selfServer("raw-handler", "serve-raw"), load },
    { name: "fastify-route", start: selfServer("fastify-route", "serve-fastify"), load },
    grpcTarget((name, yaml) => sluice(name, {}, yaml)()),
  ];
}

/**
 * `sluice-grpc`: the CLI with Envoy's gRPC service on a port chosen here (the ready line names only
 * the HTTP one) and the policy grpcLoad.ts asks, a limit that never refuses.
 */
function grpcTarget(startSluice: (name: string, yaml: string) => ReturnType<ServerTarget["start"]>): ServerTarget {
  let address = "";
  return {
    name: "sluice-grpc",
    start: async () => {
      const port = await freePort();
      address = `127.0.0.1:${port}`;
      return startSluice("sluice-grpc", `server: { grpcPort: ${port} }\npolicies:\n  bench:\n    descriptors:\n      - { key: user, limit: { limit: ${LIMIT.limit}, window: ${LIMIT.duration} } }\n`);
    },
    load: async (_url, connections, seconds) => {
      const stdout = await run("grpc-load", ["--import", "tsx", GRPC_LOAD, address, String(connections), String(seconds)], LOAD_CORE, (seconds + 30) * 1000);
      const line = stdout.split("\n").reverse().find((l) => l.startsWith("{"));
      if (line === undefined) throw new Error(`the gRPC load generator printed no result:\n${stdout}`);
      return JSON.parse(line) as LoadResult;
    },
  };
}

/** A port free right now, for a server that must be told its port before it starts. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createTcpServer().once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function redisMissing(): Promise<string | undefined> {
  if (redis !== undefined) return undefined;
  const reached = await adminClientOrWhy(REDIS_URL);
  if ("why" in reached) return reached.why;
  redis = reached.client;
  return undefined;
}

/** The service as the server modes run it: a memory store, the admin token, no policies. */
function benchService() {
  const service = new RatelimitService({ store: new MemoryStore(), policies: compilePolicyBook({}) });
  return { service, authenticate: serviceAuthenticator({ adminToken: TOKEN }) };
}

/** `serve-raw`: node:http and the service's own handler, as Sluice's dispatcher runs it. */
function serveRaw(): void {
  const { service, authenticate } = benchService();
  const handle = createRatelimitHandler({ service, authenticate, requireScope: () => false, logger: createLogger("warn") });
  const server = createServer((req, res) => handle(req, res));
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    say(`raw-handler is ready at http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}\n`);
  });
}

/** `serve-fastify`: the same work behind a Fastify route (auth in a hook, the body schema in the handler). */
async function serveFastify(): Promise<void> {
  const { default: Fastify } = await import("fastify");
  const { service, authenticate } = benchService();
  const app = Fastify({ bodyLimit: RATELIMIT_BODY_LIMIT });
  app.addHook("onRequest", async (request, reply) => {
    if (authenticate(request.headers.authorization) === undefined) return reply.code(401).send({ code: "unauthorized" });
  });
  app.post(RATELIMIT_PREFIX, async (request, reply) => {
    const parsed = decisionBody.safeParse(request.body);
    if (!parsed.success) return reply.code(400).send({ code: "bad-request" });
    const answer = await service.decide(parsed.data);
    return answer.status === 200 ? reply.header("cache-control", "no-store").send(answer.body) : reply.code(answer.status).send();
  });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  say(`fastify-route is ready at ${url}\n`);
}

// ─── In-process rows ────────────────────────────────────────────────────────────────────────────

/** Calls `decide(i)` for `seconds`, timing every 16th call for the percentiles. */
function timeInProcess(name: string, seconds: number, decide: (i: number) => void): Row {
  const samples: number[] = [];
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const until = started + BigInt(seconds * 1e9);
  let calls = 0;
  for (;;) {
    for (let j = 0; j < 1024; j++, calls++) {
      if ((calls & 15) === 0) {
        const t = process.hrtime.bigint();
        decide(calls);
        samples.push(Number(process.hrtime.bigint() - t) / 1000);
      } else {
        decide(calls);
      }
    }
    if (process.hrtime.bigint() >= until) break;
  }
  const elapsedUs = Number(process.hrtime.bigint() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  samples.sort((a, b) => a - b);
  return {
    name,
    decisionsPerS: (calls * 1e6) / elapsedUs,
    p50Us: samples[Math.floor(samples.length * 0.5)]!,
    p99Us: samples[Math.floor(samples.length * 0.99)]!,
    cpuUsPerDecision: (cpu.user + cpu.system) / calls,
  };
}

function inProcessRows(seconds: number): Row[] {
  const rows: Row[] = [];
  if (wanted("engine in-process")) {
    const store = new MemoryStore({ sweepIntervalMs: 0 });
    const checks = Array.from({ length: IDENTIFIERS }, (_, i) => adHocCheck({ namespace: "default", identifier: `user-${i}`, algorithm: "gcra", limit: LIMIT.limit, windowMs: 1000, cost: 1 }));
    timeInProcess("warm-up", 0.5, (i) => store.consume([checks[i % IDENTIFIERS]!]));
    rows.push(timeInProcess("engine in-process", seconds, (i) => store.consume([checks[i % IDENTIFIERS]!])));
  }
  if (wanted("service in-process")) {
    const { service } = benchService();
    const bodies = Array.from({ length: IDENTIFIERS }, (_, i) => JSON.stringify({ identifier: `user-${i}`, ...LIMIT }));
    const decide = (i: number) => {
      const answer = service.decide(decisionBody.parse(JSON.parse(bodies[i % IDENTIFIERS]!)));
      if (answer instanceof Promise || answer.status !== 200) throw new Error("the memory store answers synchronously, 200");
      JSON.stringify(answer.body);
    };
    timeInProcess("warm-up", 0.5, decide);
    rows.push(timeInProcess("service in-process", seconds, decide));
  }
  return rows;
}

// ─── Measuring and reporting ────────────────────────────────────────────────────────────────────

async function measureServer(target: ServerTarget, child: Child, url: string, seconds: number): Promise<Row | undefined> {
  const cpuBefore = processTreeCpuMicros(child.pid);
  const result = await target.load(url, settings.connections, seconds);
  const cpuUs = processTreeCpuMicros(child.pid) - cpuBefore;
  if (result.failures > 0 || result.requests === 0) {
    say(`  ${target.name}: ${result.failures} failed of ${result.requests} requests; run not counted\n`);
    return undefined;
  }
  return { name: target.name, decisionsPerS: (result.requests * 1e6) / result.durationUs, p50Us: result.p50Us, p99Us: result.p99Us, cpuUsPerDecision: cpuUs / result.requests };
}

async function main(): Promise<void> {
  if (!hasWrk) throw new Error("wrk is not installed (apt-get install wrk): the bench's load generator");
  tempDir = mkdtempSync(join(tmpdir(), "sluice-bench-service-"));
  if (canPin) pin(process.pid, LOAD_CORE!);
  else say("running unpinned: taskset or a second core is missing (numbers will be noisier)\n");
  say(`rate-limit service bench: ${settings.connections} callers, ${settings.rounds} round(s) of ${settings.durationS} s after ${settings.warmupS} s warm-up\n`);

  const started: { target: ServerTarget; child: Child; url: string }[] = [];
  for (const target of serverTargets().filter((t) => wanted(t.name))) {
    const why = await target.missing?.();
    if (why !== undefined) {
      say(`skipping ${target.name}: ${why}\n`);
      continue;
    }
    const { child, match } = await target.start();
    started.push({ target, child, url: match });
  }

  const runs = new Map<string, Row[]>();
  const record = (row: Row | undefined) => row && runs.set(row.name, [...(runs.get(row.name) ?? []), row]);
  for (let round = 1; round <= settings.rounds; round++) {
    say(`round ${round}/${settings.rounds}\n`);
    for (const row of inProcessRows(settings.durationS)) record(row);
    for (const { target, child, url } of started) {
      if (settings.warmupS > 0) await target.load(url, settings.connections, settings.warmupS);
      record(await measureServer(target, child, url, settings.durationS));
    }
    if (unexpectedExits().length > 0) throw new Error(`a server died:\n${unexpectedExits().join("\n")}`);
  }

  const rows = [...runs.entries()].map(([name, measured]): Row => ({
    name,
    decisionsPerS: median(measured.map((r) => r.decisionsPerS)),
    p50Us: median(measured.map((r) => r.p50Us)),
    p99Us: median(measured.map((r) => r.p99Us)),
    cpuUsPerDecision: median(measured.map((r) => r.cpuUsPerDecision)),
  }));
  const engine = rows.find((r) => r.name === "engine in-process");
  const header = ["target", "decisions/s", "p50 µs", "p99 µs", "CPU µs/decision", "CPU ÷ engine"];
  const table = rows.map((r) => [
    r.name, fmt(r.decisionsPerS), fmt1(r.p50Us), fmt1(r.p99Us), fmt1(r.cpuUsPerDecision),
    engine === undefined ? "—" : (r.cpuUsPerDecision / engine.cpuUsPerDecision).toFixed(1),
  ]);
  say(`\n${textTable(header, table)}\n`);
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify({ at: new Date().toISOString(), machine: machineInfo(CORES), pinned: canPin, settings, rows, markdown: markdownTableOf(header, table) }, null, 2) + "\n");
  say(`results: ${RESULTS}\n`);
}

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const fmt = (value: number) => (Number.isFinite(value) ? integer.format(value) : "?");
const fmt1 = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : "?");

function say(text: string): void {
  process.stdout.write(text);
}

async function cleanUp(): Promise<void> {
  await stopAll();
  if (redis !== undefined) {
    await removeBenchKeys(redis).catch(() => undefined);
    redis.disconnect();
  }
  if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
}

const mode = process.argv[2];
if (mode === "serve-raw") serveRaw();
else if (mode === "serve-fastify") await serveFastify();
else await runBench({ name: "service bench", cleanUp }, main);
