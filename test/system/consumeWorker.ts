/**
 * One gateway process of the exactness test (exactAcrossProcesses.test.ts), reduced to its
 * limiter: it opens its own Redis connection and RedisStore, reports "ready", waits for "go", then
 * fires its share of decisions on one key as fast as it can and reports what it was told.
 *
 * The decisions go out in waves, one wave per turn of the event loop and none awaited before the
 * next, so a batching store sends several script calls that interleave with the other processes'
 * calls instead of one call per process. Run it with `node --import tsx`; it speaks over the IPC
 * channel of child_process.fork and exits when its parent goes away.
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import type { Verdict } from "../../src/limiter/decision.js";
import type { LimitCheck } from "../../src/limiter/policy.js";
import { createRedisClient } from "../../src/stores/redis/client.js";
import { RedisStore } from "../../src/stores/redis/redisStore.js";

/** One race: every process gets the same round and fires `requests` decisions of `checks`. */
export interface Round {
  readonly url: string;
  readonly keyPrefix: string;
  readonly batch: boolean;
  readonly requests: number;
  readonly waves: number;
  /** The limits of each decision; a concurrency check gets a lease of its own per request. */
  readonly checks: readonly LimitCheck[];
}

/** What one process saw. */
export interface RoundResult {
  readonly admitted: number;
  /** Per admitted decision, the `remaining` of each of its checks. */
  readonly remaining: readonly (readonly number[])[];
  /** Decisions that threw instead of answering (a timeout, a lost connection): expected none. */
  readonly failures: readonly string[];
  /** The earliest and latest Redis clock reading among the verdicts. */
  readonly firstNow: number;
  readonly lastNow: number;
}

export type ToWorker = { readonly type: "prepare"; readonly round: Round } | { readonly type: "go" };
export type FromWorker =
  | { readonly type: "up" }
  | { readonly type: "ready" }
  | { readonly type: "done"; readonly result: RoundResult }
  | { readonly type: "failed"; readonly error: string };

/** Generous: a decision that times out would be counted by Redis yet reported as a failure. */
const COMMAND_TIMEOUT_MS = 10_000;

let prepared: { readonly store: RedisStore; readonly round: Round } | undefined;

function send(message: FromWorker): void {
  process.send!(message);
}

async function prepare(round: Round): Promise<void> {
  const client = createRedisClient(round.url, { commandTimeoutMs: COMMAND_TIMEOUT_MS });
  client.on("error", () => undefined);
  const store = new RedisStore({ client, keyPrefix: round.keyPrefix, batch: round.batch });
  if (!(await store.ready(5_000))) throw new Error(`could not connect to ${round.url}`);
  prepared = { store, round };
  send({ type: "ready" });
}

async function go(): Promise<void> {
  if (prepared === undefined) throw new Error("go before prepare");
  const { store, round } = prepared;
  prepared = undefined;
  const perWave = Math.ceil(round.requests / round.waves);
  const pending: Promise<Verdict | Error>[] = [];
  for (let i = 0; i < round.requests; i++) {
    if (i > 0 && i % perWave === 0) await nextTurn();
    const checks = round.checks.map((c) => (c.policy.algorithm === "concurrency" ? { ...c, lease: `${process.pid}:${i}` } : c));
    pending.push(store.consume(checks).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))));
  }
  const outcomes = await Promise.all(pending);
  await store.close();

  const verdicts = outcomes.filter((o): o is Verdict => !(o instanceof Error));
  const admitted = verdicts.filter((v) => v.allowed);
  send({
    type: "done",
    result: {
      admitted: admitted.length,
      remaining: admitted.map((v) => v.decisions.map((d) => d.remaining)),
      failures: outcomes.filter((o): o is Error => o instanceof Error).map((e) => e.message),
      firstNow: Math.min(...verdicts.map((v) => v.now)),
      lastNow: Math.max(...verdicts.map((v) => v.now)),
    },
  });
}

process.on("message", (message: ToWorker) => {
  const work = message.type === "prepare" ? prepare(message.round) : go();
  work.catch((error: unknown) => send({ type: "failed", error: error instanceof Error ? error.stack ?? error.message : String(error) }));
});
// Without a parent there is nobody to report to, and nobody to wait for.
process.on("disconnect", () => process.exit(0));
send({ type: "up" });
