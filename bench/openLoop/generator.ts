/**
 * The open-loop load generator: requests go out at a constant rate whatever the answers do, and
 * each one's latency is counted from when it was due, not from when it could be sent, so a stall
 * in the target shows in full (no coordinated omission: a closed loop like wrk's stops sending
 * while the target stalls and so under-reports the tail). wrk2 would do this; it is not packaged
 * here.
 *
 * Requests are due every 1/rate s; a timer wakes every millisecond and sends every request that
 * has come due, each with the next API key of the file, over an undici Pool of `connections`
 * keep-alive connections (enough that none waits for a free connection at the offered rate, or
 * the wait is counted too). A response with a status ≥ 400 or a failure is counted as an error.
 * Prints one JSON line: sent, completed, errors, latency percentiles (µs), achieved rate, and two
 * checks on the run: how late its requests went out (the generator's own stalls), and the most
 * that waited at once for a free connection (a slow target's, or a starved load core's when
 * `direct` queues too).
 *
 * The first `warm-up` seconds run at the same rate and are not counted (connections opening, JIT).
 *
 *   node --import tsx bench/openLoop/generator.ts <url> <keys file> <rate/s> <seconds> <warm-up s> [connections]
 */
import { readFileSync } from "node:fs";
import { createHistogram } from "node:perf_hooks";
import { Pool } from "undici";

export interface OpenLoopResult {
  readonly rate: number;
  readonly sent: number;
  readonly completed: number;
  readonly errors: number;
  /** Completed responses per second over the run. */
  readonly achievedRate: number;
  readonly latencyUs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly p999: number; readonly max: number };
  /** How late requests went out (the generator's own stalls, counted in their latency). */
  readonly sentLateUs: { readonly p99: number; readonly max: number };
  /** Most requests queued in the generator for a free connection at once, after the warm-up. */
  readonly maxQueued: number;
}

async function main(): Promise<void> {
  const [, , url, keysFile, rateText, secondsText, warmupText, connectionsText] = process.argv;
  const rate = Number(rateText);
  const seconds = Number(secondsText);
  const warmupS = Number(warmupText ?? "0");
  const connections = Number(connectionsText ?? "64");
  if (url === undefined || keysFile === undefined || !(rate > 0) || !(seconds > 0) || !(warmupS >= 0) || !(connections > 0)) {
    process.stderr.write("usage: generator.ts <url> <keys file> <rate/s> <seconds> <warm-up s> [connections]\n");
    process.exit(2);
  }
  const target = new URL(url);
  const path = target.pathname + target.search;
  const keys = readFileSync(keysFile, "utf8").split("\n").filter((k) => k !== "");
  const pool = new Pool(target.origin, { connections, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const histogram = createHistogram({ lowest: 1, highest: 60_000_000_000, figures: 3 });
  /** How late each request went out: the generator's own stalls, which it counts in every latency. */
  const late = createHistogram({ lowest: 1, highest: 60_000_000_000, figures: 3 });
  const uncounted = Math.round(rate * warmupS);
  const total = uncounted + Math.round(rate * seconds);
  const intervalNs = 1e9 / rate;
  let sent = 0;
  let completed = 0;
  let errors = 0;
  let nextKey = 0;
  /** Most requests waiting in the pool for a connection at once, after the warm-up. */
  let maxQueued = 0;

  const start = process.hrtime.bigint();
  const done = new Promise<void>((resolve) => {
    const finish = () => {
      if (completed + errors === total) resolve();
    };
    const send = (dueNs: bigint, counted: boolean) => {
      if (counted) late.record(Math.max(1, Number(process.hrtime.bigint() - dueNs)));
      const key = keys[nextKey]!;
      nextKey = (nextKey + 1) % keys.length;
      pool.request({ path, method: "GET", headers: { "x-api-key": key } }).then(async ({ statusCode, body }) => {
        await body.dump();
        const latency = Number(process.hrtime.bigint() - dueNs);
        if (statusCode >= 400) errors++;
        else {
          completed++;
          if (counted) histogram.record(Math.max(1, latency));
        }
        finish();
      }, () => {
        errors++;
        finish();
      });
    };
    const tick = () => {
      if (sent >= uncounted) maxQueued = Math.max(maxQueued, pool.stats.pending);
      const elapsed = Number(process.hrtime.bigint() - start);
      while (sent < total && sent * intervalNs <= elapsed) {
        send(start + BigInt(Math.round(sent * intervalNs)), sent >= uncounted);
        sent++;
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  await done;
  const durationS = Number(process.hrtime.bigint() - start) / 1e9 - warmupS;
  await pool.close();
  const us = (ns: number) => Math.round(ns / 1000);
  const result: OpenLoopResult = {
    rate,
    sent: sent - uncounted,
    completed: histogram.count,
    errors,
    achievedRate: histogram.count / durationS,
    latencyUs: { p50: us(histogram.percentile(50)), p90: us(histogram.percentile(90)), p99: us(histogram.percentile(99)), p999: us(histogram.percentile(99.9)), max: us(histogram.max) },
    sentLateUs: { p99: us(late.percentile(99)), max: us(late.max) },
    maxQueued,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
