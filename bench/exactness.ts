/**
 * The exactness bench: `npm run bench:exactness` (the last part of `npm run bench`; needs
 * `npm run build` first). bench/README.md explains what it measures and how to read it.
 *
 * Issue 15's "60 s mixed load on three instances with Redis restarted in the middle": three
 * Sluice processes (the built CLI) on one private redis-server and a scratch PostgreSQL database,
 * the default 50 ms store deadline. Three services, each behind a clock-aligned fixed window
 * (`limit` per `window`, by consumer), one per failure mode: `local`, `closed`, `open`. Every
 * consumer sends to every service at a steady rate far above the limit, round-robin over the
 * instances on keep-alive connections, and every response is recorded. In the middle Redis is
 * stopped (it keeps nothing on disk, so it comes back empty) and started again a few seconds later.
 *
 * Reported per failure mode and clock window: the most any one consumer was admitted (200s),
 * whether the window was clean or touched by the outage (from Redis's stop to the last breaker
 * closing), where an outage window's admissions came from, the bound docs/redis.md states for
 * that kind of window (with P = instances × workers for `local`), and whether it held; 5xx
 * answers by cause; and each instance's breaker as it logged it, with what its /metrics counted.
 * A bound that did not hold, or a 5xx other than a `closed` limit's 503 during the outage, fails
 * the bench after the report.
 *
 * Not pinned: this measures what is admitted, not how fast, and three gateways, Redis and the
 * load share the cores as they would on one small host.
 *
 * Environment: BENCH_EXACTNESS_DURATION (60 s; 20 with BENCH_QUICK=1), BENCH_EXACTNESS_WINDOW
 * (10 s; 5 quick), BENCH_EXACTNESS_LIMIT (20), BENCH_EXACTNESS_RATE (30 requests/s per consumer
 * per service), BENCH_EXACTNESS_OUTAGE (3 s), BENCH_EXACTNESS_WORKERS (1 worker per instance).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { Client } from "undici";
import { createScratchPostgres, type ScratchPostgres } from "../test/support/postgres.js";
import { startRedisServer, type RedisServer } from "../test/support/redisServer.js";
import { runBench } from "./lib/benchMain.js";
import { CORES, stopAll, unexpectedExits, type Child } from "./lib/children.js";
import { envInt, machineInfo } from "./lib/environment.js";
import { benchKey, consumerName } from "./lib/keys.js";
import { markdownTableOf, textTable } from "./lib/report.js";
import { startSluice } from "./lib/sluiceCli.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const RESULTS = join(ROOT, "bench/results/exactness.json");
const RESPONSES = join(ROOT, "bench/results/exactness-responses.csv");

const quick = process.env["BENCH_QUICK"] === "1";
const settings = {
  durationS: envInt("BENCH_EXACTNESS_DURATION", quick ? 20 : 60, 10),
  windowS: envInt("BENCH_EXACTNESS_WINDOW", quick ? 5 : 10, 1),
  limit: envInt("BENCH_EXACTNESS_LIMIT", 20, 1),
  ratePerS: envInt("BENCH_EXACTNESS_RATE", 30, 1),
  outageS: envInt("BENCH_EXACTNESS_OUTAGE", 3, 1),
  workers: envInt("BENCH_EXACTNESS_WORKERS", 1, 1),
  instances: 3,
  consumers: 4,
  /** Keep-alive load connections per instance. */
  connections: 4,
};
const MODES = ["local", "closed", "open"] as const;
type Mode = (typeof MODES)[number];
/** Every process that counts `local` limits alone during an outage. */
const PROCESSES = settings.instances * settings.workers;
const WINDOW_MS = settings.windowS * 1000;
/** The first words of the breaker's log lines (src/stores/failoverStore.ts). */
const OUTAGE_BEGAN = "the limiter store is failing";
const OUTAGE_ENDED = "the limiter store answers again";
const REQUEST_TIMEOUT_MS = 10_000;

/** One response (or a request that got none: status 0). Times are this process's clock, ms since the epoch. */
interface Response {
  readonly mode: Mode;
  readonly consumer: number;
  readonly instance: number;
  readonly sentAt: number;
  readonly receivedAt: number;
  readonly status: number;
  /** The problem's code for a 5xx, the error's for a request without a response. */
  readonly code?: string;
}

/** Redis's stop and start, as this process saw them. */
interface Outage {
  stopAt?: number;
  stoppedAt?: number;
  startedAt?: number;
}

