// When Redis cannot answer, each limit does what its onStoreFailure says — admit (open), refuse
// with 503 (closed), or count in process (local). Whether Redis is failing is a judgement over
// time: failures without an answer between them for a deadline's length open a breaker, which
// then answers without asking Redis until probes find it answering again. A denial is remembered
// locally until it ends, so a flood from one key costs Redis nothing. Outages and the latency of
// every store call are reported to an observer (the metrics).
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { Verdict } from "../../src/limiter/decision.js";
import type { FailureMode, LimitCheck, Policy } from "../../src/limiter/policy.js";
import { createMetrics } from "../../src/observability/metrics.js";
import type { StoreObserver } from "../../src/observability/observers.js";
import { FailoverStore } from "../../src/stores/failoverStore.js";
import { StoreTimeout, type LateOutcome, type SharedStore } from "../../src/stores/store.js";
import { MemoryStore } from "../../src/stores/memoryStore.js";
import { createRedisClient } from "../../src/stores/redis/client.js";
import { RedisStore } from "../../src/stores/redis/redisStore.js";
import { capturingLogger } from "../support/logCapture.js";
import { ManualClock } from "../support/manualClock.js";
import { metricLines } from "../support/metricLines.js";
import { pollUntil } from "../support/poll.js";
import { TEST_REDIS_URL, testRedisClient, uniquePrefix } from "../support/redis.js";

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers) await close();
});

async function failoverOn(url: string, clock = new ManualClock(), observer?: StoreObserver) {
  const { logger, lines } = capturingLogger();
  const prefix = uniquePrefix();
  const store = new FailoverStore({
    primary: new RedisStore({ client: createRedisClient(url, { commandTimeoutMs: 2_000 }).on("error", () => undefined), keyPrefix: prefix, timeoutMs: 50 }),
    fallback: new MemoryStore({ clock: clock.read, sweepIntervalMs: 0 }),
    timeoutMs: 50,
    logger,
    clock: clock.read,
    observer,
  });
  closers.push(() => store.close());
  if (url === TEST_REDIS_URL) await store.ready();
  return { store, clock, lines, prefix };
}

const policy = (onStoreFailure: FailureMode): Policy => ({ name: onStoreFailure, algorithm: "fixed-window", limit: 2, windowMs: 60_000, onStoreFailure });
const check = (mode: FailureMode): LimitCheck => ({ key: `${mode}|c=alice`, policy: policy(mode), cost: 1 });

describe("FailoverStore with Redis unreachable (nothing listens on the port)", () => {
  const unreachable = "redis://127.0.0.1:1";

  it("admits an open limit, flagging the verdict", async () => {
    const { store } = await failoverOn(unreachable);
    const verdict = await store.consume([check("open")]);
    assert.equal(verdict.allowed, true);
    assert.equal(verdict.via, "store-failure");
  });

  it("refuses a closed limit as unavailable", async () => {
    const { store } = await failoverOn(unreachable);
    const verdict = await store.consume([check("open"), check("closed")]);
    assert.equal(verdict.allowed, false);
    assert.equal(verdict.decisions[1]?.reason, "store-unavailable");
  });

  it("counts a local limit in process, enforcing it there", async () => {
    const { store } = await failoverOn(unreachable);
    const results = [];
    for (let i = 0; i < 3; i++) results.push((await store.consume([check("local")])).allowed);
    assert.deepEqual(results, [true, true, false]);
  });

  it("calls it failing once failures have gone on for a deadline's length, and logs that once", async () => {
    const { store, clock, lines } = await failoverOn(unreachable);
    const failing = () => lines().filter((l) => String(l["msg"]).includes("is failing")).length;
    for (let i = 0; i < 5; i++) await store.consume([check("open")]);
    assert.equal(failing(), 0, "five failures in the same instant are not yet an outage");
    clock.advance(50);
    for (let i = 0; i < 5; i++) await store.consume([check("open")]);
    assert.equal(failing(), 1);
    assert.equal(store.failing, true);
  });

  it("shows the store degraded in the metrics, and counts every failed call", async () => {
    const metrics = createMetrics({ processMetrics: false });
    const clock = new ManualClock();
    const { store } = await failoverOn(unreachable, clock, metrics.storeObserver);
    await store.consume([check("open"), check("local")]);
    clock.advance(50);
    await store.consume([check("open"), check("local")]);
    // The breaker is open: this one is answered without a call.
    await store.consume([check("open"), check("local")]);
    const text = await metrics.render();
    assert.deepEqual(metricLines(text, "sluice_limiter_store_degraded"), ["sluice_limiter_store_degraded 1"]);
    assert.deepEqual(metricLines(text, "sluice_limiter_store_duration_seconds_count"), ["sluice_limiter_store_duration_seconds_count 2"]);
    assert.deepEqual(metricLines(text, "sluice_limiter_store_errors_total"), ['sluice_limiter_store_errors_total{kind="timeout"} 0', 'sluice_limiter_store_errors_total{kind="error"} 2']);
    assert.deepEqual(metricLines(text, "sluice_limiter_store_outage_duration_seconds_count"), ["sluice_limiter_store_outage_duration_seconds_count 0"]);
  });
});

