// Someone guesses passwords. Every attempt is reserved before its password is checked; the
// throttle lets 5 wrong guesses at one account from one address through in 15 minutes and then
// refuses until that window ends, telling exactly when; a right password forgets the account's
// failures. Twenty guesses sent at once get 5 reservations, not 20. One address that fails 100
// times in a day, over any accounts, is refused for every account until its day is over. A
// refused attempt counts nothing, the same account counts together however its address is
// spelled, and the keys hold a hash, never the address. Everything holds on the memory store and
// on Redis alike.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, describe, it } from "node:test";
import { LOGIN_FAILURES_PER_ACCOUNT_IP, LOGIN_FAILURES_PER_IP, loginThrottle, loginThrottleKeys, type LoginThrottle } from "../../src/accounts/loginThrottle.js";
import { MemoryStore } from "../../src/stores/memoryStore.js";
import { RedisStore } from "../../src/stores/redis/redisStore.js";
import type { RateLimitStore } from "../../src/stores/store.js";
import { ManualClock } from "../support/manualClock.js";
import { testRedisClient, uniquePrefix } from "../support/redis.js";

const MINUTE = 60_000;
const stores: RateLimitStore[] = [];
after(async () => {
  await Promise.all(stores.map((s) => s.close()));
});

const STORES: readonly { name: string; newStore: (clock: ManualClock) => RateLimitStore }[] = [
  { name: "memory store", newStore: (clock) => new MemoryStore({ clock: clock.read, sweepIntervalMs: 0 }) },
  { name: "Redis store", newStore: (clock) => new RedisStore({ client: testRedisClient(), keyPrefix: uniquePrefix(), clock: clock.read }) },
];

describe("the policies", () => {
  it("are 5 failures per account and address per 15 minutes, and 100 per address per day, both fixed windows", () => {
    assert.deepEqual(
      { ...LOGIN_FAILURES_PER_ACCOUNT_IP },
      { name: "login.account-ip", algorithm: "fixed-window", limit: 5, windowMs: 15 * MINUTE, onStoreFailure: "local" },
    );
    assert.deepEqual(
      { ...LOGIN_FAILURES_PER_IP },
      { name: "login.ip", algorithm: "fixed-window", limit: 100, windowMs: 24 * 60 * MINUTE, onStoreFailure: "local" },
    );
  });
});

describe("the keys", () => {
  it("count one account together however its address is typed, and hold its SHA-256, never the address", () => {
    const keys = loginThrottleKeys(" Ada@Example.COM ", "10.0.0.7");
    assert.deepEqual(keys, loginThrottleKeys("ada@example.com", "10.0.0.7"));
    assert.equal(keys.accountIp, `login.account-ip|a=${createHash("sha256").update("ada@example.com").digest("hex")}|ip=10.0.0.7`);
    assert.equal(keys.ip, "login.ip|ip=10.0.0.7");
    assert.ok(!keys.accountIp.toLowerCase().includes("ada"));
  });

  it("keep typed braces and bars out of the key, where Redis reads a hash tag and Sluice separates parts", () => {
    const keys = loginThrottleKeys("{evil}|x@example.com", "10.0.0.7");
    assert.match(keys.accountIp, /^login\.account-ip\|a=[0-9a-f]{64}\|ip=10\.0\.0\.7$/);
  });
});