/**
 * An instance's breaker as it logged it (src/stores/failoverStore.ts): when it opened, when it
 * closed and the outage it reported (from the first failure). With several workers, each logs its
 * own: the first opening, the last closing and every outage.
 */
interface BreakerLog {
  openedAt?: number;
  closedAt?: number;
  outagesMs: number[];
}

let dir: string | undefined;
let redis: RedisServer | undefined;
let database: ScratchPostgres | undefined;
/**
 * Keep-alive connections to each instance, taken in turn by the load: with several workers, each
 * worker holds some of them and so gets a share of every consumer's requests.
 */
const instances: Client[][] = [];

function config(): string {
  const limits = MODES.map((mode) =>
    `  fixed-${mode}: { algorithm: fixed-window, limit: ${settings.limit}, window: ${settings.windowS}s, align: clock, by: [consumer], onStoreFailure: ${mode} }`);
  // One more consumer than the load uses: the warm-up's, so its requests count on keys of their own.
  const consumers = Array.from({ length: settings.consumers + 1 }, (_, i) => `  ${consumerName(i)}: { keys: [${benchKey(i)}] }`);
  return `# Written by bench/exactness.ts for one run.
server: { host: 127.0.0.1, port: 0 }
log: { access: false }
limits:
${limits.join("\n")}
services:
${MODES.map((mode) => `  ${mode}: { upstream: "demo://users", limits: [fixed-${mode}] }`).join("\n")}
consumers:
${consumers.join("\n")}
`;
}

/** A gateway request; a 5xx's body is read for its problem code. */
async function call(client: Client, mode: Mode, consumer: number): Promise<{ status: number; code?: string }> {
  const { statusCode, body } = await client.request({ method: "GET", path: `/api/${mode}/users/104`, headers: { "x-api-key": benchKey(consumer) } });
  if (statusCode < 500) {
    await body.dump();
    return { status: statusCode };
  }
  const problem = (await body.json().catch(() => ({}))) as { code?: unknown };
  return { status: statusCode, code: typeof problem.code === "string" ? problem.code : "not a problem" };
}

/** An instance's /metrics as name{labels} → value. */
async function metricsOf(connections: readonly Client[]): Promise<Map<string, number>> {
  const { body } = await connections[0]!.request({ method: "GET", path: "/metrics" });
  const samples = new Map<string, number>();
  for (const line of (await body.text()).split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

async function main(): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), "sluice-bench-exactness-"));
  redis = await startRedisServer();
  database = await createScratchPostgres();
  say(`exactness bench: ${settings.instances} instances × ${settings.workers} worker(s) on ${redis.url}, ${settings.consumers} consumers × ${MODES.length} services, ` +
    `${settings.ratePerS}/s each, limit ${settings.limit} per ${settings.windowS} s (clock), ${settings.durationS} s with Redis down ${settings.outageS} s in the middle\n`);

  // One after the other: the later ones find the database migrated by the first.
  const breakers: BreakerLog[] = [];
  for (let i = 0; i < settings.instances; i++) {
    const { child, match: url } = await startSluice({
      name: `sluice-${i}`, dir, config: config(), core: undefined, cliArgs: ["--workers", String(settings.workers)],
      env: { REDIS_URL: redis.url, DATABASE_URL: database.url, LOG_LEVEL: "info" },
    });
    breakers.push(watchBreaker(child));
    const connect = () => new Client(url, { pipelining: 1, headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS });
    instances.push(Array.from({ length: settings.connections }, connect));
  }
  // Every connection once, through every limit, as the warm-up's consumer: each instance answers
  // from Redis and holds its connections (and so its workers' shares) before the measured run.
  for (const [i, connections] of instances.entries()) {
    for (const client of connections) {
      for (const mode of MODES) {
        const { status } = await call(client, mode, settings.consumers);
        if (status !== 200) throw new Error(`sluice-${i} answered the warm-up with ${status}`);
      }
    }
  }

  // Start on a window boundary, so every window of the run is whole. Redis stops just after the
  // boundary nearest the middle, when each consumer has had about half its limit from Redis and
  // no refusal yet: no instance has a refusal to remember (the over-limit cache would refuse for
  // Redis until the window ends), so the window gets all that the failure modes and the emptied
  // Redis allow. Only a stop just before the limit's last unit would come closer to the bound.
  const start = Math.ceil(Date.now() / WINDOW_MS) * WINDOW_MS;
  const end = start + settings.durationS * 1000;
  const outage: Outage = {};
  const stopAt = start + Math.round(settings.durationS / 2 / settings.windowS) * WINDOW_MS + Math.round((500 * settings.limit) / settings.ratePerS);
  await delay(start - Date.now());
  const restart = restartRedis(redis, stopAt, outage);
  const responses = await sendLoad(start, end);
  await restart;
  const metrics = await Promise.all(instances.map(metricsOf));
  if (unexpectedExits().length > 0) throw new Error(`a server died:\n${unexpectedExits().join("\n")}`);

  report(start, end, outage, breakers, metrics, responses);
}

