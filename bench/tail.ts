/**
 * Where the gateway's tail latency comes from: `npm run bench:tail` (builds, then runs this file).
 * The open loop of bench/run.ts (a constant offered rate, the bench's 10,000 keys in rotation)
 * against `direct`, the reference floor and Sluice (memory store), pinned as in bench/run.ts, with
 * bench/lib/latencyProbe.mjs preloaded into both gateways. Beside the latency the client sees, each
 * gateway reports the time a request spent inside it, the part of that spent waiting for the
 * upstream's answer, its event-loop delay and its GC pauses, so a p99 can be put down to the
 * gateway's own work or to the wait for the upstream (which shares core 1 with the load generator).
 *
 * The probe subscribes to node's and undici's diagnostics channels, which costs each gateway a few
 * µs per request: read these figures beside each other, not against bench/run.ts's.
 *
 *   npm run bench:tail                       # about 2½ minutes; every round in bench/results/tail.json
 *   BENCH_QUICK=1 npm run bench:tail         # 1 round of 3 s after 1 s
 *
 * Environment: BENCH_OPEN_RATE (5000), BENCH_DURATION (10 s), BENCH_WARMUP (2 s), BENCH_ROUNDS (3),
 * BENCH_QUICK=1.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { runBench } from "./lib/benchMain.js";
import { canPin, LOAD_CORE, pin, SERVER_CORE, stopAll, type Child } from "./lib/children.js";
import { loadSettings, machineInfo } from "./lib/environment.js";
import { gatewayConfig } from "./lib/gatewayConfig.js";
import { benchKey, KEY_COUNT } from "./lib/keys.js";
import { medianOf, textTable } from "./lib/report.js";
import { READY_TIMEOUT_MS, startSluice } from "./lib/sluiceCli.js";
import { FLOOR, hasFloor, startFixedUpstream, startFloor } from "./lib/upstream.js";
import type { OpenLoopResult } from "./openLoop/generator.js";
import { openLoopRate, openLoopRun } from "./openLoop/openLoop.js";

const PROBE = join(dirname(fileURLToPath(import.meta.url)), "lib/latencyProbe.mjs");
const RESULTS = join(dirname(fileURLToPath(import.meta.url)), "results/tail.json");
const settings = loadSettings(0);

/** One JSON line of latencyProbe.mjs. */
interface ProbeReport {
  readonly inProcessUs: Percentiles;
  readonly upstreamUs: Percentiles;
  readonly loopDelayUs: Percentiles;
  readonly gc: { readonly minor: Pauses; readonly major: Pauses };
  readonly connectionsOpened: number;
}
interface Percentiles { readonly count: number; readonly p50: number; readonly p99: number; readonly p999: number; readonly max: number }
interface Pauses { readonly count: number; readonly totalMs: number; readonly maxMs: number }

interface Target {
  readonly name: string;
  readonly url: string;
  /** The gateway and the file its probe writes to; none for `direct`. */
  readonly probed?: { readonly child: Child; readonly file: string };
}
interface Round { readonly client: OpenLoopResult; readonly probe: ProbeReport | undefined }

let tempDir: string | undefined;

async function main(): Promise<void> {
  if (openLoopRate === 0) throw new Error("BENCH_OPEN_RATE=0: this bench is the open loop");
  if (!hasFloor) throw new Error(`${FLOOR} is not there: the floor is this bench's baseline`);
  const machine = machineInfo();
  tempDir = mkdtempSync(join(tmpdir(), "sluice-tail-"));
  if (canPin) pin(process.pid, LOAD_CORE!);
  const keysFile = join(tempDir, "all-keys.txt");
  writeFileSync(keysFile, `${Array.from({ length: KEY_COUNT }, (_, i) => benchKey(i)).join("\n")}\n`);
  const upstream = await startFixedUpstream(LOAD_CORE, READY_TIMEOUT_MS);
  const probeArgs = ["--import", PROBE];
  const probeFile = (name: string) => join(tempDir!, `${name}-probe.jsonl`);
  const floor = await startFloor(upstream.match, keysFile, SERVER_CORE, READY_TIMEOUT_MS, probeArgs, { LATENCY_PROBE_FILE: probeFile("floor") });
  const sluice = await startSluice({
    name: "sluice",
    dir: tempDir,
    config: gatewayConfig(upstream.match, { store: "memory" }),
    core: SERVER_CORE,
    nodeArgs: probeArgs,
    env: { LATENCY_PROBE_FILE: probeFile("sluice") },
  });
  const targets: Target[] = [
    { name: "direct", url: `${upstream.match}/users/104` },
    { name: "floor", url: `${floor.match}/users/104`, probed: { child: floor.child, file: probeFile("floor") } },
    { name: "sluice", url: `${sluice.match}/api/users/users/104`, probed: { child: sluice.child, file: probeFile("sluice") } },
  ];
  say(`open loop at ${openLoopRate.toLocaleString("en-US")} req/s, ${KEY_COUNT.toLocaleString("en-US")} keys; ${settings.rounds} round(s) of ${settings.durationS} s after ${settings.warmupS} s; ${machine.cores} cores (${machine.model}), Node ${machine.node}; gateways ${canPin ? "on core 0, the upstream and the load generator on core 1" : "not pinned (no taskset or one core)"}\n`);

  // A first pass, not counted: a gateway's first seconds under load (its JIT, the first sight of
  // each key) and the generator's own start-up queue its requests for up to a second.
  for (const target of targets) await measure(target, keysFile);
  const rounds = new Map<string, Round[]>(targets.map((t) => [t.name, []]));
  for (let round = 1; round <= settings.rounds; round++) {
    for (const target of targets) {
      const result = await measure(target, keysFile);
      if (result.client.errors > 0) throw new Error(`${target.name}: ${result.client.errors} failed requests in the open loop`);
      rounds.get(target.name)!.push(result);
      const { client, probe } = result;
      say(`round ${round}, ${target.name}: p99 ${ms(client.latencyUs.p99)} ms, max ${ms(client.latencyUs.max)} (sent late by at most ${ms(client.sentLateUs.max)}, at most ${client.maxQueued} queued)`);
      say(probe === undefined ? "\n" : `; inside: p99 ${ms(probe.inProcessUs.p99)} ms, upstream p99 ${ms(probe.upstreamUs.p99)} ms, loop delay max ${ms(probe.loopDelayUs.max)} ms, ${probe.connectionsOpened} connections opened\n`);
    }
  }
  say(`\n${report(rounds)}\n`);
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify({ date: new Date().toISOString(), machine, rate: openLoopRate, settings, rounds: Object.fromEntries(rounds) }, null, 2)}\n`);
  say(`every round: ${RESULTS}\n`);
}

/** One open-loop run; the probe is reset when the generator's warm-up ends and read when the run ends. */
async function measure(target: Target, keysFile: string): Promise<Round> {
  const running = openLoopRun(target, keysFile, settings.durationS, settings.warmupS, LOAD_CORE);
  if (target.probed === undefined) return { client: await running, probe: undefined };
  const { child, file } = target.probed;
  // The generator's own start-up (tsx) takes up to a second, so the probe's window may begin that
  // much before its warm-up ends: the same offered rate to a gateway already warm from the first pass.
  await delay(settings.warmupS * 1000);
  await readProbe(child, file);
  const client = await running;
  return { client, probe: await readProbe(child, file) };
}

/** Signals the probe and returns the line it appends: what it saw since the last signal. */
async function readProbe(child: Child, file: string): Promise<ProbeReport> {
  const lines = () => { try { return readFileSync(file, "utf8").split("\n").filter((l) => l !== ""); } catch { return []; } };
  const before = lines().length;
  child.process.kill("SIGUSR2");
  for (let waited = 0; waited < 5_000; waited += 20) {
    const now = lines();
    if (now.length > before) return JSON.parse(now.at(-1)!) as ProbeReport;
    await delay(20);
  }
  throw new Error(`${child.name}'s latency probe did not answer within 5 s\n${child.output()}`);
}

