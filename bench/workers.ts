/**
 * Workers on Redis (issue 19, goal 3): `npm run bench:workers` (after `npm run build`) measures
 * the gateway with limits in Redis as `sluice start --workers 1` and `--workers 2` on this
 * machine's cores, rounds interleaved, and says what the load costs: on a 2-core machine wrk and
 * the upstream share the cores the workers run on, so two workers cannot reach twice one.
 *
 * Nothing is pinned: the workers, wrk (one thread, 50 connections, every key in rotation), the
 * fixed-body upstream and Redis share the machine's cores as they would on one host. Per run:
 * requests/s, p99, CPU time of the Sluice processes (the primary and its workers, from /proc),
 * of wrk (reaped by this process), of the upstream and of Redis (`INFO`), each per request and as
 * cores busy. `--workers 2` needs PostgreSQL for the accounts (DATABASE_URL): a scratch database
 * on TEST_DATABASE_URL's server (default postgres://postgres@127.0.0.1:5432/test) serves both.
 *
 *   npm run build && npm run bench:workers
 * Environment: BENCH_DURATION (10 s), BENCH_WARMUP (2 s), BENCH_ROUNDS (3), BENCH_CONNECTIONS
 * (50), REDIS_URL (redis://127.0.0.1:6379; keys under sluice-bench-<pid>:, removed at the end).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Redis } from "ioredis";
import { createScratchPostgres, type ScratchPostgres } from "../test/support/postgres.js";
import { runBench } from "./lib/benchMain.js";
import { CORES, stopAll, type Child } from "./lib/children.js";
import { processCpuMicros, processTreeCpuMicros, reapedChildrenCpuMicros } from "./lib/cpu.js";
import { loadSettings, machineInfo } from "./lib/environment.js";
import { gatewayConfig } from "./lib/gatewayConfig.js";
import { benchKey, KEY_COUNT } from "./lib/keys.js";
import { markdownTableOf, median, textTable } from "./lib/report.js";
import { READY_TIMEOUT_MS, startSluice } from "./lib/sluiceCli.js";
import { startFixedUpstream } from "./lib/upstream.js";
import { hasWrk, problemsOf, wrk } from "./lib/wrk.js";
import { adminClientOrWhy, KEY_PREFIX, redisCpuMicros, removeBenchKeys } from "./limiter/redis.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const RESULTS = join(ROOT, "bench/results/workers.json");
const REDIS_URL = process.env["REDIS_URL"] || "redis://127.0.0.1:6379";
const PATH = "/api/users/users/104";
const WORKER_COUNTS = [1, 2];

const settings = loadSettings(50);

interface WorkersRun {
  readonly workers: number;
  readonly rps: number;
  readonly p99Ms: number;
  /** CPU µs per request of the Sluice processes, wrk, the upstream and Redis. */
  readonly sluiceUs: number;
  readonly wrkUs: number;
  readonly upstreamUs: number;
  readonly redisUs: number;
  /** The same as cores kept busy (CPU time ÷ wall time). */
  readonly sluiceCores: number;
  readonly loadCores: number;
  readonly redisCores: number;
}

let dir: string | undefined;
let redis: Redis | undefined;
let database: ScratchPostgres | undefined;