describe("FailoverStore's breaker and observer", () => {
  /** A shared store that fails while `down` is true and admits everything otherwise; probes answer alike. */
  function flakyPrimary() {
    const state = { down: true, reachableAtStart: true, calls: 0, probes: 0 };
    const primary: SharedStore = {
      consume: (checks: readonly LimitCheck[]): Promise<Verdict> => {
        state.calls++;
        return state.down
          ? Promise.reject(new Error("connection refused"))
          : Promise.resolve({ allowed: true, decisions: checks.map((c) => ({ policy: c.policy, allowed: true, limit: c.policy.limit, remaining: c.policy.limit - 1, resetAt: 0 })), now: 0 });
      },
      probe: () => {
        state.probes++;
        return state.down ? Promise.reject(new Error("connection refused")) : Promise.resolve();
      },
      refund: () => Promise.resolve(),
      pending: 0,
      release: () => undefined,
      reset: () => undefined,
      ready: () => Promise.resolve(state.reachableAtStart),
      close: () => Promise.resolve(),
    };
    return { state, primary };
  }

  function observed(primary: SharedStore, clock: ManualClock) {
    const events: string[] = [];
    const { logger, lines } = capturingLogger();
    const observer: StoreObserver = {
      storeCall: (seconds) => events.push(seconds >= 0 && seconds < 1 ? "call" : `call ${seconds}`),
      storeFailure: (kind) => events.push(`failed (${kind})`),
      lateReply: (effect) => events.push(`late reply: ${effect}`),
      outageBegan: () => events.push("outage began"),
      outageEnded: (seconds) => events.push(`outage ended after ${seconds}s`),
    };
    // Probes 10 ms apart, so the test waits for the recovery briefly.
    const store = new FailoverStore({ primary, fallback: new MemoryStore({ clock: clock.read, sweepIntervalMs: 0 }), timeoutMs: 50, logger, clock: clock.read, observer, probeIntervalMs: 10 });
    closers.push(() => store.close());
    return { store, events, lines };
  }

  it("stops asking a failing store, probes it, and reports the outage's length on the store's clock", async () => {
    const clock = new ManualClock();
    const { state, primary } = flakyPrimary();
    const { store, events, lines } = observed(primary, clock);
    await store.consume([check("open")]);
    clock.advance(1_500);
    await store.consume([check("open")]);
    assert.deepEqual(events, ["call", "failed (error)", "call", "failed (error)", "outage began"]);
    const answered = await store.consume([check("open")]);
    assert.equal(answered.via, "store-failure");
    assert.equal(state.calls, 2, "an open breaker answers without asking the store");

    clock.advance(1_000);
    state.down = false;
    await pollUntil(() => Promise.resolve(store.failing), (failing) => !failing);
    assert.equal(store.failing, false, "two answered probes close the breaker");
    assert.ok(state.probes >= 2);
    assert.deepEqual(events.slice(5), ["outage ended after 2.5s"]);
    assert.deepEqual(lines().filter((l) => l["msg"] === "the limiter store answers again").map((l) => l["outageMs"]), [2_500], "the log line stays");
    assert.equal((await store.consume([check("open")])).via, undefined, "decided by the store again");
  });

  it("does not call a store failing when an answer comes between failures", async () => {
    const clock = new ManualClock();
    const { state, primary } = flakyPrimary();
    const { store } = observed(primary, clock);
    for (let i = 0; i < 5; i++) {
      state.down = true;
      await store.consume([check("open")]);
      clock.advance(40);
      state.down = false;
      await store.consume([check("open")]);
      clock.advance(40);
    }
    assert.equal(store.failing, false, "200 ms of intermittent failures, never 50 ms without an answer");
  });

  it("begins the outage at start-up when the store is not reachable, before any request", async () => {
    const clock = new ManualClock();
    const { state, primary } = flakyPrimary();
    state.reachableAtStart = false;
    const { store, events, lines } = observed(primary, clock);
    assert.equal(await store.ready(), false);
    assert.deepEqual(events, ["outage began"]);
    const verdict = await store.consume([check("open")]);
    assert.equal(verdict.via, "store-failure");
    assert.deepEqual(events, ["outage began"], "the first decision belongs to the same outage, and asks nothing");
    assert.equal(lines().filter((l) => l["level"] === 40).length, 1, "one warning per outage");
  });

  it("does not call the observer for a denial the over-limit cache answers", async () => {
    const clock = new ManualClock();
    const { state, primary } = flakyPrimary();
    state.down = false;
    const denying = { ...primary, consume: (checks: readonly LimitCheck[]): Promise<Verdict> => Promise.resolve({ allowed: false, decisions: checks.map((c) => ({ policy: c.policy, allowed: false, limit: c.policy.limit, remaining: 0, resetAt: 0, retryAfterMs: 10_000 })), now: 0 }) };
    const { store, events } = observed(denying, clock);
    const c = check("open");
    await store.consume([c]);
    const cached = await store.consume([c]);
    assert.equal(cached.via, "over-limit-cache");
    assert.deepEqual(events, ["call"]);
  });
});

