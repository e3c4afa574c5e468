// Every algorithm against a model simple enough to be obviously right, over random request
// histories (fast-check): random gaps between requests, random costs, a small random policy.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { concurrency, fixedWindow, gcra, slidingWindowCounter, slidingWindowLog, tokenBucket } from "../../../src/limiter/algorithms/index.js";
import type { Algorithm } from "../../../src/limiter/algorithm.js";
import type { Policy } from "../../../src/limiter/policy.js";

interface Step { readonly gap: number; readonly cost: number }
const steps = fc.array(fc.record({ gap: fc.integer({ min: 0, max: 400 }), cost: fc.integer({ min: 0, max: 4 }) }), { maxLength: 60 });
const sizes = fc.record({ limit: fc.integer({ min: 1, max: 6 }), windowMs: fc.integer({ min: 1, max: 20 }).map((n) => n * 100) });
const START = 1_700_000_000_000;

/** Replays a history through an algorithm, keeping state as a store would; returns each step's time and decision. */
function replay<S, P extends Policy>(algorithm: Algorithm<S, P>, policy: P, history: readonly Step[]) {
  let state: S | undefined;
  let now = START;
  return history.map(({ gap, cost }, i) => {
    now += gap;
    const outcome = algorithm.decide(state, policy, now, cost, `lease-${i}`);
    if (outcome.decision.allowed) state = outcome.state;
    return { now, cost, decision: outcome.decision };
  });
}

const admittedUnits = (events: ReturnType<typeof replay>, from: number, to: number) =>
  events.filter((e) => e.decision.allowed && e.now >= from && e.now < to).reduce((sum, e) => sum + e.cost, 0);

describe("the sliding window log", () => {
  it("admits exactly when the units of the last window plus the cost fit the limit", () => {
    fc.assert(fc.property(sizes, steps, ({ limit, windowMs }, history) => {
      const policy = { name: "p", algorithm: "sliding-window-log", limit, windowMs } as const;
      const events = replay(slidingWindowLog, policy, history);
      for (const e of events) {
        const inWindow = admittedUnits(events.filter((x) => x !== e && x.now <= e.now && events.indexOf(x) < events.indexOf(e)), e.now - windowMs + 1, e.now + 1);
        assert.equal(e.decision.allowed, e.cost <= limit && inWindow + e.cost <= limit);
      }
    }));
  });
});

describe("the fixed window", () => {
  it("never admits more than the limit in one window, and refuses only a full one", () => {
    fc.assert(fc.property(sizes, steps, fc.boolean(), ({ limit, windowMs }, history, clock) => {
      const policy = { name: "p", algorithm: "fixed-window", limit, windowMs, align: clock ? "clock" : "first-request" } as const;
      // A window opens with the first request it admits.
      let windowEnd = -Infinity;
      let used = 0;
      for (const e of replay(fixedWindow, policy, history)) {
        const fresh = e.now >= windowEnd;
        const end = fresh ? (clock ? e.now - (e.now % windowMs) : e.now) + windowMs : windowEnd;
        const before = fresh ? 0 : used;
        assert.equal(e.decision.allowed, before + e.cost <= limit);
        assert.equal(e.decision.resetAt, end);
        if (e.decision.allowed) [windowEnd, used] = [end, before + e.cost];
      }
    }));
  });
});

describe("GCRA and the token bucket", () => {
  it("admit the same requests when the burst is the capacity", () => {
    fc.assert(fc.property(sizes, fc.integer({ min: 1, max: 8 }), steps, ({ limit, windowMs }, burst, history) => {
      const a = replay(gcra, { name: "p", algorithm: "gcra", limit, windowMs, burst }, history);
      const b = replay(tokenBucket, { name: "p", algorithm: "token-bucket", limit, windowMs, capacity: burst }, history);
      assert.deepEqual(a.map((e) => e.decision.allowed), b.map((e) => e.decision.allowed));
      assert.deepEqual(a.map((e) => e.decision.remaining), b.map((e) => e.decision.remaining));
    }));
  });

  it("never admit more than the burst plus the rate over any stretch of time", () => {
    fc.assert(fc.property(sizes, fc.integer({ min: 1, max: 8 }), steps, ({ limit, windowMs }, burst, history) => {
      const events = replay(gcra, { name: "p", algorithm: "gcra", limit, windowMs, burst }, history);
      for (const from of events) {
        for (const to of events) {
          if (to.now < from.now) continue;
          const admitted = admittedUnits(events, from.now, to.now + 1);
          assert.ok(admitted <= burst + ((to.now - from.now) * limit) / windowMs + 1e-6, `${admitted} units in ${to.now - from.now} ms`);
        }
      }
    }));
  });
});

describe("the sliding window counter", () => {
  it("admits at most the limit per clock window, and at most twice the limit in any sliding window", () => {
    fc.assert(fc.property(sizes, steps, ({ limit, windowMs }, history) => {
      const events = replay(slidingWindowCounter, { name: "p", algorithm: "sliding-window-counter", limit, windowMs }, history);
      for (const e of events) {
        const start = e.now - (e.now % windowMs);
        assert.ok(admittedUnits(events, start, start + windowMs) <= limit);
        assert.ok(admittedUnits(events, e.now - windowMs + 1, e.now + 1) <= 2 * limit);
      }
    }));
  });
});

describe("the concurrency limit", () => {
  it("never holds more than the limit in flight, counting releases and lapsed leases", () => {
    const actions = fc.array(fc.record({ gap: fc.integer({ min: 0, max: 400 }), cost: fc.integer({ min: 0, max: 3 }), release: fc.nat({ max: 10 }) }), { maxLength: 60 });
    fc.assert(fc.property(sizes, actions, ({ limit, windowMs }, history) => {
      const policy = { name: "p", algorithm: "concurrency", limit, windowMs } as const;
      let state: Parameters<typeof concurrency.decide>[0];
      let now = START;
      const held = new Map<string, { units: number; until: number }>();
      history.forEach(({ gap, cost, release }, i) => {
        now += gap;
        const victim = [...held.keys()][release];
        if (victim !== undefined) {
          state = concurrency.release!(state, policy, now, victim)!.state;
          held.delete(victim);
        }
        for (const [lease, h] of held) if (h.until <= now) held.delete(lease);
        const inFlight = [...held.values()].reduce((sum, h) => sum + h.units, 0);
        const outcome = concurrency.decide(state, policy, now, cost, `lease-${i}`);
        assert.equal(outcome.decision.allowed, inFlight + cost <= limit);
        if (outcome.decision.allowed) {
          state = outcome.state;
          if (cost > 0) held.set(`lease-${i}`, { units: cost, until: now + windowMs });
        }
      });
    }));
  });
});
