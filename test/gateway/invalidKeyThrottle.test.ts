// The key-guessing throttle on Sluice's own limiter, with a manual clock: an address is blocked
// once its refused keys reach the limit, for the rest of a window that began at its first one,
// and then let go; addresses count apart, but every address of one IPv6 /64 counts as one; and
// an instance that never saw the address fail learns of the block at the next failure it counts,
// from the shared store. Behind Redis, the block lasts what the store says is left, though the
// store's clock is not this instance's.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { invalidKeyThrottle } from "../../src/gateway/invalidKeyThrottle.js";
import { FailoverStore } from "../../src/stores/failoverStore.js";
import { MemoryStore } from "../../src/stores/memoryStore.js";
import { createRedisClient } from "../../src/stores/redis/client.js";
import { RedisStore } from "../../src/stores/redis/redisStore.js";
import { capturingLogger } from "../support/logCapture.js";
import { ManualClock } from "../support/manualClock.js";
import { TEST_REDIS_URL, uniquePrefix } from "../support/redis.js";

const THREE_A_MINUTE = { limit: 3, window: 60_000 };

function throttleOn(clock: ManualClock, store = new MemoryStore({ clock: clock.read, sweepIntervalMs: 0 })) {
  return { store, throttle: invalidKeyThrottle(store, THREE_A_MINUTE, { ipv6Prefix: 64, now: clock.read }) };
}

describe("invalidKeyThrottle", () => {
  it("blocks an address at its limit-th refused key until the window that began at its first ends", () => {
    const clock = new ManualClock();
    const { throttle } = throttleOn(clock);
    throttle.failed("203.0.113.9");
    clock.advance(20_000);
    throttle.failed("203.0.113.9");
    assert.equal(throttle.blockedFor("203.0.113.9"), undefined, "two of three: still trying");
    throttle.failed("203.0.113.9");
    assert.equal(throttle.blockedFor("203.0.113.9"), 40, "the window began 20 s ago");
    clock.advance(39_999);
    assert.equal(throttle.blockedFor("203.0.113.9"), 1);
    clock.advance(1);
    assert.equal(throttle.blockedFor("203.0.113.9"), undefined, "a new window, a new allowance");
  });

  it("counts each address apart, and an IPv6 /64 as one address", () => {
    const clock = new ManualClock();
    const { throttle } = throttleOn(clock);
    for (const host of ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"]) throttle.failed(host);
    assert.equal(throttle.blockedFor("2001:db8:1:2::99"), 60);
    assert.equal(throttle.blockedFor("2001:db8:1:3::1"), undefined);
    assert.equal(throttle.blockedFor("203.0.113.9"), undefined);
  });

  it("lets a second instance on the same store block the address at the first failure it counts", () => {
    const clock = new ManualClock();
    const { store, throttle: first } = throttleOn(clock);
    const second = throttleOn(clock, store).throttle;
    for (let i = 0; i < 3; i++) first.failed("198.51.100.7");
    assert.equal(second.blockedFor("198.51.100.7"), undefined, "it has seen nothing yet");
    second.failed("198.51.100.7");
    assert.equal(second.blockedFor("198.51.100.7"), 60);
  });
});

describe("invalidKeyThrottle behind Redis, whose clock is an hour ahead of this instance's", () => {
  const redisClock = new ManualClock();
  const clock = new ManualClock(redisClock.now - 3_600_000);
  const store = new FailoverStore({
    primary: new RedisStore({ client: createRedisClient(TEST_REDIS_URL, { commandTimeoutMs: 5_000 }), keyPrefix: uniquePrefix(), clock: redisClock.read, timeoutMs: 5_000 }),
    fallback: new MemoryStore({ clock: clock.read, sweepIntervalMs: 0 }),
    timeoutMs: 5_000,
    logger: capturingLogger().logger,
    clock: clock.read,
  });
  before(async () => assert.equal(await store.ready(), true, "Redis answers"));
  after(() => store.close());
  const throttle = invalidKeyThrottle(store, THREE_A_MINUTE, { ipv6Prefix: 64, now: clock.read });

  it("blocks for what is left of the window, whether Redis answered or the failover store's over-limit cache did", async () => {
    for (let i = 0; i < 3; i++) await throttle.failed("192.0.2.44");
    assert.equal(throttle.blockedFor("192.0.2.44"), 60);

    // Keys looked up before the block was known fail after it: Redis refuses the 4th, and the
    // failover store remembers the refusal…
    redisClock.advance(10_000);
    clock.advance(10_000);
    await throttle.failed("192.0.2.44");
    assert.equal(throttle.blockedFor("192.0.2.44"), 50);

    // …so the 5th is refused from memory, its wait on this instance's clock.
    redisClock.advance(10_000);
    clock.advance(10_000);
    await throttle.failed("192.0.2.44");
    assert.equal(throttle.blockedFor("192.0.2.44"), 40, "not an hour more");
  });
});
