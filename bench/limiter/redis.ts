/**
 * Redis decisions per second with many concurrent callers: Sluice's RedisStore (batch on, the
 * default, and batch off) against rate-limiter-flexible's RateLimiterRedis, on the same server,
 * with the same policy (a fixed window from each key's first request, never refusing during the
 * run), and against the ceiling redis-benchmark reaches there with a trivial script.
 *
 * Every contender gets its own ioredis client made by `createRedisClient` (no offline queue,
 * commands written at once), except that rate-limiter-flexible's has ioredis's auto-pipelining
 * on, its fastest setup here (a concurrent caller's commands then share writes), since it does not
 * batch by itself. Each caller loops: take the next key, time one decision, record it, repeat.
 */
import { createHistogram } from "node:perf_hooks";
import { Redis } from "ioredis";
import { RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import type { FixedWindowPolicy } from "../../src/limiter/policy.js";
import { redactUrl } from "../../src/observability/redactUrl.js";
import { createRedisClient } from "../../src/stores/redis/client.js";
import { RedisStore } from "../../src/stores/redis/redisStore.js";
import { runProgram } from "../lib/children.js";

const WINDOW_S = 3_600;
const LIMIT = 1_000_000_000;
const POLICY: FixedWindowPolicy = { name: "bench", algorithm: "fixed-window", limit: LIMIT, windowMs: WINDOW_S * 1000 };
const COMMAND_TIMEOUT_MS = 5_000;

/** Every key this bench writes starts with this, so it can remove them afterwards and touches nothing else. */
export const KEY_PREFIX = `sluice-bench-${process.pid}:`;

export interface RedisContender {
  readonly name: string;
  /** One decision for `subject`: true when admitted. */
  decide(subject: string): Promise<boolean>;
  close(): Promise<void>;
}

export async function sluiceRedis(url: string, batch: boolean): Promise<RedisContender> {
  // A deadline as the gateway sets one, so its timer is part of the cost; a decision never meets it here.
  const store = new RedisStore({ client: createRedisClient(url, { commandTimeoutMs: COMMAND_TIMEOUT_MS }), keyPrefix: `${KEY_PREFIX}sluice:`, batch, timeoutMs: 1_000 });
  if (!(await store.ready(5_000))) throw new Error(`Redis at ${redactUrl(url)} did not answer within 5 s`);
  return {
    name: `sluice RedisStore, batch ${batch ? "on" : "off"}`,
    decide: (subject) => store.consume([{ key: `${POLICY.name}|${subject}`, policy: POLICY, cost: 1 }]).then((verdict) => verdict.allowed),
    close: () => store.close(),
  };
}

export async function flexibleRedis(url: string): Promise<RedisContender> {
  const client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, enableAutoPipelining: true, commandTimeout: COMMAND_TIMEOUT_MS });
  await whenReady(client, url);
  const limiter = new RateLimiterRedis({ storeClient: client, points: LIMIT, duration: WINDOW_S, keyPrefix: `${KEY_PREFIX}rlf` });
  return {
    name: "rate-limiter-flexible RateLimiterRedis",
    async decide(subject) {
      try {
        await limiter.consume(subject);
        return true;
      } catch (error) {
        // A refusal rejects with the limiter's result; anything else is a real failure.
        if (!(error instanceof RateLimiterRes)) throw error;
        return false;
      }
    },
    close: () => client.quit().then(() => undefined),
  };
}

/** Before any timing: a fresh key is admitted by every contender (the script really ran). */
export async function checkRedisContender(contender: RedisContender): Promise<void> {
  if (!(await contender.decide(`check-${process.pid}`))) throw new Error(`${contender.name} refused a fresh key`);
}

export interface ConcurrentRun {
  readonly decisions: number;
  readonly refused: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** Time of one decision as its caller saw it, µs. */
  readonly p50Us: number;
  readonly p99Us: number;
  /** CPU of this (the calling) process and of the Redis server per decision, µs. */
  readonly clientCpuUs: number;
  readonly redisCpuUs: number;
}

/**
 * `callers` loops, each one decision at a time, for `seconds`; the keys are taken round-robin.
 * Any failed decision fails the run: a benchmark of timeouts would measure nothing.
 */
export async function runConcurrent(contender: RedisContender, admin: Redis, subjects: readonly string[], callers: number, seconds: number): Promise<ConcurrentRun> {
  const histogram = createHistogram();
  let next = 0;
  let decisions = 0;
  let refused = 0;
  let stop = false;
  const caller = async () => {
    while (!stop) {
      const subject = subjects[next]!;
      next = next + 1 === subjects.length ? 0 : next + 1;
      const t0 = performance.now();
      const allowed = await contender.decide(subject);
      // The histogram takes positive integers: nanoseconds.
      histogram.record(Math.max(1, Math.round((performance.now() - t0) * 1e6)));
      decisions++;
      if (!allowed) refused++;
    }
  };
  const redisCpuBefore = await redisCpuMicros(admin);
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const timer = setTimeout(() => (stop = true), seconds * 1000);
  try {
    await Promise.all(Array.from({ length: callers }, caller));
  } finally {
    stop = true;
    clearTimeout(timer);
  }
  const elapsed = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const redisCpu = (await redisCpuMicros(admin)) - redisCpuBefore;
  return {
    decisions,
    refused,
    seconds: elapsed,
    perSecond: decisions / elapsed,
    p50Us: histogram.percentile(50) / 1000,
    p99Us: histogram.percentile(99) / 1000,
    clientCpuUs: (cpu.user + cpu.system) / decisions,
    redisCpuUs: redisCpu / decisions,
  };
}