/** Stops Redis at `stopAt`, starts it again outageS later, and notes when each happened. */
async function restartRedis(server: RedisServer, stopAt: number, outage: Outage): Promise<void> {
  await delay(stopAt - Date.now());
  outage.stopAt = Date.now();
  await server.stop();
  outage.stoppedAt = Date.now();
  await delay(stopAt + settings.outageS * 1000 - Date.now());
  await server.start();
  outage.startedAt = Date.now();
}

/** Reads the breaker's lines from an instance's log (JSON lines on stdout, LOG_LEVEL=info). */
function watchBreaker(child: Child): BreakerLog {
  const log: BreakerLog = { outagesMs: [] };
  let partial = "";
  child.process.stdout?.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString("utf8")).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines.filter((l) => l.startsWith("{"))) {
      const { time, msg, outageMs } = JSON.parse(line) as { time: number; msg?: string; outageMs?: number };
      if (msg?.startsWith(OUTAGE_BEGAN) === true) log.openedAt = Math.min(log.openedAt ?? time, time);
      if (msg?.startsWith(OUTAGE_ENDED) === true) {
        log.closedAt = Math.max(log.closedAt ?? time, time);
        log.outagesMs.push(outageMs ?? Number.NaN);
      }
    }
  });
  return log;
}

/**
 * Open-loop load: each (consumer, service) stream sends every 1/rate s from `start` to `end`,
 * without waiting for answers, request n to instance n mod instances over its connections in
 * turn. Streams are spread over the period so they do not all fire in the same millisecond.
 */
async function sendLoad(start: number, end: number): Promise<Response[]> {
  const periodMs = 1000 / settings.ratePerS;
  const streams = MODES.flatMap((mode) => Array.from({ length: settings.consumers }, (_, consumer) => ({ mode, consumer, sent: 0 })));
  const due = (stream: (typeof streams)[number], i: number) => start + ((i / streams.length) + stream.sent) * periodMs;
  const pending: Promise<Response>[] = [];
  const send = (mode: Mode, consumer: number, n: number): Promise<Response> => {
    const instance = n % settings.instances;
    const client = instances[instance]![Math.floor(n / settings.instances) % settings.connections]!;
    const sentAt = Date.now();
    return call(client, mode, consumer).then(
      ({ status, code }) => ({ mode, consumer, instance, sentAt, receivedAt: Date.now(), status, ...(code !== undefined && { code }) }),
      (error: Error & { code?: string }) => ({ mode, consumer, instance, sentAt, receivedAt: Date.now(), status: 0, code: error.code ?? error.message }),
    );
  };
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = Date.now();
      streams.forEach((stream, i) => {
        for (let at = due(stream, i); at <= now && at < end; at = due(stream, i)) pending.push(send(stream.mode, stream.consumer, stream.sent++));
      });
      if (now >= end) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
  return Promise.all(pending);
}

// ─── Reporting ──────────────────────────────────────────────────────────────────────────────────

/** The most a window of this kind may admit to one consumer, per docs/redis.md ("What `local` bounds"). */
function bound(mode: Mode, touched: boolean): { most: number; label: string } {
  const { limit } = settings;
  if (!touched) return { most: limit, label: `= ${limit}` };
  if (mode === "closed") return { most: 2 * limit, label: `≤ ${2 * limit} (2 × limit)` };
  if (mode === "local") return { most: (PROCESSES + 2) * limit, label: `≤ ${(PROCESSES + 2) * limit} ((${PROCESSES} + 2) × limit)` };
  return { most: Number.POSITIVE_INFINITY, label: "none" };
}

/** UTC time of day, to the second or (digits 1) the tenth. */
const clock = (ms: number, digits = 0) => new Date(ms).toISOString().slice(11, digits === 0 ? 19 : 20 + digits);
const seconds = (ms: number) => (ms / 1000).toFixed(1);