async function main(): Promise<void> {
  if (!hasWrk) throw new Error("wrk is not installed (apt-get install wrk)");
  const reached = await adminClientOrWhy(REDIS_URL);
  if ("why" in reached) throw new Error(`the workers bench needs Redis: ${reached.why}`);
  redis = reached.client;
  dir = mkdtempSync(join(tmpdir(), "sluice-bench-workers-"));
  database = await createScratchPostgres();
  const upstream = await startFixedUpstream(undefined, READY_TIMEOUT_MS);
  const keysFile = join(dir, "all-keys.txt");
  writeFileSync(keysFile, `${Array.from({ length: KEY_COUNT }, (_, i) => benchKey(i)).join("\n")}\n`);
  const gateways: { workers: number; child: Child; url: string }[] = [];
  // One after the other: the second finds the database migrated by the first.
  for (const workers of WORKER_COUNTS) {
    const { child, match } = await startSluice({
      name: `sluice-workers-${workers}`, dir, core: undefined,
      config: gatewayConfig(upstream.match, { store: "redis", keyPrefix: `${KEY_PREFIX}workers-${workers}:` }),
      cliArgs: ["--workers", String(workers)],
      env: { REDIS_URL, DATABASE_URL: database.url },
    });
    gateways.push({ workers, child, url: `${match}${PATH}` });
  }
  say(`workers bench: --workers ${WORKER_COUNTS.join(" and ")} on Redis, ${CORES} cores, nothing pinned; wrk ${settings.connections} connections, ${settings.rounds} round(s) of ${settings.durationS} s after ${settings.warmupS} s\n`);

  const runs: WorkersRun[] = [];
  for (let round = 1; round <= settings.rounds; round++) {
    for (const gateway of gateways) {
      const load = async (seconds: number) => {
        const result = await wrk({ name: `--workers ${gateway.workers}`, url: gateway.url, keysFile, connections: settings.connections, seconds, core: undefined });
        const problems = problemsOf(result);
        if (problems.length > 0) throw new Error(`--workers ${gateway.workers}: ${problems.join(", ")}\n${gateway.child.output()}`);
        return result;
      };
      if (settings.warmupS > 0) await load(settings.warmupS);
      const sluiceBefore = processTreeCpuMicros(gateway.child.pid);
      const upstreamBefore = processCpuMicros(upstream.child.pid);
      const redisBefore = await redisCpuMicros(redis);
      const wrkBefore = reapedChildrenCpuMicros();
      const result = await load(settings.durationS);
      const wrkCpu = reapedChildrenCpuMicros() - wrkBefore;
      const redisCpu = (await redisCpuMicros(redis)) - redisBefore;
      const upstreamCpu = processCpuMicros(upstream.child.pid) - upstreamBefore;
      const sluiceCpu = processTreeCpuMicros(gateway.child.pid) - sluiceBefore;
      const n = result.requests;
      const wall = result.durationUs;
      const run: WorkersRun = {
        workers: gateway.workers, rps: n / (wall / 1e6), p99Ms: result.latencyUs.p99 / 1000,
        sluiceUs: sluiceCpu / n, wrkUs: wrkCpu / n, upstreamUs: upstreamCpu / n, redisUs: redisCpu / n,
        sluiceCores: sluiceCpu / wall, loadCores: (wrkCpu + upstreamCpu) / wall, redisCores: redisCpu / wall,
      };
      runs.push(run);
      say(`round ${round}/${settings.rounds}  --workers ${run.workers}  ${Math.round(run.rps).toString().padStart(6)} req/s  p99 ${run.p99Ms.toFixed(1)} ms  ` +
        `Sluice ${run.sluiceUs.toFixed(0)} µs/req (${run.sluiceCores.toFixed(2)} cores)  wrk + upstream ${(run.wrkUs + run.upstreamUs).toFixed(0)} µs/req (${run.loadCores.toFixed(2)} cores)  Redis ${run.redisUs.toFixed(1)} µs/req\n`);
    }
  }

  const rows = WORKER_COUNTS.map((workers) => {
    const mine = runs.filter((r) => r.workers === workers);
    const m = (pick: (r: WorkersRun) => number) => median(mine.map(pick));
    return { workers, rps: m((r) => r.rps), p99Ms: m((r) => r.p99Ms), sluiceUs: m((r) => r.sluiceUs), sluiceCores: m((r) => r.sluiceCores), loadUs: m((r) => r.wrkUs + r.upstreamUs), wrkUs: m((r) => r.wrkUs), loadCores: m((r) => r.loadCores), redisUs: m((r) => r.redisUs), redisCores: m((r) => r.redisCores) };
  });
  const one = rows[0]!;
  const header = ["workers", "req/s", "× one worker", "p99 ms", "Sluice CPU µs/req", "Sluice cores busy", "wrk + upstream µs/req (wrk)", "wrk + upstream cores", "Redis µs/req", "Redis cores"];
  const cells = rows.map((r) => [`--workers ${r.workers}`, Math.round(r.rps).toLocaleString("en-US"), (r.rps / one.rps).toFixed(2), r.p99Ms.toFixed(1), r.sluiceUs.toFixed(0), r.sluiceCores.toFixed(2), `${r.loadUs.toFixed(0)} (${r.wrkUs.toFixed(0)})`, r.loadCores.toFixed(2), r.redisUs.toFixed(1), r.redisCores.toFixed(2)]);
  const machine = machineInfo(CORES);
  const date = new Date().toISOString();
  say(`\nmedians of ${settings.rounds} round(s):\n\n${textTable(header, cells)}\n`);
  const markdown = `${date.slice(0, 10)}, ${machine.cores} cores (${machine.model}), Node ${machine.node}; nothing pinned; wrk, ${settings.connections} connections, 10,000 keys, medians of ${settings.rounds} × ${settings.durationS} s after ${settings.warmupS} s warm-up.\n\n${markdownTableOf(header, cells)}\n`;
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify({ date, machine, settings, rows, runs, markdown }, null, 2)}\n`);
  say(`\nResults written to ${RESULTS}\n\nMarkdown for bench/README.md:\n\n${markdown}`);
}

/** A process and its children (a primary's workers), from /proc. */
function say(text: string): void {
  process.stdout.write(text);
}

async function cleanUp(): Promise<void> {
  await stopAll();
  if (redis !== undefined) {
    await removeBenchKeys(redis).catch((error: unknown) => say(`could not remove the bench's Redis keys (${KEY_PREFIX}*): ${String(error)}\n`));
    redis.disconnect();
    redis = undefined;
  }
  await database?.drop().catch(() => undefined);
  database = undefined;
  removeDir();
}

function removeDir(): void {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
}

await runBench({ name: "workers bench", cleanUp, onExit: removeDir }, main);
