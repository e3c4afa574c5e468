// The in-process store: decisions on an injected clock, several limits consumed together or not
// at all, and memory that stays bounded (expired state reclaimed, a cap on keys that evicts the
// least recently used). Last, the store contract every store meets, for every algorithm.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { LimitCheck, Policy } from "../../src/limiter/policy.js";
import { MemoryStore, type MemoryStoreOptions } from "../../src/stores/memoryStore.js";
import { ManualClock } from "../support/manualClock.js";
import { runStoreSuite } from "./storeSuite.js";

const twoPerSecond: Policy = { name: "fast", algorithm: "fixed-window", limit: 2, windowMs: 1000 };
const fivePerMinute: Policy = { name: "slow", algorithm: "fixed-window", limit: 5, windowMs: 60_000 };
const check = (key: string, policy = twoPerSecond, cost = 1): LimitCheck => ({ key, policy, cost });

const stores: MemoryStore[] = [];
function memoryStore(options: MemoryStoreOptions = {}): { store: MemoryStore; clock: ManualClock } {
  const clock = new ManualClock();
  const store = new MemoryStore({ clock: clock.read, sweepIntervalMs: 0, ...options });
  stores.push(store);
  return { store, clock };
}
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

describe("MemoryStore", () => {
  it("decides on its clock and remembers admitted requests per key", () => {
    const { store, clock } = memoryStore();
    const verdicts = [store.consume([check("alice")]), store.consume([check("alice")]), store.consume([check("alice")])];
    assert.deepEqual(verdicts.map((v) => v.allowed), [true, true, false]);
    assert.equal(verdicts[2]?.now, clock.now);
    assert.equal(store.consume([check("bob")]).allowed, true, "keys are counted apart");

    clock.advance(1000);
    assert.equal(store.consume([check("alice")]).allowed, true, "the window has ended");
  });

  it("answers synchronously: the hot path pays for no promise", () => {
    const { store } = memoryStore();
    assert.equal(store.consume([check("alice")]) instanceof Promise, false);
  });

  it("consumes several limits together, and none of them when one refuses", () => {
    const { store } = memoryStore();
    const both = [check("fast|alice"), check("slow|alice", fivePerMinute)];
    store.consume(both);
    store.consume(both);
    const refused = store.consume(both);
    assert.equal(refused.allowed, false);
    assert.equal(refused.decisions[1]?.remaining, 3, "the refused request cost the slow limit nothing");
  });

  it("forgets a key on reset", () => {
    const { store } = memoryStore();
    store.consume([check("alice", twoPerSecond, 2)]);
    store.reset("alice");
    assert.equal(store.consume([check("alice")]).decisions[0]?.remaining, 1);
  });

  it("drops expired state when it is read", () => {
    const { store, clock } = memoryStore();
    store.consume([check("alice")]);
    clock.advance(1000);
    store.consume([check("bob")]);
    assert.equal(store.size, 2);
    store.consume([check("alice", twoPerSecond, 0)]);
    assert.equal(store.size, 1, "a peek at an expired key removes it and writes nothing");
  });

  it("sweeps expired state that is never read again", () => {
    const { store, clock } = memoryStore();
    store.consume([check("alice")]);
    store.consume([check("forever", fivePerMinute)]);
    clock.advance(999);
    store.sweep();
    assert.equal(store.size, 2);
    clock.advance(1);
    store.sweep();
    assert.equal(store.size, 1);
  });

  it("sweeps on its timer in slices, over as many turns as the keys need, and keeps live keys", async () => {
    const { store, clock } = memoryStore({ sweepIntervalMs: 5 });
    for (let i = 0; i < 25_000; i++) store.consume([check(`gone-${i}`)]); // more than two slices
    store.consume([check("forever", fivePerMinute)]);
    clock.advance(1000);
    let turns = 0;
    while (store.size > 1 && turns++ < 1000) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(store.size, 1);
    assert.equal(store.consume([check("forever", fivePerMinute, 0)]).decisions[0]?.remaining, 4, "the live key kept its count");
  });

  it("evicts the least recently used key beyond its cap", () => {
    const { store } = memoryStore({ maxKeys: 2 });
    store.consume([check("a", fivePerMinute)]);
    store.consume([check("b", fivePerMinute)]);
    store.consume([check("a", fivePerMinute)]); // a is now the most recently written
    store.consume([check("c", fivePerMinute)]);
    assert.equal(store.size, 2);
    assert.equal(store.consume([check("a", fivePerMinute, 0)]).decisions[0]?.remaining, 3, "a was kept");
    assert.equal(store.consume([check("b", fivePerMinute, 0)]).decisions[0]?.remaining, 5, "b was evicted");
  });

  it("counts a refusal as a use, so a refused client is not evicted first and handed a fresh allowance", () => {
    const { store } = memoryStore({ maxKeys: 2 });
    const onePerMinute: Policy = { ...fivePerMinute, limit: 1 };
    store.consume([check("abuser", onePerMinute)]);
    store.consume([check("b", onePerMinute)]);
    assert.equal(store.consume([check("abuser", onePerMinute)]).allowed, false); // refused, and so used
    store.consume([check("c", onePerMinute)]);
    assert.equal(store.consume([check("abuser", onePerMinute)]).allowed, false, "the abuser's count was kept");
    assert.equal(store.consume([check("b", onePerMinute, 0)]).decisions[0]?.remaining, 1, "b was evicted");
  });

  it("evicts only keys left unused for at least half its cap of uses, whatever the order of use", () => {
    const maxKeys = 20;
    const { store } = memoryStore({ maxKeys });
    const lastUse = new Map<string, number>();
    let uses = 0;
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let step = 0; step < 2000; step++) {
      // Mostly a hot set of 10 keys, sometimes one of 200 cold ones.
      const key = random() < 0.7 ? `hot-${Math.floor(random() * 10)}` : `cold-${Math.floor(random() * 200)}`;
      store.consume([check(key, fivePerMinute)]);
      lastUse.set(key, ++uses);
      if (step % 50 !== 0) continue;
      for (const [known, at] of lastUse) {
        const kept = store.consume([check(known, fivePerMinute, 0)]).decisions[0]!.remaining < 5;
        if (!kept) {
          assert.ok(uses - at >= maxKeys / 2 - 1, `${known}, used ${uses - at} uses ago, was evicted`);
          lastUse.delete(known);
        }
      }
    }
    assert.ok(store.size <= maxKeys);
  });

  it("keeps every live key's count exact while several limits at once evict and reuse slots", () => {
    const { store } = memoryStore({ maxKeys: 6 });
    const hourly: Policy = { name: "h", algorithm: "fixed-window", limit: 1000, windowMs: 3_600_000 };
    const counted = new Map<string, number>();
    let seed = 11;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let step = 0; step < 3000; step++) {
      // Two or three keys per call, new ones among them, so a call inserts past the cap and evicts.
      const keys = [...new Set(Array.from({ length: 2 + Math.floor(random() * 2) }, () => `k${Math.floor(random() * 15)}`))];
      const checks: LimitCheck[] = keys.map((key): LimitCheck => check(key, hourly));
      assert.equal(store.consume(checks).allowed, true);
      for (const key of keys) counted.set(key, (counted.get(key) ?? 0) + 1);
      assert.ok(store.size <= 6);
      for (const [key, count] of counted) {
        const remaining: number = store.consume([check(key, hourly, 0)]).decisions[0]!.remaining;
        if (remaining === 1000) counted.delete(key); // evicted: it starts afresh
        else assert.equal(remaining, 1000 - count, `${key} kept its own count`);
      }
    }
  });

  it("forgets everything when closed", async () => {
    const { store } = memoryStore();
    store.consume([check("alice")]);
    await store.close();
    assert.equal(store.size, 0);
  });
});

runStoreSuite({ name: "MemoryStore", newStore: (clock) => new MemoryStore({ clock, sweepIntervalMs: 0 }) });
