// A gateway's limiter under steady load while its Redis fails: a private redis-server is stopped
// in the middle of the load and started again, and in a second story frozen for a while (CLIENT
// PAUSE), which is how a hung or overloaded Redis looks to a client. Throughout, no decision waits
// much past the 50 ms deadline; while Redis is away each limit does what its onStoreFailure says
// (open admits, closed refuses as "store-unavailable", local counts in process up to its limit);
// when Redis is back the same store, never restarted, decides in Redis again. And nothing is
// counted twice: Redis holds exactly the units of the decisions that reached it — none of those
// asked while it was down is replayed after it returns, and one that reached a frozen Redis is
// counted once when it wakes, although the caller was answered by the failure mode.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import type { Verdict } from "../../src/limiter/decision.js";
import type { FailureMode, LeaseRelease, LimitCheck } from "../../src/limiter/policy.js";
import { FailoverStore } from "../../src/stores/failoverStore.js";
import { MemoryStore } from "../../src/stores/memoryStore.js";
import { createRedisClient, lateReplyWindow } from "../../src/stores/redis/client.js";
import { RedisStore } from "../../src/stores/redis/redisStore.js";
import { StoreTimeout, type RateLimitStore, type SharedStore } from "../../src/stores/store.js";
import { capturingLogger } from "../support/logCapture.js";
import { uniquePrefix } from "../support/redis.js";
import { queryRedis, startRedisServer, type RedisServer } from "../support/redisServer.js";

const TIMEOUT_MS = 50;
// The bound is on the deadline mechanism, not on speed: a decision must be answered when its
// deadline fires, not when Redis comes back. A timer fires late by however long the event loop
// is busy (other decisions of the wave, a GC pause, a busy 2-core machine), so each call is
// allowed 150 ms on top; a store that waited for Redis would take the whole outage (> 500 ms).
const ANSWER_BOUND_MS = TIMEOUT_MS + 150;
const WINDOW_MS = 3_600_000;
/** Large enough that Redis never refuses the open and closed limits here: all they measure is who decided. */
const ROOMY_LIMIT = 1_000_000;
/** The local limit: the in-process fallback must admit exactly this many during the outage. */
const LOCAL_LIMIT = 30;
const CALLS_PER_MODE_PER_WAVE = 3;
/** A short pause between waves keeps the load steady instead of spinning while decisions fail fast. */
const WAVE_GAP_MS = 10;
const WAIT_LIMIT_MS = 15_000;

const checkFor = (mode: FailureMode): LimitCheck => ({
  key: `${mode}|c=load`,
  policy: { name: mode, algorithm: "fixed-window", limit: mode === "local" ? LOCAL_LIMIT : ROOMY_LIMIT, windowMs: WINDOW_MS, onStoreFailure: mode },
  cost: 1,
});

interface Call {
  readonly mode: FailureMode;
  /** The phase the call was made in. */
  readonly phase: string;
  readonly ms: number;
  readonly verdict: Verdict;
}

/** What the Redis store itself answered, per call, whatever the failover store made of it. */
interface PrimaryOutcome {
  readonly key: string;
  readonly phase: string;
  readonly outcome: "admitted" | "refused" | "timed out" | "failed";
}

/** The Redis store as the failover store sees it, recording each outcome and the phase it was asked in. */
class RecordingStore implements SharedStore {
  readonly outcomes: PrimaryOutcome[] = [];
  /** The key of every check whose charge the failover store gave back. */
  readonly refunded: string[] = [];
  constructor(
    private readonly inner: RedisStore,
    private readonly phase: () => string,
  ) {}

  consume(checks: readonly LimitCheck[]): Promise<Verdict> {
    const phase = this.phase();
    const record = (outcome: PrimaryOutcome["outcome"]) => checks.forEach((c) => this.outcomes.push({ key: c.key, phase, outcome }));
    return this.inner.consume(checks).then(
      (verdict) => {
        record(verdict.allowed ? "admitted" : "refused");
        return verdict;
      },
      (error: unknown) => {
        record(error instanceof StoreTimeout ? "timed out" : "failed");
        throw error;
      },
    );
  }

  probe(): Promise<void> {
    return this.inner.probe();
  }

  refund(checks: readonly LimitCheck[], at: number): Promise<void> {
    this.refunded.push(...checks.map((c) => c.key));
    return this.inner.refund(checks, at);
  }

  get pending(): number {
    return this.inner.pending;
  }

