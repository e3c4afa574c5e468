/**
 * The store conformance suite: what every limiter store promises, for every registered algorithm,
 * on a clock the test moves. Each store's test file runs it (`runStoreSuite({ name, newStore })`),
 * so the memory store and the Redis store (single server and Cluster) are held to one table:
 * ALGORITHM_CASES (test/support/algorithmCases.ts), a policy of 3 units per second per algorithm
 * with the waits it promises. The random histories in redisStore.test.ts then hold Redis to the
 * memory store's exact numbers everywhere else.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { ALGORITHM_NAMES, registrationOf } from "../../src/limiter/algorithms/index.js";
import type { Decision } from "../../src/limiter/decision.js";
import type { LimitCheck, Policy } from "../../src/limiter/policy.js";
import type { Clock } from "../../src/limits/clock.js";
import type { RateLimitStore } from "../../src/stores/store.js";
import { ALGORITHM_CASES, T0 } from "../support/algorithmCases.js";
import { ManualClock } from "../support/manualClock.js";

export interface StoreSuiteOptions {
  readonly name: string;
  /** A store with no state, deciding on `clock`; the suite closes it after its test. */
  readonly newStore: (clock: Clock) => RateLimitStore | Promise<RateLimitStore>;
}

/** Fixed windows that admit one request a minute, or ten: the other limits of the all-or-nothing tests. */
const ONCE: Policy = { name: "once", algorithm: "fixed-window", limit: 1, windowMs: 60_000 };
const GENEROUS: Policy = { ...ONCE, name: "generous", limit: 10 };

/** Times within a microsecond are equal: a fractional wait at epoch milliseconds is rounded. */
function assertTime(actual: number | undefined, expected: number, message: string): void {
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-3, `${message}: ${actual} where ${expected} was expected`);
}