for (const { name, newStore } of STORES) {
  describe(`on the ${name}`, () => {
    const setup = () => {
      const clock = new ManualClock();
      const store = newStore(clock);
      stores.push(store);
      return { clock, store, throttle: loginThrottle(store) };
    };
    /** `times` wrong passwords, each reserved first as the login path does. */
    const fail = async (throttle: LoginThrottle, times: number, email: string, ip = "10.0.0.7") => {
      for (let i = 0; i < times; i++) {
        assert.equal((await throttle.reserve(email, ip)).allowed, true, `attempt ${i + 1}`);
        await throttle.failed(email, ip);
      }
    };

    it("refuses the 6th attempt at one account from one address until the window that began at the first failure ends", async () => {
      const { clock, throttle } = setup();
      await fail(throttle, 4, "ada@example.com");
      clock.advance(2 * MINUTE);
      await fail(throttle, 1, "ada@example.com");

      assert.deepEqual(await throttle.reserve("ada@example.com", "10.0.0.7"), { allowed: false, retryAfterSeconds: 13 * 60 });
      clock.advance(13 * MINUTE - 1_500);
      assert.deepEqual(await throttle.reserve("ADA@example.com", "10.0.0.7"), { allowed: false, retryAfterSeconds: 2 }, "rounded up to whole seconds");
      clock.advance(1_500);
      assert.deepEqual(await throttle.reserve("ada@example.com", "10.0.0.7"), { allowed: true });
    });

    it("admits 5 of 20 attempts sent at once: each takes its place before any password is checked", async () => {
      const { throttle } = setup();
      const answers = await Promise.all(Array.from({ length: 20 }, () => throttle.reserve("eve-target@example.com", "10.0.0.7")));
      assert.equal(answers.filter((a) => a.allowed).length, 5);
      for (const refused of answers.filter((a) => !a.allowed)) assert.deepEqual(refused, { allowed: false, retryAfterSeconds: 15 * 60 });
    });

    it("counts nothing for a refused attempt", async () => {
      const { store, throttle } = setup();
      await fail(throttle, 5, "grace@example.com");
      for (let i = 0; i < 20; i++) assert.equal((await throttle.reserve("grace@example.com", "10.0.0.7")).allowed, false);
      const { ip } = loginThrottleKeys("grace@example.com", "10.0.0.7");
      const verdict = await store.consume([{ key: ip, policy: LOGIN_FAILURES_PER_IP, cost: 0 }]);
      assert.equal(verdict.decisions[0]!.remaining, 100 - 5, "the address counts the 5 failures, not the refusals");
    });

    it("counts each account and each address apart", async () => {
      const { throttle } = setup();
      await fail(throttle, 5, "lin@example.com", "10.0.0.7");
      assert.equal((await throttle.reserve("lin@example.com", "10.0.0.7")).allowed, false);
      assert.equal((await throttle.reserve("lin@example.com", "10.0.0.8")).allowed, true, "the owner, elsewhere");
      assert.equal((await throttle.reserve("mo@example.com", "10.0.0.7")).allowed, true, "another account");
    });

    it("forgets an account's failures from an address after a right password, its reservation too, but not the address's", async () => {
      const { store, throttle } = setup();
      await fail(throttle, 4, "kay@example.com");
      assert.equal((await throttle.reserve("kay@example.com", "10.0.0.7")).allowed, true);
      await throttle.succeeded("kay@example.com", "10.0.0.7");
      await fail(throttle, 4, "kay@example.com");
      assert.equal((await throttle.reserve("kay@example.com", "10.0.0.7")).allowed, true, "8 failures, but 4 since the success");

      const { ip } = loginThrottleKeys("kay@example.com", "10.0.0.7");
      const verdict = await store.consume([{ key: ip, policy: LOGIN_FAILURES_PER_IP, cost: 0 }]);
      assert.equal(verdict.decisions[0]!.remaining, 100 - 8);
    });

    it("refuses every account at an address that failed 100 times in a day, until its day ends", async () => {
      const { clock, throttle } = setup();
      for (let account = 0; account < 20; account++) {
        await fail(throttle, 5, `spray-${account}@example.com`);
        clock.advance(MINUTE);
      }
      const refused = await throttle.reserve("someone-new@example.com", "10.0.0.7");
      assert.deepEqual(refused, { allowed: false, retryAfterSeconds: 24 * 3600 - 20 * 60 });
      assert.equal((await throttle.reserve("someone-new@example.com", "10.0.0.9")).allowed, true, "other addresses");

      clock.advance(24 * 60 * MINUTE - 20 * MINUTE);
      assert.equal((await throttle.reserve("someone-new@example.com", "10.0.0.7")).allowed, true);
    });

    it("waits for the later limit when both are spent", async () => {
      const { clock, throttle } = setup();
      for (let account = 0; account < 19; account++) await fail(throttle, 5, `spray-${account}@example.com`);
      clock.advance(MINUTE);
      await fail(throttle, 5, "last@example.com");
      assert.deepEqual(await throttle.reserve("last@example.com", "10.0.0.7"), { allowed: false, retryAfterSeconds: 24 * 3600 - 60 });
    });
  });
}