export interface CeilingRun {
  readonly requests: number;
  readonly perSecond: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly redisCpuUs: number;
}

/** The trivial script the ceiling is measured with: Redis's cost of one script call and nothing else. */
const TRIVIAL_SCRIPT = "return 1";

/**
 * redis-benchmark's EVALSHA of a one-line script, `callers` connections, one command in flight on
 * each (-P 1): the most script calls per second this server answers to one client process, and
 * so the ceiling of one-script-call-per-decision designs. Pinned like the Node client when `core`
 * is set.
 */
export async function runCeiling(url: string, admin: Redis, callers: number, requests: number, core: number | undefined): Promise<CeilingRun> {
  const sha = (await admin.script("LOAD", TRIVIAL_SCRIPT)) as string;
  const args = [...redisBenchmarkTarget(url), "-c", String(callers), "-n", String(requests), "-P", "1", "--csv", "EVALSHA", sha, "0"];
  const [command, argv] = core === undefined ? ["redis-benchmark", args] : ["taskset", ["-c", String(core), "redis-benchmark", ...args]];
  const redisCpuBefore = await redisCpuMicros(admin);
  const stdout = await runProgram("redis-benchmark", command, argv, 120_000);
  const redisCpu = (await redisCpuMicros(admin)) - redisCpuBefore;
  // CSV: a header line, then "EVALSHA …","rps","avg_latency_ms","min…","p50…","p95…","p99…","max…".
  const row = stdout.split("\n").map((line) => line.trim()).find((line) => line.startsWith('"EVALSHA'));
  const fields = row?.split('","').map((f) => Number(f.replaceAll('"', "")));
  const perSecond = fields?.[1];
  if (fields === undefined || perSecond === undefined || !(perSecond > 0)) throw new Error(`cannot read redis-benchmark's result:\n${stdout}`);
  return { requests, perSecond, p50Us: (fields[4] ?? Number.NaN) * 1000, p99Us: (fields[6] ?? Number.NaN) * 1000, redisCpuUs: redisCpu / requests };
}

/** Whether redis-benchmark is on the PATH. */
export async function hasRedisBenchmark(): Promise<boolean> {
  try {
    await runProgram("redis-benchmark --version", "redis-benchmark", ["--version"], 5_000);
    return true;
  } catch {
    return false;
  }
}

/** A plain ioredis connection for INFO, SCRIPT LOAD and the clean-up; never used for decisions. */
export async function adminClient(url: string): Promise<Redis> {
  const client = createRedisClient(url, { commandTimeoutMs: COMMAND_TIMEOUT_MS });
  await whenReady(client, url);
  return client;
}

/** An admin client, or why there is none (the URL with its password masked), for a target skipped without Redis. */
export async function adminClientOrWhy(url: string): Promise<{ readonly client: Redis } | { readonly why: string }> {
  try {
    return { client: await adminClient(url) };
  } catch (error) {
    return { why: `no Redis at ${redactUrl(url)} (${error instanceof Error ? error.message : String(error)})` };
  }
}

/** Deletes every key this bench wrote. */
export async function removeBenchKeys(admin: Redis): Promise<number> {
  let cursor = "0";
  let removed = 0;
  do {
    const [nextCursor, keys] = await admin.scan(cursor, "MATCH", `${KEY_PREFIX}*`, "COUNT", 1000);
    cursor = nextCursor;
    if (keys.length > 0) removed += await admin.unlink(...keys);
  } while (cursor !== "0");
  return removed;
}

/** used_cpu_sys + used_cpu_user of the Redis server, µs (INFO cpu, in seconds with 6 decimals). */
export async function redisCpuMicros(admin: Redis): Promise<number> {
  const info = await admin.info("cpu");
  const read = (field: string) => Number(new RegExp(`^${field}:([\\d.]+)`, "m").exec(info)?.[1] ?? Number.NaN);
  return (read("used_cpu_sys") + read("used_cpu_user")) * 1e6;
}

function redisBenchmarkTarget(url: string): string[] {
  const parsed = new URL(url);
  const args = ["-h", parsed.hostname || "127.0.0.1", "-p", parsed.port || "6379"];
  if (parsed.username !== "") args.push("--user", decodeURIComponent(parsed.username));
  if (parsed.password !== "") args.push("-a", decodeURIComponent(parsed.password), "--no-auth-warning");
  const db = parsed.pathname.replace("/", "");
  if (db !== "") args.push("--dbnum", db);
  if (parsed.protocol === "rediss:") args.push("--tls");
  return args;
}

function whenReady(client: Redis, url: string): Promise<void> {
  if (client.status === "ready") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.disconnect();
      reject(new Error(`Redis at ${redactUrl(url)} did not answer within 5 s`));
    }, 5_000);
    client.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
