// A target's breaker: closed while requests succeed, open after enough consecutive failures,
// one probe after the backoff, closed again by a good probe, longer open by a bad one.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CircuitBreaker } from "../../../src/gateway/upstream/circuitBreaker.js";
import { ManualClock } from "../../support/manualClock.js";

const SETTINGS = { failures: 3, backoffMs: 1_000, maxBackoffMs: 3_000 };

function opened(clock: ManualClock): CircuitBreaker {
  const breaker = new CircuitBreaker(SETTINGS, clock.read);
  for (let i = 0; i < SETTINGS.failures; i++) breaker.failed();
  return breaker;
}

describe("CircuitBreaker", () => {
  it("stays closed below the failure threshold, and a success resets the count", () => {
    const breaker = new CircuitBreaker(SETTINGS, new ManualClock().read);
    breaker.failed();
    breaker.failed();
    breaker.succeeded();
    breaker.failed();
    breaker.failed();
    assert.equal(breaker.state, "closed");
    assert.equal(breaker.admits(), true);
  });

  it("opens after consecutive failures and refuses requests for the backoff", () => {
    const clock = new ManualClock();
    const breaker = opened(clock);
    assert.equal(breaker.state, "open");
    assert.equal(breaker.admits(), false);
    clock.advance(999);
    assert.equal(breaker.admits(), false);
  });

  it("lets exactly one probe through once the backoff has passed", () => {
    const clock = new ManualClock();
    const breaker = opened(clock);
    clock.advance(1_000);
    assert.equal(breaker.state, "half-open");
    assert.equal(breaker.wouldAdmit(), true);
    assert.equal(breaker.admits(), true);
    assert.equal(breaker.admits(), false, "a second request waits for the probe's outcome");
    assert.equal(breaker.wouldAdmit(), false);
  });

  it("lets another probe through when the first never reports (its client left), a backoff later", () => {
    const clock = new ManualClock();
    const breaker = opened(clock);
    clock.advance(1_000);
    assert.equal(breaker.admits(), true);
    clock.advance(999);
    assert.equal(breaker.admits(), false);
    clock.advance(1);
    assert.equal(breaker.admits(), true);
  });

  it("closes when the probe succeeds", () => {
    const clock = new ManualClock();
    const breaker = opened(clock);
    clock.advance(1_000);
    breaker.admits();
    breaker.succeeded();
    assert.equal(breaker.state, "closed");
    assert.equal(breaker.admits(), true);
  });

  it("reopens for twice the backoff when the probe fails, up to the maximum", () => {
    const clock = new ManualClock();
    const breaker = opened(clock);
    const backoffs: number[] = [];
    for (let round = 0; round < 3; round++) {
      const openedAt = clock.now;
      while (!breaker.admits()) clock.advance(100);
      backoffs.push(clock.now - openedAt);
      breaker.failed();
    }
    assert.deepEqual(backoffs, [1_000, 2_000, 3_000]);
  });

  it("starts again from the first backoff after recovering", () => {
    const clock = new ManualClock();
    const breaker = opened(clock);
    clock.advance(1_000);
    breaker.admits();
    breaker.failed(); // open for 2 s
    clock.advance(2_000);
    breaker.admits();
    breaker.succeeded();
    for (let i = 0; i < SETTINGS.failures; i++) breaker.failed();
    clock.advance(1_000);
    assert.equal(breaker.admits(), true);
  });
});