/** A table of the report, and what in it is not as docs/redis.md says. */
interface Table {
  readonly header: readonly string[];
  readonly rows: string[][];
  readonly broken: string[];
}

/** Where decisions may have been made by a failure mode, or by a Redis that had lost its counts. */
interface Span {
  readonly from: number;
  readonly to: number;
}

/** An instance's breaker that was seen to open and close. */
type Breaker = Required<BreakerLog>;

/**
 * Where an admission came from: Redis before it stopped, an instance's failure mode while its
 * breaker was open, or Redis after (empty), once the breaker had closed.
 */
type Source = "before" | number | "after";

function sourceOf(r: Response, stoppedAt: number, breakers: readonly Breaker[]): Source {
  if (r.receivedAt < stoppedAt) return "before";
  return r.receivedAt < breakers[r.instance]!.closedAt ? r.instance : "after";
}

/**
 * Per failure mode and window: each consumer's 200s, against the bound, and for a window touched
 * by the outage, where the most admitted consumer's came from. A 200 is counted in the window it
 * was received in. It was decided a few ms earlier, but every window's allowance is spent within
 * its first seconds, so no admission straddles a boundary.
 */
function windowTable(start: number, end: number, touched: Span, source: (r: Response) => Source, responses: readonly Response[]): Table & { windows: unknown[] } {
  const rows: string[][] = [];
  const windows: unknown[] = [];
  const broken: string[] = [];
  for (const mode of MODES) {
    for (let from = start; from < end; from += WINDOW_MS) {
      const to = from + WINDOW_MS;
      const isTouched = from < touched.to && to > touched.from;
      const admittedTo = Array.from({ length: settings.consumers }, (_, consumer) =>
        responses.filter((r) => r.mode === mode && r.consumer === consumer && r.status === 200 && r.receivedAt >= from && r.receivedAt < to));
      const admitted = admittedTo.map((list) => list.length);
      const most = Math.max(...admitted);
      const least = Math.min(...admitted);
      const { most: allowed, label } = bound(mode, isTouched);
      const held = most <= allowed;
      // Clean windows should admit exactly the limit: the load asks for far more.
      const shortfall = isTouched || least === settings.limit ? "" : ` (fewest ${least})`;
      if (!held) broken.push(`${mode}, window ${clock(from)}: ${most} admitted to one consumer, bound ${label}`);
      const sources = admittedTo[admitted.indexOf(most)]!.map(source);
      const count = (s: Source) => sources.filter((x) => x === s).length;
      const split = isTouched ? `${count("before")} + (${instances.map((_, i) => count(i)).join(", ")}) + ${count("after")}` : "";
      rows.push([mode, `${clock(from)} (+${(from - start) / 1000} s)`, isTouched ? "outage" : "clean", admitted.join(" "), String(most), split, label, (held ? "yes" : "NO") + shortfall]);
      windows.push({ mode, from: new Date(from).toISOString(), touched: isTouched, admitted, bound: allowed, held });
    }
  }
  const header = ["failure mode", "window (UTC)", "kind", "admitted per consumer", "most", "of which Redis before + (each instance alone) + Redis after", "bound", "held"];
  return { header, rows, broken, windows };
}

/** Per failure mode: 5xx and requests without an answer, by cause. Only `closed`'s 503s during the outage are expected. */
function failureTable(touched: Span, responses: readonly Response[]): Table {
  const rows: string[][] = [];
  const broken: string[] = [];
  for (const mode of MODES) {
    const failed = responses.filter((r) => r.mode === mode && (r.status >= 500 || r.status === 0));
    const during = failed.filter((r) => r.receivedAt >= touched.from && r.receivedAt <= touched.to);
    const causes = new Map<string, number>();
    for (const { status, code } of failed) causes.set(`${status} ${code}`, (causes.get(`${status} ${code}`) ?? 0) + 1);
    const listed = [...causes].map(([cause, n]) => `${n} × ${cause}`).join(", ");
    const expected = mode === "closed" ? during.filter((r) => r.status === 503 && r.code === "SLUICE_ERR_LIMITER_UNAVAILABLE").length : 0;
    if (failed.length > expected) broken.push(`${mode}: ${failed.length - expected} unexpected failures (${listed})`);
    const total = responses.filter((r) => r.mode === mode).length;
    rows.push([mode, String(total), String(during.length), String(failed.length - during.length), listed || "—"]);
  }
  return { header: ["failure mode", "requests", "5xx in outage", "5xx outside", "causes"], rows, broken };
}

