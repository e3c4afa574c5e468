// Four OS processes, each a gateway's limiter with its own Redis connection, wait at a barrier and
// then fire 200 decisions each at one key whose limit is 100: 800 requests race for 100 units.
// Redis decides each request in one atomic script, so the processes together admit exactly the
// limit, never one more — for every algorithm that promises exactness, for a decision that takes
// several units from two limits at once, with decisions batched per event-loop turn (the default)
// or sent one by one. Each admitted request also saw its own count (no two read the same state),
// and a peek afterwards finds in Redis exactly the units that were admitted.
//
// The window is an hour, so the few seconds a race takes cannot refill a bucket or roll a window:
// the outcome does not depend on timing.
import assert from "node:assert/strict";
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import type { LimitCheck, Policy } from "../../src/limiter/policy.js";
import { RedisStore } from "../../src/stores/redis/redisStore.js";
import { TEST_REDIS_URL, testRedisClient, uniquePrefix } from "../support/redis.js";
import type { FromWorker, Round, RoundResult, ToWorker } from "./consumeWorker.js";

const PROCESSES = 4;
const REQUESTS_PER_PROCESS = 200;
const WAVES_PER_PROCESS = 10;
const LIMIT = 100;
const WINDOW_MS = 3_600_000;
const WORKER = fileURLToPath(new URL("./consumeWorker.ts", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Starting a process with tsx and connecting it takes well under this, even on a busy machine. */
const WORKER_REPLY_TIMEOUT_MS = 30_000;

/** A forked consumeWorker and a way to wait for its next message of a given type. */
class Worker {
  readonly #child: ChildProcess;
  readonly #inbox: FromWorker[] = [];
  #waiting: (() => void) | undefined;
  #exited = false;

  constructor() {
    this.#child = fork(WORKER, [], { cwd: REPO_ROOT, execArgv: ["--import", "tsx"], stdio: ["ignore", "ignore", "inherit", "ipc"] });
    this.#child.on("message", (message: FromWorker) => {
      this.#inbox.push(message);
      this.#waiting?.();
    });
    this.#child.once("exit", () => {
      this.#exited = true;
      this.#waiting?.();
    });
  }

  send(message: ToWorker): void {
    this.#child.send(message);
  }

  async next<T extends FromWorker["type"]>(type: T): Promise<Extract<FromWorker, { type: T }>> {
    const deadline = Date.now() + WORKER_REPLY_TIMEOUT_MS;
    for (;;) {
      const message = this.#inbox.shift();
      if (message?.type === "failed") throw new Error(`worker ${this.#child.pid} failed: ${message.error}`);
      if (message !== undefined) {
        assert.equal(message.type, type, `worker ${this.#child.pid} answered out of turn`);
        return message as Extract<FromWorker, { type: T }>;
      }
      if (this.#exited) throw new Error(`worker ${this.#child.pid} exited while we waited for "${type}"`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`worker ${this.#child.pid} sent no "${type}" within ${WORKER_REPLY_TIMEOUT_MS} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiting = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#waiting = undefined;
    }
  }

  async stop(): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise((resolve) => this.#child.once("exit", resolve));
    // Disconnecting makes the worker exit by itself; the kill is for one that hangs.
    if (this.#child.connected) this.#child.disconnect();
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

interface RaceOutcome {
  readonly admitted: number;
  readonly remaining: readonly (readonly number[])[];
  readonly firstNow: number;
  readonly lastNow: number;
  /** Each check's `remaining` as Redis holds it after the race, read by a peek (cost 0). */
  readonly remainingAfter: readonly number[];
}

let workers: Worker[] = [];
const admin = testRedisClient();
const prefixes: string[] = [];

before(async () => {
  workers = Array.from({ length: PROCESSES }, () => new Worker());
  await Promise.all(workers.map((w) => w.next("up")));
});

after(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  for (const prefix of prefixes) {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
  }
  await admin.quit();
});

/** Every process prepares, then all are told to go at once; their results are added up. */
async function race(checks: readonly LimitCheck[], batch: boolean): Promise<RaceOutcome> {
  const keyPrefix = uniquePrefix();
  prefixes.push(keyPrefix);
  const round: Round = { url: TEST_REDIS_URL, keyPrefix, batch, requests: REQUESTS_PER_PROCESS, waves: WAVES_PER_PROCESS, checks };
  for (const w of workers) w.send({ type: "prepare", round });
  await Promise.all(workers.map((w) => w.next("ready")));
  for (const w of workers) w.send({ type: "go" });
  const results: RoundResult[] = (await Promise.all(workers.map((w) => w.next("done")))).map((m) => m.result);

  assert.deepEqual(results.flatMap((r) => r.failures), [], "every decision was answered");
  const peeker = new RedisStore({ client: testRedisClient(), keyPrefix });
  try {
    const peek = await peeker.consume(checks.map((c) => ({ ...c, cost: 0 })));
    return {
      admitted: results.reduce((sum, r) => sum + r.admitted, 0),
      remaining: results.flatMap((r) => r.remaining),
      firstNow: Math.min(...results.map((r) => r.firstNow)),
      lastNow: Math.max(...results.map((r) => r.lastNow)),
      remainingAfter: peek.decisions.map((d) => d.remaining),
    };
  } finally {
    await peeker.close();
  }
}

/** The `remaining` values the admitted requests must have seen, one each: limit − cost·k for k = 1…admitted. */
function countdown(limit: number, cost: number, admitted: number): number[] {
  return Array.from({ length: admitted }, (_, k) => limit - cost * (k + 1));
}

const sorted = (values: readonly number[]) => [...values].sort((a, b) => b - a);

const oneLimit = (policy: Policy): LimitCheck[] => [{ key: `${policy.name}|c=hot`, policy, cost: 1 }];

const EXACT: readonly { readonly algorithm: string; readonly checks: LimitCheck[] }[] = [
  { algorithm: "gcra", checks: oneLimit({ name: "gcra", algorithm: "gcra", limit: LIMIT, windowMs: WINDOW_MS }) },
  { algorithm: "token-bucket", checks: oneLimit({ name: "token-bucket", algorithm: "token-bucket", limit: LIMIT, capacity: LIMIT, windowMs: WINDOW_MS }) },
  { algorithm: "sliding-window-log", checks: oneLimit({ name: "sliding-window-log", algorithm: "sliding-window-log", limit: LIMIT, windowMs: WINDOW_MS }) },
  { algorithm: "fixed-window", checks: oneLimit({ name: "fixed-window", algorithm: "fixed-window", limit: LIMIT, windowMs: WINDOW_MS }) },
  // Leases are never released here, so the limit is spent like any other.
  { algorithm: "concurrency", checks: oneLimit({ name: "concurrency", algorithm: "concurrency", limit: LIMIT, windowMs: WINDOW_MS }) },
];

// A request of cost 3 under a fixed window of 100 (alone it would admit 33) and a GCRA limit of
// 80 (alone 26): the GCRA limit binds, and the fixed window must lose only what was admitted.
const FIXED_COST_3: LimitCheck = { key: "quota|c=hot", policy: { name: "quota", algorithm: "fixed-window", limit: 100, windowMs: WINDOW_MS }, cost: 3 };
const GCRA_COST_3: LimitCheck = { key: "burst|c=hot", policy: { name: "burst", algorithm: "gcra", limit: 80, windowMs: WINDOW_MS }, cost: 3 };

for (const batch of [true, false]) {
  describe(`${PROCESSES} processes racing for one key through Redis, decisions ${batch ? "batched per event-loop turn" : "sent one by one"}`, () => {
    for (const { algorithm, checks } of EXACT) {
      it(`admit exactly the limit of a ${algorithm} limit, each admitted request seeing its own count`, async () => {
        const outcome = await race(checks, batch);
        assert.equal(outcome.admitted, LIMIT, `${PROCESSES * REQUESTS_PER_PROCESS} requests, limit ${LIMIT}`);
        assert.deepEqual(sorted(outcome.remaining.map(([r]) => r!)), countdown(LIMIT, 1, LIMIT));
        assert.deepEqual(outcome.remainingAfter, [0], "Redis holds exactly the admitted units");
      });
    }

    // The counter estimates the previous window's share, so it is approximate across a window
    // boundary; but a race inside one window sees no previous window and counts exactly. The
    // window is aligned to the clock, so a race may (rarely) straddle a boundary: then it may
    // admit one less than the limit, never more.
    it("never admit more than a sliding-window-counter limit, and exactly the limit within one window", async () => {
      const checks = oneLimit({ name: "sliding-window-counter", algorithm: "sliding-window-counter", limit: LIMIT, windowMs: WINDOW_MS });
      const outcome = await race(checks, batch);
      assert.ok(outcome.admitted <= LIMIT, `admitted ${outcome.admitted} of a limit of ${LIMIT}`);
      if (Math.floor(outcome.firstNow / WINDOW_MS) === Math.floor(outcome.lastNow / WINDOW_MS)) {
        assert.equal(outcome.admitted, LIMIT);
        assert.deepEqual(sorted(outcome.remaining.map(([r]) => r!)), countdown(LIMIT, 1, LIMIT));
      }
    });

    it("admit a request of cost 3 under two limits only while both admit it, taking from neither otherwise", async () => {
      const outcome = await race([FIXED_COST_3, GCRA_COST_3], batch);
      assert.equal(outcome.admitted, 26, "floor(80 / 3): the GCRA limit binds");
      assert.deepEqual(sorted(outcome.remaining.map(([fixed]) => fixed!)), countdown(100, 3, 26));
      assert.deepEqual(sorted(outcome.remaining.map(([, gcra]) => gcra!)), countdown(80, 3, 26));
      assert.deepEqual(outcome.remainingAfter, [100 - 3 * 26, 80 - 3 * 26], "the 774 refused requests took nothing from the fixed window");
    });
  });
}