export function runStoreSuite({ name, newStore }: StoreSuiteOptions): void {
  describe(`${name} conforms to the store contract`, () => {
    const open: RateLimitStore[] = [];
    afterEach(async () => {
      await Promise.all(open.splice(0).map((store) => store.close()));
    });

    for (const algorithm of ALGORITHM_NAMES) {
      const { policy, refused, wholeAfterMs } = ALGORITHM_CASES[algorithm];
      const releases = registrationOf(algorithm).algorithm.release !== undefined;

      describe(algorithm, () => {
        let clock: ManualClock;
        let store: RateLimitStore;
        let requests = 0;
        /** A check of `policy` on `subject`, with a lease of its own (concurrency's; the others ignore it). */
        const check = (cost = 1, subject = "c=alice", limit: Policy = policy): LimitCheck => ({ key: `${limit.name}|${subject}`, policy: limit, cost, lease: `r${++requests}` });
        const consume = async (...checks: LimitCheck[]) => store.consume(checks);
        const decide = async (c: LimitCheck): Promise<Decision> => (await consume(c)).decisions[0]!;
        async function fresh(): Promise<void> {
          clock = new ManualClock(T0);
          store = await newStore(clock.read);
          open.push(store);
        }
        async function spend(subject = "c=alice"): Promise<void> {
          for (let i = 0; i < 3; i++) assert.equal((await consume(check(1, subject))).allowed, true, `unit ${i + 1} of 3`);
        }

        it("admits up to its size, counting down, then refuses with the wait it promised", async () => {
          await fresh();
          const admitted = [await decide(check()), await decide(check()), await decide(check())];
          assert.deepEqual(admitted.map((d) => [d.allowed, d.remaining]), [[true, 2], [true, 1], [true, 0]]);
          const verdict = await consume(check());
          assert.equal(verdict.allowed, false);
          assert.equal(verdict.now, T0, "decided on the store's clock");
          const denial = verdict.decisions[0]!;
          assert.deepEqual([denial.allowed, denial.limit, denial.remaining, denial.reason], [false, 3, 0, undefined]);
          assertTime(denial.retryAfterMs, refused.retryAfterMs, "retryAfterMs");
          assertTime(denial.resetAt, T0 + refused.resetAfterMs, "resetAt");
        });

        it("admits the refused request once the wait is over, and is whole again after its window", async () => {
          await fresh();
          await spend();
          // Store clocks read whole milliseconds (Date.now, Redis's TIME), so a client waits into the next one.
          clock.advance(Math.ceil(refused.retryAfterMs));
          assert.equal((await consume(check())).allowed, true, "after retryAfterMs");

          await fresh();
          await spend();
          clock.advance(wholeAfterMs);
          assert.equal((await decide(check())).remaining, 2, "whole again");
        });

        it("refuses a cost above its size outright, charging nothing", async () => {
          await fresh();
          const denial = await decide(check(4));
          assert.deepEqual([denial.allowed, denial.reason, denial.retryAfterMs], [false, "cost-exceeds-limit", policy.windowMs]);
          assert.equal((await decide(check(0))).remaining, 3);
        });

        it("peeks at a cost of 0, charging nothing", async () => {
          await fresh();
          await consume(check());
          const peeks = [await decide(check(0)), await decide(check(0))];
          assert.deepEqual(peeks.map((d) => [d.allowed, d.remaining]), [[true, 2], [true, 2]]);
          assert.equal((await decide(check(2))).remaining, 0, "the two units the peeks saw are still there");
        });

        it("charges nothing to it when another limit refuses the request", async () => {
          await fresh();
          assert.equal((await consume(check(), check(1, "c=alice", ONCE))).allowed, true);
          const refusedByOther = await consume(check(), check(1, "c=alice", ONCE));
          assert.equal(refusedByOther.allowed, false);
          assert.deepEqual(refusedByOther.decisions.map((d) => [d.allowed, d.remaining]), [[true, 2], [false, 0]], "it reports its state untouched");
          assert.equal((await decide(check(0))).remaining, 2);
        });

        it("charges nothing to another limit when it refuses the request", async () => {
          await fresh();
          await spend();
          const verdict = await consume(check(), check(1, "c=alice", GENEROUS));
          assert.deepEqual(verdict.decisions.map((d) => [d.allowed, d.remaining]), [[false, 0], [true, 10]]);
          assert.equal((await decide(check(0, "c=alice", GENEROUS))).remaining, 10);
        });

        it("as a shadow limit decides and reports, never refuses, and counts only what is admitted", async () => {
          await fresh();
          const shadow: Policy = { ...policy, name: `${policy.name}-shadow`, shadow: true };
          await consume(check(2, "c=alice", shadow));
          const over = await consume(check(2, "c=alice", shadow));
          assert.equal(over.allowed, true, "admitted in spite of it");
          assert.deepEqual([over.decisions[0]!.allowed, over.decisions[0]!.remaining], [false, 1], "and reported as its refusal");
          const beside = await consume(check(2, "c=alice", shadow), check(1, "c=alice", GENEROUS));
          assert.equal(beside.allowed, true, "beside an enforced limit that admits");
          assert.deepEqual(beside.decisions.map((d) => [d.allowed, d.remaining]), [[false, 1], [true, 9]]);
          await consume(check(1, "c=alice", ONCE));
          assert.equal((await consume(check(1, "c=alice", shadow), check(1, "c=alice", ONCE))).allowed, false, "refused by the other limit");
          assert.equal((await decide(check(0, "c=alice", shadow))).remaining, 1, "nothing it refused, nor what another limit refused, was counted");
        });

        it("counts each key apart, and forgets a key on reset", async () => {
          await fresh();
          await spend();
          assert.equal((await decide(check(1, "c=bob"))).remaining, 2);
          await store.reset(check().key);
          assert.equal((await decide(check())).remaining, 2);
        });

        if (releases) {
          it("frees a lease's units when it is given back", async () => {
            await fresh();
            const held = check();
            await consume(held);
            await consume(check());
            await consume(check());
            assert.equal((await consume(check())).allowed, false);
            await store.release([{ key: held.key, policy: policy as Extract<Policy, { algorithm: "concurrency" }>, lease: held.lease!, units: 1 }]);
            assert.equal((await decide(check())).remaining, 0, "its slot taken again");
          });
        }
      });
    }
  });
}
