/**
 * The limiter engine bench: `npm run bench:limiter` (and the second half of `npm run bench`).
 * bench/README.md explains what it measures and how to read the numbers.
 *
 * 1. In-process: decisions per second of Sluice's MemoryStore and rate-limiter-flexible's
 *    RateLimiterMemory, 10,000 keys, nothing refused and 1 in 5 refused, each with the key built
 *    per decision and held by the caller (bench/limiter/inProcess.ts).
 * 2. Redis: decisions per second and per-decision p50/p99 with 100 concurrent callers, Sluice's
 *    RedisStore (batch on and off) and rate-limiter-flexible's RateLimiterRedis, and the ceiling
 *    redis-benchmark reaches on the same server with a trivial script (bench/limiter/redis.ts).
 * 3. Footprint: heap bytes per key of the memory stores with 1,000,000 keys, each in a child
 *    process started with --expose-gc (bench/limiter/footprint.ts).
 * Every ratio is against a baseline measured in the same run; runs are interleaved by round and
 * reported as medians.
 *
 * Pinning (taskset and 2+ cores): this process (all its threads) and redis-benchmark on core 1;
 * the Redis server is not ours and runs wherever the scheduler puts it (in practice core 0, the
 * idle one).
 *
 * Environment: REDIS_URL (redis://127.0.0.1:6379), BENCH_ROUNDS (3), BENCH_LIMITER_DURATION
 * (5 s per measured run), BENCH_LIMITER_WARMUP (1 s), BENCH_LIMITER_CALLERS (100),
 * BENCH_LIMITER_KEYS (10,000), BENCH_FOOTPRINT_KEYS (1,000,000), BENCH_QUICK=1 (1 round of 1 s,
 * 100,000 footprint keys; the others still override it).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Redis } from "ioredis";
import { redactUrl } from "../src/observability/redactUrl.js";
import { abort, runBench } from "./lib/benchMain.js";
import { canPin, CORES, LOAD_CORE, pin, run, stopAll } from "./lib/children.js";
import { envInt, machineInfo } from "./lib/environment.js";
import { markdownTableOf, median, textTable } from "./lib/report.js";
import { FOOTPRINT_SCRIPT, FOOTPRINT_STORES, type Footprint } from "./limiter/footprint.js";
import { checkInProcessAgreement, IN_PROCESS_CONTENDERS, runInProcess, SCENARIOS, type InProcessRun } from "./limiter/inProcess.js";
import {
  adminClient, checkRedisContender, flexibleRedis, hasRedisBenchmark, removeBenchKeys, runCeiling, runConcurrent, sluiceRedis,
  type CeilingRun, type ConcurrentRun, type RedisContender,
} from "./limiter/redis.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const RESULTS = join(ROOT, "bench/results/limiter.json");
const REDIS_URL = process.env["REDIS_URL"] || "redis://127.0.0.1:6379";

const quick = process.env["BENCH_QUICK"] === "1";
const settings = {
  rounds: envInt("BENCH_ROUNDS", quick ? 1 : 3, 1),
  durationS: envInt("BENCH_LIMITER_DURATION", quick ? 1 : 5, 1),
  warmupS: envInt("BENCH_LIMITER_WARMUP", 1, 0),
  callers: envInt("BENCH_LIMITER_CALLERS", 100, 1),
  keys: envInt("BENCH_LIMITER_KEYS", 10_000, 1),
  footprintKeys: envInt("BENCH_FOOTPRINT_KEYS", quick ? 100_000 : 1_000_000, 1),
};

/** The contender every in-process and Redis ratio is taken against. */
const BASELINE = "rate-limiter-flexible";
const CEILING = "redis-benchmark EVALSHA (ceiling)";
/** The Redis store as Sluice runs it (sluiceRedis's name with batching on). */
const BATCHED = "sluice RedisStore, batch on";

interface InProcessSummary {
  readonly scenario: string;
  readonly contender: string;
  readonly perSecond: number;
  readonly refusedShare: number;
  /** decisions/s ÷ rate-limiter-flexible's in the same scenario. */
  readonly vsBaseline: number;
  /** Decisions per second of CPU time: what decisions/s would be with the core to itself. */
  readonly perCpuSecond: number;
  readonly perCpuSecondVsBaseline: number;
  readonly cpuShare: number;
}

interface RedisSummary {
  readonly contender: string;
  readonly perSecond: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly vsBaseline: number;
  readonly vsCeiling: number;
  readonly clientCpuUs: number | undefined;
  readonly redisCpuUs: number;
}