  release(leases: readonly LeaseRelease[]): Promise<void> {
    return this.inner.release(leases);
  }

  reset(key: string): Promise<void> {
    return this.inner.reset(key);
  }

  ready(): Promise<boolean> {
    return this.inner.ready();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Waves of concurrent decisions, one limit each, until stopped; each call timed and tagged with the current phase. */
class Load {
  phase = "up";
  readonly calls: Call[] = [];
  #stopped = false;
  #running: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: RateLimitStore,
    private readonly modes: readonly FailureMode[],
  ) {}

  start(): void {
    this.#running = this.#loop();
  }

  /** Resolves once `done` holds for the calls so far; fails the test after WAIT_LIMIT_MS. */
  async until(what: string, done: (calls: readonly Call[]) => boolean): Promise<void> {
    const deadline = Date.now() + WAIT_LIMIT_MS;
    while (!done(this.calls)) {
      if (Date.now() > deadline) throw new Error(`waited ${WAIT_LIMIT_MS} ms for ${what}`);
      await delay(WAVE_GAP_MS);
    }
  }

  async stop(): Promise<readonly Call[]> {
    this.#stopped = true;
    await this.#running;
    return this.calls;
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      const wave: Promise<void>[] = [];
      for (const mode of this.modes) for (let i = 0; i < CALLS_PER_MODE_PER_WAVE; i++) wave.push(this.#call(mode));
      await Promise.all(wave);
      await delay(WAVE_GAP_MS);
    }
  }

  async #call(mode: FailureMode): Promise<void> {
    const phase = this.phase;
    const started = performance.now();
    const verdict = await this.store.consume([checkFor(mode)]);
    this.calls.push({ mode, phase, ms: performance.now() - started, verdict });
  }
}

let server: RedisServer;
before(async () => {
  server = await startRedisServer();
});
after(() => server.close());

/** A failover store over its own Redis connection, as createLimiterStore builds it, with every Redis outcome recorded. */
async function failoverStore(phase: () => string) {
  const { logger, lines } = capturingLogger();
  const client = createRedisClient(server.url, { commandTimeoutMs: lateReplyWindow(TIMEOUT_MS) });
  client.on("error", () => undefined);
  const redis = new RedisStore({ client, keyPrefix: uniquePrefix(), timeoutMs: TIMEOUT_MS });
  const primary = new RecordingStore(redis, phase);
  const store = new FailoverStore({ primary, fallback: new MemoryStore({ sweepIntervalMs: 0 }), timeoutMs: TIMEOUT_MS, logger });
  assert.equal(await store.ready(), true, "connected before the load starts");
  // A peek (cost 0) counts nothing but loads the script, so no decision of the load pays for that.
  await redis.consume([{ ...checkFor("open"), cost: 0 }]);
  return { store, redis, primary, logs: lines };
}

/** The count a fixed-window limit holds in Redis ("start count"), read without the client under test. */
async function countInRedis(redis: RedisStore, check: LimitCheck): Promise<number> {
  const value = await queryRedis(server.port, ["GET", redis.redisKey(check)]);
  return value === null ? 0 : Number(value.split(" ")[1]);
}

const byRedis = (call: Call) => call.verdict.via === undefined;
const byFailureMode = (call: Call) => call.verdict.via === "store-failure";
const count = <T>(items: readonly T[], test: (item: T) => boolean) => items.filter(test).length;

