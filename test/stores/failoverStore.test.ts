// When Redis cannot answer, each limit does what its onStoreFailure says — admit (open), refuse
// with 503 (closed), or count in process (local) — and no decision waits past the deadline.
// A denial is remembered locally until it ends, so a flood from one key costs Redis nothing.
// Outages and the latency of every store call are reported to an observer (the metrics).
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { Verdict } from "../../src/limiter/decision.js";
import type { FailureMode, LimitCheck, Policy } from "../../src/limiter/policy.js";
import { createMetrics } from "../../src/observability/metrics.js";
import { FailoverStore, type StoreObserver } from "../../src/stores/failoverStore.js";
import { MemoryStore } from "../../src/stores/memoryStore.js";
import { createRedisClient } from "../../src/stores/redis/client.js";
import { RedisStore } from "../../src/stores/redis/redisStore.js";
import { capturingLogger } from "../support/logCapture.js";
import { ManualClock } from "../support/manualClock.js";
import { metricLines } from "../support/metricLines.js";
import { TEST_REDIS_URL, testRedisClient, uniquePrefix } from "../support/redis.js";

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers) await close();
});

async function failoverOn(url: string, clock = new ManualClock(), observer?: StoreObserver) {
  const { logger, lines } = capturingLogger();
  const prefix = uniquePrefix();
  const store = new FailoverStore({
    primary: new RedisStore({ client: createRedisClient(url, { commandTimeoutMs: 50 }).on("error", () => undefined), keyPrefix: prefix }),
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

  it("logs the outage once, not once per decision", async () => {
    const { store, lines } = await failoverOn(unreachable);
    for (let i = 0; i < 5; i++) await store.consume([check("open")]);
    assert.equal(lines().filter((l) => String(l["msg"]).includes("is failing")).length, 1);
  });

  it("shows the store degraded in the metrics and times every failed call", async () => {
    const metrics = createMetrics({ processMetrics: false });
    const { store } = await failoverOn(unreachable, new ManualClock(), metrics.storeObserver);
    for (let i = 0; i < 3; i++) await store.consume([check("open"), check("local")]);
    const text = await metrics.render();
    assert.deepEqual(metricLines(text, "sluice_limiter_store_degraded"), ["sluice_limiter_store_degraded 1"]);
    assert.deepEqual(metricLines(text, "sluice_limiter_store_duration_seconds_count"), ["sluice_limiter_store_duration_seconds_count 3"]);
    assert.deepEqual(metricLines(text, "sluice_limiter_store_outage_duration_seconds_count"), ["sluice_limiter_store_outage_duration_seconds_count 0"]);
  });
});

describe("FailoverStore's observer", () => {
  /** A primary that fails while `down` is true and admits everything otherwise. */
  function flakyPrimary() {
    const state = { down: true, reachableAtStart: true };
    const primary = {
      consume: (checks: readonly LimitCheck[]): Promise<Verdict> =>
        state.down
          ? Promise.reject(new Error("connection refused"))
          : Promise.resolve({ allowed: true, decisions: checks.map((c) => ({ policy: c.policy, allowed: true, limit: c.policy.limit, remaining: c.policy.limit - 1, resetAt: 0 })), now: 0 }),
      release: () => undefined,
      reset: () => undefined,
      ready: () => Promise.resolve(state.reachableAtStart),
      close: () => Promise.resolve(),
    };
    return { state, primary };
  }

  function observed(primary: ReturnType<typeof flakyPrimary>["primary"], clock: ManualClock) {
    const events: string[] = [];
    const { logger, lines } = capturingLogger();
    const observer: StoreObserver = {
      storeCall: (seconds) => events.push(seconds >= 0 && seconds < 1 ? "call" : `call ${seconds}`),
      outageBegan: () => events.push("outage began"),
      outageEnded: (seconds) => events.push(`outage ended after ${seconds}s`),
    };
    const store = new FailoverStore({ primary, fallback: new MemoryStore({ clock: clock.read, sweepIntervalMs: 0 }), timeoutMs: 50, logger, clock: clock.read, observer });
    closers.push(() => store.close());
    return { store, events, lines };
  }

  it("reports an outage once when it begins and once, with its length on the store's clock, when it ends", async () => {
    const clock = new ManualClock();
    const { state, primary } = flakyPrimary();
    const { store, events, lines } = observed(primary, clock);
    await store.consume([check("open")]);
    clock.advance(1_500);
    await store.consume([check("open")]);
    clock.advance(1_000);
    state.down = false;
    await store.consume([check("open")]);
    await store.consume([check("open")]);
    assert.deepEqual(events, ["call", "outage began", "call", "call", "outage ended after 2.5s", "call"]);
    assert.deepEqual(lines().filter((l) => l["msg"] === "the limiter store answers again").map((l) => l["outageMs"]), [2_500], "the log line stays");
  });

  it("begins the outage at start-up when the store is not reachable, before any request", async () => {
    const clock = new ManualClock();
    const { state, primary } = flakyPrimary();
    state.reachableAtStart = false;
    const { store, events, lines } = observed(primary, clock);
    assert.equal(await store.ready(), false);
    assert.deepEqual(events, ["outage began"]);
    await store.consume([check("open")]);
    assert.deepEqual(events, ["outage began", "call"], "the first failed decision belongs to the same outage");
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