async function main(): Promise<void> {
  const perRun = settings.warmupS + settings.durationS + 2;
  const budgetS = settings.rounds * perRun * (SCENARIOS.length * IN_PROCESS_CONTENDERS.length + 4) + FOOTPRINT_STORES.length * 60 + 60;
  setTimeout(() => void abort(new Error(`the limiter bench exceeded its time budget of ${budgetS} s`)), budgetS * 1000).unref();

  if (canPin) pin(process.pid, LOAD_CORE!);
  else process.stderr.write("bench: taskset or a second core is missing; running unpinned (numbers will be noisier)\n");
  const keys = Array.from({ length: settings.keys }, (_, i) => `consumer-${i}`);
  say(`Sluice limiter bench: ${settings.keys} keys, ${settings.rounds} round(s) of ${settings.durationS} s after ${settings.warmupS} s warm-up, ` +
    `${settings.callers} concurrent Redis callers; ${canPin ? "bench on core 1 (all threads), Redis server unpinned" : "unpinned"}\n\n`);

  const inProcess = await inProcessBench(keys);
  const redis = await redisBench(keys);
  const footprints = await footprintBench();

  const machine = machineInfo(CORES);
  const date = new Date().toISOString();
  const inProcessTable = inProcessRows(inProcess.summaries);
  const redisTable = redis === undefined ? undefined : redisRows(redis.summaries);
  const goalTable = redis === undefined ? undefined : redisGoalRows(redis.summaries);
  const footprintTable = footprintRows(footprints);
  say(`\nIn-process decisions, medians of ${settings.rounds} round(s):\n\n${textTable(...inProcessTable)}\n\n`);
  if (redisTable !== undefined) say(`Redis decisions, ${settings.callers} concurrent callers, medians of ${settings.rounds} round(s):\n\n${textTable(...redisTable)}\n\n`);
  if (goalTable !== undefined) say(`Issue 15's goals for batching:\n\n${textTable(...goalTable)}\n\n`);
  say(`Memory store footprint:\n\n${textTable(...footprintTable)}\n\n`);

  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify({
    date,
    machine,
    settings: { ...settings, redisUrl: redactUrl(REDIS_URL), pinned: canPin },
    inProcess,
    redis: redis ?? "skipped: Redis unreachable",
    footprints,
  }, (_key, value: unknown) => value ?? null, 2)}\n`);
  say(`Results written to ${RESULTS}\n\nMarkdown for bench/README.md:\n\n`);
  say(`${date.slice(0, 10)}, ${machine.cores} cores (${machine.model}), Node ${machine.node}${redis === undefined ? "" : `, Redis ${redis.version}`}; ` +
    `${settings.keys} keys, medians of ${settings.rounds} × ${settings.durationS} s after ${settings.warmupS} s warm-up.\n\n` +
    `${markdownTableOf(...inProcessTable)}\n\n${redisTable === undefined ? "" : `${markdownTableOf(...redisTable)}\n\n`}` +
    `${goalTable === undefined ? "" : `${markdownTableOf(...goalTable)}\n\n`}${markdownTableOf(...footprintTable)}\n`);
}

async function inProcessBench(keys: readonly string[]): Promise<{ summaries: InProcessSummary[]; runs: Record<string, InProcessRun[]> }> {
  await checkInProcessAgreement();
  say("in-process: both limiters admit 3 and refuse the 4th decision under a limit of 3\n");
  const runs: Record<string, InProcessRun[]> = {};
  for (let round = 1; round <= settings.rounds; round++) {
    for (const scenario of SCENARIOS) {
      for (const contender of IN_PROCESS_CONTENDERS) {
        const limiter = await contender.prepare(keys, scenario);
        const result = await runInProcess(limiter, keys.length, settings.warmupS, settings.durationS).finally(() => limiter.close());
        const expected = scenario.spentEvery === 0 ? 0 : Math.ceil(keys.length / scenario.spentEvery) / keys.length;
        if (result.refused / result.decisions !== expected) {
          throw new Error(`${contender.name} (${scenario.name}) refused ${result.refused} of ${result.decisions} decisions, not a share of ${expected}`);
        }
        (runs[`${scenario.name} / ${contender.name}`] ??= []).push(result);
        say(`round ${round}/${settings.rounds}  ${scenario.name.padEnd(26)} ${contender.name.padEnd(40)} ${fmt(result.perSecond).padStart(10)} decisions/s  CPU share ${result.cpuShare.toFixed(2)}\n`);
      }
    }
  }
  const summaries = SCENARIOS.flatMap((scenario) => {
    const perSecond = (contender: string) => median(runs[`${scenario.name} / ${contender}`]!.map((r) => r.perSecond));
    const perCpuSecond = (contender: string) => median(runs[`${scenario.name} / ${contender}`]!.map((r) => r.perSecond / r.cpuShare));
    const baselineName = IN_PROCESS_CONTENDERS.find((c) => c.name.startsWith(BASELINE))!.name;
    return IN_PROCESS_CONTENDERS.map((contender): InProcessSummary => {
      const ms = runs[`${scenario.name} / ${contender.name}`]!;
      return {
        scenario: scenario.name,
        contender: contender.name,
        perSecond: perSecond(contender.name),
        refusedShare: median(ms.map((r) => r.refused / r.decisions)),
        vsBaseline: perSecond(contender.name) / perSecond(baselineName),
        perCpuSecond: perCpuSecond(contender.name),
        perCpuSecondVsBaseline: perCpuSecond(contender.name) / perCpuSecond(baselineName),
        cpuShare: median(ms.map((r) => r.cpuShare)),
      };
    });
  });
  return { summaries, runs };
}

async function redisBench(keys: readonly string[]): Promise<{ version: string; summaries: RedisSummary[]; runs: Record<string, (ConcurrentRun | CeilingRun)[]> } | undefined> {
  let admin: Redis;
  try {
    admin = await adminClient(REDIS_URL);
  } catch (error) {
    process.stderr.write(`\nbench: skipping the Redis part: ${error instanceof Error ? error.message : String(error)}\n`);
    return undefined;
  }
  const contenders: RedisContender[] = [];
  try {
    if (!(await hasRedisBenchmark())) throw new Error("redis-benchmark is not installed; the Redis ceiling cannot be measured");
    const version = /^redis_version:(\S+)/m.exec(await admin.info("server"))?.[1] ?? "unknown";
    contenders.push(await sluiceRedis(REDIS_URL, true), await sluiceRedis(REDIS_URL, false), await flexibleRedis(REDIS_URL));
    for (const contender of contenders) await checkRedisContender(contender);
    say(`\nRedis ${version} at ${redactUrl(REDIS_URL)}: every contender admits a fresh key\n`);

    const runs: Record<string, (ConcurrentRun | CeilingRun)[]> = {};
    for (let round = 1; round <= settings.rounds; round++) {
      for (const contender of contenders) {
        if (settings.warmupS > 0) await runConcurrent(contender, admin, keys, settings.callers, settings.warmupS);
        const result = await runConcurrent(contender, admin, keys, settings.callers, settings.durationS);
        if (result.refused > 0) throw new Error(`${contender.name} refused ${result.refused} decisions under a limit that never refuses`);
        (runs[contender.name] ??= []).push(result);
        say(`round ${round}/${settings.rounds}  ${contender.name.padEnd(40)} ${fmt(result.perSecond).padStart(8)} decisions/s  p50 ${fmt(result.p50Us)} µs  p99 ${fmt(result.p99Us)} µs\n`);
      }
      // The warm-up doubles as calibration: the measured run asks for about `durationS` of requests.
      const warm = await runCeiling(REDIS_URL, admin, settings.callers, 50_000, LOAD_CORE);
      const ceiling = await runCeiling(REDIS_URL, admin, settings.callers, Math.max(10_000, Math.round(warm.perSecond * settings.durationS)), LOAD_CORE);
      (runs[CEILING] ??= []).push(ceiling);
      say(`round ${round}/${settings.rounds}  ${CEILING.padEnd(40)} ${fmt(ceiling.perSecond).padStart(8)} calls/s      p50 ${fmt(ceiling.p50Us)} µs  p99 ${fmt(ceiling.p99Us)} µs\n`);
    }

    const perSecond = (name: string) => median(runs[name]!.map((r) => r.perSecond));
    const baseline = perSecond(contenders.find((c) => c.name.startsWith(BASELINE))!.name);
    const ceiling = perSecond(CEILING);
    const summaries = [...contenders.map((c) => c.name), CEILING].map((name): RedisSummary => {
      const ms = runs[name]!;
      return {
        contender: name,
        perSecond: perSecond(name),
        p50Us: median(ms.map((r) => r.p50Us)),
        p99Us: median(ms.map((r) => r.p99Us)),
        vsBaseline: perSecond(name) / baseline,
        vsCeiling: perSecond(name) / ceiling,
        clientCpuUs: name === CEILING ? undefined : median(ms.map((r) => ("clientCpuUs" in r ? r.clientCpuUs : Number.NaN))),
        redisCpuUs: median(ms.map((r) => r.redisCpuUs)),
      };
    });
    return { version, summaries, runs };
  } finally {
    await Promise.all(contenders.map((c) => c.close().catch(() => undefined)));
    const removed = await removeBenchKeys(admin).catch(() => 0);
    say(`Redis: removed the bench's ${removed} keys\n`);
    await admin.quit().catch(() => undefined);
  }
}