describe("a limiter under load when Redis is stopped and started again", () => {
  let calls: readonly Call[] = [];
  let primary: RecordingStore;
  let redis: RedisStore;
  let logs: () => Record<string, unknown>[];
  let load: Load;

  before(async () => {
    const built = await failoverStore(() => load.phase);
    ({ primary, redis, logs } = built);
    load = new Load(built.store, ["open", "closed", "local"]);
    try {
      load.start();
      await load.until("decisions by Redis", (cs) => count(cs, byRedis) >= 18);
      load.phase = "stopping";
      await server.stop();
      // Redis has exited: every decision from here until the restart must be a failure mode's.
      load.phase = "down";
      await load.until(`more than ${LOCAL_LIMIT} local decisions during the outage`, (cs) => count(cs, (c) => c.phase === "down" && c.mode === "local") >= LOCAL_LIMIT + 10);
      load.phase = "starting";
      await server.start();
      load.phase = "recovering";
      await load.until("Redis to decide each limit again", (cs) => ["open", "closed", "local"].every((mode) => cs.some((c) => c.phase === "recovering" && c.mode === mode && byRedis(c))));
      load.phase = "back";
      await load.until("a few waves decided by Redis", (cs) => count(cs, (c) => c.phase === "back" && byRedis(c)) >= 18);
    } finally {
      try {
        calls = await load.stop();
      } finally {
        await built.store.close();
      }
    }
  });

  it("answers every decision within the deadline, plus a margin for scheduling", (t) => {
    const slowest = Math.max(...calls.map((c) => c.ms));
    t.diagnostic(`${calls.length} decisions, ${count(calls, byFailureMode)} by failure modes; slowest ${slowest.toFixed(1)} ms`);
    assert.ok(slowest <= ANSWER_BOUND_MS, `slowest decision took ${slowest.toFixed(1)} ms; bound ${ANSWER_BOUND_MS} ms`);
  });

  it("admits an open limit while Redis is down, saying so", () => {
    const down = calls.filter((c) => c.phase === "down" && c.mode === "open");
    assert.ok(down.length > 0);
    assert.ok(down.every((c) => c.verdict.allowed && byFailureMode(c)));
  });

  it("refuses a closed limit while Redis is down, as store-unavailable", () => {
    const down = calls.filter((c) => c.phase === "down" && c.mode === "closed");
    assert.ok(down.length > 0);
    for (const { verdict } of down) {
      assert.equal(verdict.allowed, false);
      assert.equal(verdict.via, "store-failure");
      assert.equal(verdict.decisions[0]?.reason, "store-unavailable");
    }
  });

  it("counts a local limit in process while Redis is down: exactly its limit admitted, then refused as over the limit", () => {
    const local = calls.filter((c) => c.mode === "local" && byFailureMode(c));
    assert.ok(calls.filter((c) => c.phase === "down" && c.mode === "local").every(byFailureMode));
    assert.ok(local.length > LOCAL_LIMIT);
    assert.equal(count(local, (c) => c.verdict.allowed), LOCAL_LIMIT);
    for (const { verdict } of local.filter((c) => !c.verdict.allowed)) {
      assert.equal(verdict.decisions[0]?.reason, undefined, "refused by the count, not for want of a store");
      assert.ok(verdict.decisions[0]?.retryAfterMs !== undefined);
    }
  });

  it("decides in Redis again once Redis is back, without a restart of the store", () => {
    const back = calls.filter((c) => c.phase === "back");
    assert.ok(count(back, byRedis) >= 18);
    for (const mode of ["open", "closed", "local"] as const) {
      assert.ok(back.some((c) => c.mode === mode && byRedis(c) && c.verdict.allowed), `Redis admits the ${mode} limit again`);
    }
  });

  it("logs the outage when it begins and when it ends", () => {
    const began = logs().filter((l) => String(l["msg"]).includes("is failing"));
    const ended = logs().filter((l) => String(l["msg"]).includes("answers again"));
    assert.ok(began.length >= 1);
    assert.equal(ended.length, began.length, "every outage that began has ended");
    assert.ok(ended.every((l) => typeof l["outageMs"] === "number"));
  });

  it("never replays a decision asked while Redis was down", () => {
    const asked = primary.outcomes.filter((o) => o.phase === "down");
    assert.ok(asked.length > 0);
    assert.deepEqual(new Set(asked.map((o) => o.outcome)), new Set(["failed"]), "each failed at once and was never sent later");
  });

  // The restarted Redis keeps nothing on disk, so it counts from zero: what it holds is what
  // reached it since — every decision it admitted in time, and none asked during the outage. A
  // decision whose answer came after the deadline may be counted too (docs/redis.md): it is
  // bounded here, not required, because the first script call after the restart meets NOSCRIPT,
  // and a call that times out then was never run.
  it("holds in Redis exactly the decisions it admitted after the restart, none of the outage's, none twice", async (t) => {
    const afterRestart = ["starting", "recovering", "back"];
    for (const mode of ["open", "closed", "local"] as const) {
      const check = checkFor(mode);
      const reached = primary.outcomes.filter((o) => o.key === check.key && afterRestart.includes(o.phase));
      const admitted = count(reached, (o) => o.outcome === "admitted");
      const late = count(reached, (o) => o.outcome === "timed out");
      const told = count(calls, (c) => c.mode === mode && afterRestart.includes(c.phase) && byRedis(c) && c.verdict.allowed);
      const counted = await countInRedis(redis, check);
      t.diagnostic(`${mode}: Redis counts ${counted}; it admitted ${admitted} after the restart (${told} in time), ${late} more timed out`);
      assert.ok(told <= admitted, `${mode}: every admission reported as Redis's is Redis's`);
      assert.ok(counted >= admitted && counted <= admitted + late, `${mode}: Redis counts ${counted}; admitted ${admitted}, timed out ${late}`);
    }
  });
});