describe("FailoverStore's late replies", () => {
  /** A shared store whose every decision misses its deadline, and whose late reply is `late`. */
  function latePrimary(late: () => Promise<LateOutcome | undefined>) {
    const refunds: { keys: string[]; at: number }[] = [];
    const primary: SharedStore = {
      consume: () => Promise.reject(new StoreTimeout(50, late())),
      probe: () => Promise.resolve(),
      refund: (checks, at) => {
        refunds.push({ keys: checks.map((c) => c.key), at });
        return Promise.resolve();
      },
      pending: 0,
      release: () => undefined,
      reset: () => undefined,
      close: () => Promise.resolve(),
    };
    return { primary, refunds };
  }
  const admitted = (checks: readonly LimitCheck[]): LateOutcome => ({
    verdict: { allowed: true, decisions: checks.map((c) => ({ policy: c.policy, allowed: true, limit: c.policy.limit, remaining: 0, resetAt: 0 })), now: 1_234 },
    charged: checks,
  });
  function failover(primary: SharedStore) {
    const { logger, lines } = capturingLogger();
    const effects: string[] = [];
    const observer: StoreObserver = { storeCall: () => undefined, storeFailure: () => undefined, lateReply: (e) => effects.push(e), outageBegan: () => undefined, outageEnded: () => undefined };
    const store = new FailoverStore({ primary, fallback: new MemoryStore({ sweepIntervalMs: 0 }), timeoutMs: 50, logger, observer });
    closers.push(() => store.close());
    return { store, effects, lines };
  }
  const settled = () => new Promise((resolve) => setImmediate(resolve));

  it("gives back the charge of a decision its caller was refused (closed), with the decision's time", async () => {
    const c = check("closed");
    const { primary, refunds } = latePrimary(() => Promise.resolve(admitted([c])));
    const { store, effects } = failover(primary);
    assert.equal((await store.consume([c])).allowed, false);
    await settled();
    assert.deepEqual(refunds, [{ keys: [c.key], at: 1_234 }]);
    assert.deepEqual(effects, ["refunded"]);
  });

  it("keeps the charge of a decision its caller was admitted by (open)", async () => {
    const c = check("open");
    const { primary, refunds } = latePrimary(() => Promise.resolve(admitted([c])));
    const { store, effects } = failover(primary);
    assert.equal((await store.consume([c])).allowed, true);
    await settled();
    assert.deepEqual(refunds, []);
    assert.deepEqual(effects, ["kept"]);
  });

  it("gives back nothing when the late reply never comes: whether the script ran cannot be known", async () => {
    const { primary, refunds } = latePrimary(() => Promise.resolve(undefined));
    const { store, effects } = failover(primary);
    assert.equal((await store.consume([check("closed")])).allowed, false);
    await settled();
    assert.deepEqual(refunds, []);
    assert.deepEqual(effects, []);
  });

  it("survives a late reply that fails to settle: a warning, no crash", async () => {
    const { primary, refunds } = latePrimary(() => Promise.reject(new Error("an unreadable reply")));
    const { store, lines } = failover(primary);
    assert.equal((await store.consume([check("closed")])).allowed, false);
    await settled();
    assert.deepEqual(refunds, []);
    assert.ok(lines().some((l) => l["level"] === 40 && String(l["msg"]).includes("could not settle")));
  });
});

describe("FailoverStore with Redis up", () => {
  it("remembers a denial and answers it locally until it ends", async () => {
    const { store, clock, prefix } = await failoverOn(TEST_REDIS_URL);
    const admin = testRedisClient();
    closers.push(() => admin.quit().then(() => undefined));
    const c = check("open");
    await store.consume([c]);
    await store.consume([c]);
    const denied = await store.consume([c]);
    assert.equal(denied.allowed, false);
    assert.equal(denied.via, undefined, "the first denial comes from Redis");

    // Redis forgets the counter; the cached denial still holds, so Redis was not asked.
    await admin.del(`${prefix}{c=alice}open:f`);
    const cached = await store.consume([c]);
    assert.equal(cached.allowed, false);
    assert.equal(cached.via, "over-limit-cache");

    clock.advance(denied.decisions[0]!.retryAfterMs!);
    const afterwards = await store.consume([c]);
    assert.equal(afterwards.allowed, true, "once the denial ends, Redis decides again");
  });

});