async function footprintBench(): Promise<Footprint[]> {
  const footprints: Footprint[] = [];
  say(`\nfootprint: ${settings.footprintKeys} keys per store, each store in its own process (--expose-gc)\n`);
  for (const store of FOOTPRINT_STORES) {
    const stdout = await run(`footprint (${store})`, ["--expose-gc", "--import", "tsx", FOOTPRINT_SCRIPT, store, String(settings.footprintKeys)], LOAD_CORE, 120_000);
    const line = stdout.split("\n").reverse().find((l) => l.startsWith("{"));
    if (line === undefined) throw new Error(`the footprint of ${store} printed no result:\n${stdout}`);
    const footprint = JSON.parse(line) as Footprint;
    footprints.push(footprint);
    say(`footprint  ${store.padEnd(22)} ${fmt(footprint.bytesPerKey)} bytes/key\n`);
  }
  return footprints;
}

type Table = [header: string[], rows: string[][]];

function inProcessRows(summaries: readonly InProcessSummary[]): Table {
  return [
    ["in-process (memory store)", "scenario", "refused", "decisions/s", `vs ${BASELINE}`, "CPU share", "decisions/CPU-s", `vs ${BASELINE}`],
    summaries.map((s) => [
      s.contender, s.scenario, `${Math.round(s.refusedShare * 100)} %`, fmt(s.perSecond), s.vsBaseline.toFixed(2),
      s.cpuShare.toFixed(2), fmt(s.perCpuSecond), s.perCpuSecondVsBaseline.toFixed(2),
    ]),
  ];
}