const ms = (us: number) => (us / 1000).toFixed(2);

/** Medians over rounds: the client's latency, and each gateway's own account of it. */
function report(rounds: ReadonlyMap<string, readonly Round[]>): string {
  const client = [...rounds].map(([name, results]) => [
    name,
    ms(medianOf(results, (r) => r.client.latencyUs.p50)),
    ms(medianOf(results, (r) => r.client.latencyUs.p99)),
    ms(medianOf(results, (r) => r.client.latencyUs.p999)),
    ms(medianOf(results, (r) => r.client.sentLateUs.p99)),
    medianOf(results, (r) => r.client.maxQueued).toFixed(0),
  ]);
  const probed = [...rounds].filter(([, results]) => results.every((r) => r.probe !== undefined));
  const probe = (r: Round) => r.probe!;
  const inside = probed.map(([name, results]) => [
    name,
    ms(medianOf(results, (r) => probe(r).inProcessUs.p50)),
    ms(medianOf(results, (r) => probe(r).inProcessUs.p99)),
    ms(medianOf(results, (r) => probe(r).inProcessUs.p999)),
    ms(medianOf(results, (r) => probe(r).upstreamUs.p50)),
    ms(medianOf(results, (r) => probe(r).upstreamUs.p99)),
    ms(medianOf(results, (r) => probe(r).upstreamUs.p999)),
    ms(medianOf(results, (r) => probe(r).loopDelayUs.p99)),
    ms(medianOf(results, (r) => probe(r).loopDelayUs.max)),
    medianOf(results, (r) => probe(r).connectionsOpened).toFixed(0),
  ]);
  const seconds = settings.durationS;
  const gc = probed.map(([name, results]) => [
    name,
    (medianOf(results, (r) => probe(r).gc.minor.count) / seconds).toFixed(1),
    medianOf(results, (r) => probe(r).gc.minor.totalMs / Math.max(1, probe(r).gc.minor.count)).toFixed(2),
    medianOf(results, (r) => probe(r).gc.minor.maxMs).toFixed(1),
    medianOf(results, (r) => probe(r).gc.major.count).toFixed(0),
    medianOf(results, (r) => probe(r).gc.major.maxMs).toFixed(1),
    (medianOf(results, (r) => (probe(r).gc.minor.totalMs + probe(r).gc.major.totalMs) / (seconds * 1000)) * 100).toFixed(1) + " %",
  ]);
  return [
    "the client's latency (ms); how late the generator sent (its own stalls) and the most it queued for a connection (the load core's fault when direct's queue is not near zero)",
    textTable(["target", "p50", "p99", "p99.9", "sent late p99", "most queued"], client),
    "",
    "inside each gateway (ms): a request from arrival to the end of its response, the wait for the upstream's answer within it, and the event loop's delay",
    textTable(["gateway", "in p50", "in p99", "in p99.9", "upstream p50", "upstream p99", "upstream p99.9", "loop delay p99", "loop delay max", "connections opened"], inside),
    "",
    "GC pauses over the measured run",
    textTable(["gateway", "scavenges/s", "mean ms", "max ms", "mark-compacts", "max ms", "of the time"], gc),
  ].join("\n");
}

function say(text: string): void {
  process.stdout.write(text);
}

await runBench({
  name: "tail bench",
  cleanUp: async () => {
    await stopAll();
    if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
  },
}, main);
