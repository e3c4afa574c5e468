// The key-guessing throttle on Sluice's own limiter, with a manual clock: an address is blocked
// once its refused keys reach the limit, for the rest of a window that began at its first one,
// and then let go; addresses count apart, but every address of one IPv6 /64 counts as one; and
// an instance that never saw the address fail learns of the block at the next failure it counts,
// from the shared store.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { invalidKeyThrottle } from "../../src/gateway/invalidKeyThrottle.js";
import { MemoryStore } from "../../src/stores/memoryStore.js";
import { ManualClock } from "../support/manualClock.js";

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