/** Per instance: its breaker as logged, and the store errors, late replies and shedding it counted. */
function breakerTable(outage: Required<Outage>, breakers: readonly Breaker[], metrics: readonly Map<string, number>[]): Table {
  const rows = breakers.map((logged, i) => {
    const sample = (name: string) => metrics[i]!.get(name) ?? 0;
    return [
      `sluice-${i}`,
      seconds(logged.openedAt - outage.stopAt),
      seconds(logged.closedAt - outage.startedAt),
      logged.outagesMs.map((ms) => seconds(ms)).join(", "),
      ["timeout", "error"].map((kind) => sample(`sluice_limiter_store_errors_total{kind="${kind}"}`)).join(" / "),
      ["refunded", "kept", "over_admitted", "none"].map((effect) => sample(`sluice_limiter_store_late_replies_total{effect="${effect}"}`)).join(" / "),
      String(sample(`sluice_overload_shed_total{plane="gateway"}`)),
    ];
  });
  const header = ["instance", "breaker opened, s after stop", "closed, s after Redis was back", "outage logged, s", "store errors timeout / error", "late replies refunded / kept / over-admitted / none", "shed"];
  return { header, rows, broken: [] };
}

function report(start: number, end: number, outage: Outage, breakers: readonly BreakerLog[], metrics: readonly Map<string, number>[], responses: readonly Response[]): void {
  if (outage.stopAt === undefined || outage.stoppedAt === undefined || outage.startedAt === undefined) throw new Error("Redis was not restarted during the run");
  const seen = breakers.filter((b): b is Breaker => b.openedAt !== undefined && b.closedAt !== undefined);
  if (seen.length < breakers.length) throw new Error(`a breaker was not logged to open and close again during the run: ${JSON.stringify(breakers)}`);
  const restart = outage as Required<Outage>;
  const touched: Span = { from: restart.stopAt, to: Math.max(...seen.map((b) => b.closedAt)) };

  const windows = windowTable(start, end, touched, (r) => sourceOf(r, restart.stoppedAt, seen), responses);
  const tables = [windows, failureTable(touched, responses), breakerTable(restart, seen, metrics)];
  const timeline = `Redis stopped at ${clock(restart.stopAt, 1)} (+${seconds(restart.stopAt - start)} s; it exited ${restart.stoppedAt - restart.stopAt} ms after SIGTERM) ` +
    `and answered again at ${clock(restart.startedAt, 1)} (+${seconds(restart.startedAt - start)} s); the last breaker closed at ${clock(touched.to, 1)}. ` +
    `A window is touched by the outage if it overlaps that span.`;
  const markdown = [timeline, ...tables.map((t) => markdownTableOf(t.header, t.rows))].join("\n\n");
  say(`\n${timeline}\n\n${tables.map((t) => textTable(t.header, t.rows)).join("\n\n")}\n\n${markdown}\n`);

  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify({
    at: new Date(start).toISOString(), machine: machineInfo(CORES), settings, processes: PROCESSES,
    outage: Object.fromEntries(Object.entries(restart).map(([event, at]) => [event, new Date(at).toISOString()])),
    breakers: seen.map((b) => ({ openedAt: new Date(b.openedAt).toISOString(), closedAt: new Date(b.closedAt).toISOString(), outagesMs: b.outagesMs })),
    metrics: metrics.map((m) => Object.fromEntries([...m].filter(([name]) => name.startsWith("sluice_limiter_store") || name.startsWith("sluice_overload")))),
    windows: windows.windows, markdown,
  }, null, 2) + "\n");
  // Every response, for questions this report does not ask; times in ms from the start of the run.
  const rows = responses.map((r) => [r.sentAt - start, r.receivedAt - start, r.mode, r.consumer, r.instance, r.status, r.code ?? ""].join(","));
  writeFileSync(RESPONSES, ["sentMs,receivedMs,mode,consumer,instance,status,code", ...rows].join("\n") + "\n");
  say(`results: ${RESULTS}, ${RESPONSES}\n`);
  const broken = tables.flatMap((t) => t.broken);
  if (broken.length > 0) throw new Error(`not as docs/redis.md says:\n  ${broken.join("\n  ")}`);
}

function say(text: string): void {
  process.stdout.write(text);
}

async function cleanUp(): Promise<void> {
  await Promise.all(instances.flat().map((client) => client.destroy()));
  await stopAll();
  await redis?.close();
  await database?.drop().catch(() => undefined);
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
}

await runBench({ name: "exactness bench", cleanUp }, main);