function redisRows(summaries: readonly RedisSummary[]): Table {
  return [
    [`redis, ${settings.callers} callers`, "decisions/s", "p50 µs", "p99 µs", `vs ${BASELINE}`, "vs ceiling", "bench CPU µs/decision", "Redis CPU µs/decision"],
    summaries.map((s) => [
      s.contender, fmt(s.perSecond), fmt(s.p50Us), fmt(s.p99Us), s.vsBaseline.toFixed(2), s.vsCeiling.toFixed(2),
      s.clientCpuUs === undefined ? "—" : s.clientCpuUs.toFixed(1), s.redisCpuUs.toFixed(1),
    ]),
  ];
}

/** Issue 15: the batched Redis store from one process, against rate-limiter-flexible in the same run. */
function redisGoalRows(summaries: readonly RedisSummary[]): Table {
  const batched = summaries.find((s) => s.contender === BATCHED)!;
  const rows: [string, string, string, boolean][] = [
    ["decisions/s from one process", fmt(batched.perSecond), "≥ 200,000", batched.perSecond >= 200_000],
    [`decisions/s ÷ ${BASELINE}'s Redis limiter`, batched.vsBaseline.toFixed(2), "≥ 3", batched.vsBaseline >= 3],
    [`p99 of one decision, ${settings.callers} callers`, `${fmt(batched.p99Us)} µs`, "≤ 2,000 µs", batched.p99Us <= 2_000],
  ];
  return [[`${BATCHED} (issue 15)`, "measured", "goal", "met"], rows.map(([what, measured, goal, met]) => [what, measured, goal, met ? "yes" : "no"])];
}

function footprintRows(footprints: readonly Footprint[]): Table {
  return [
    ["memory footprint", "keys", "bytes/key (heap + array buffers)"],
    footprints.map((f) => [f.store, fmt(f.keys), fmt(f.bytesPerKey)]),
  ];
}


const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
function fmt(value: number): string {
  return Number.isFinite(value) ? integer.format(value) : "?";
}



function say(text: string): void {
  process.stdout.write(text);
}

await runBench({ name: "limiter bench", cleanUp: stopAll }, main);