describe("a limiter under load when Redis freezes for a while (CLIENT PAUSE)", () => {
  const PAUSE_MS = 800;
  let calls: readonly Call[] = [];
  let primary: RecordingStore;
  let redis: RedisStore;
  let load: Load;

  before(async () => {
    const built = await failoverStore(() => load.phase);
    ({ primary, redis } = built);
    load = new Load(built.store, ["open", "closed"]);
    try {
      load.start();
      await load.until("decisions by Redis", (cs) => count(cs, byRedis) >= 12);
      const pausedAt = Date.now();
      assert.equal(await queryRedis(server.port, ["CLIENT", "PAUSE", String(PAUSE_MS), "ALL"]), "OK");
      // Decisions asked from now until well before the pause ends cannot be answered in time.
      load.phase = "frozen";
      await load.until("the pause to near its end", () => Date.now() - pausedAt >= PAUSE_MS - 4 * TIMEOUT_MS);
      load.phase = "thawing";
      await load.until("Redis to decide again", (cs) => count(cs, (c) => c.phase === "thawing" && byRedis(c)) >= 12);
      load.phase = "thawed";
      await load.until("a few waves decided by Redis", (cs) => count(cs, (c) => c.phase === "thawed" && byRedis(c)) >= 12);
    } finally {
      try {
        calls = await load.stop();
      } finally {
        await built.store.close();
      }
    }
  });

  it("answers by the deadline, not when Redis wakes up", (t) => {
    const frozen = calls.filter((c) => c.phase === "frozen");
    assert.ok(frozen.length > 0);
    assert.ok(frozen.every(byFailureMode), "every decision asked of the frozen Redis was answered by its failure mode");
    const slowest = Math.max(...calls.map((c) => c.ms));
    t.diagnostic(`${frozen.length} decisions asked of the frozen Redis; slowest of all ${slowest.toFixed(1)} ms`);
    assert.ok(slowest <= ANSWER_BOUND_MS, `slowest decision took ${slowest.toFixed(1)} ms; bound ${ANSWER_BOUND_MS} ms, pause ${PAUSE_MS} ms`);
  });

  it("applies open and closed while Redis is frozen", () => {
    const frozen = calls.filter((c) => c.phase === "frozen");
    assert.ok(frozen.filter((c) => c.mode === "open").every((c) => c.verdict.allowed));
    assert.ok(frozen.filter((c) => c.mode === "closed").every((c) => !c.verdict.allowed && c.verdict.decisions[0]?.reason === "store-unavailable"));
  });

  it("decides in Redis again when Redis wakes up", () => {
    const thawed = calls.filter((c) => c.phase === "thawed");
    for (const mode of ["open", "closed"] as const) assert.ok(thawed.some((c) => c.mode === mode && byRedis(c) && c.verdict.allowed), `Redis admits the ${mode} limit again`);
  });

  // A script sent before the deadline sits in the frozen Redis's input and runs when it wakes.
  // Its caller was answered by the failure mode: an open limit admitted it, so Redis's charge is
  // right and stays; a closed limit refused it, so the charge is given back (no charge without
  // an answer). Redis ends up counting exactly the requests that were admitted, once each.
  it("keeps the charge of a late decision its caller was admitted by, and gives back one it was refused", async (t) => {
    for (const mode of ["open", "closed"] as const) {
      const check = checkFor(mode);
      const reached = primary.outcomes.filter((o) => o.key === check.key);
      const timedOut = count(reached, (o) => o.outcome === "timed out");
      assert.ok(timedOut > 0, `${mode}: some decisions waited for the frozen Redis`);
      const refunded = count(primary.refunded, (key) => key === check.key);
      t.diagnostic(`${mode}: ${reached.length} reached Redis, ${timedOut} of them answered after the deadline, ${refunded} charges given back`);
      assert.equal(refunded, mode === "open" ? 0 : timedOut, `${mode}: charges given back`);
      const admitted = count(reached, (o) => o.outcome === "admitted");
      assert.equal(await countInRedis(redis, check), mode === "open" ? admitted + timedOut : admitted, `${mode}: Redis's count`);
    }
  });
});
