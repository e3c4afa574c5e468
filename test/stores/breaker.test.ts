// The breaker judges whether the shared store is failing from a run of outcomes, never from one:
// failures must go on, with no answer between them, for the span (a deadline's length) before it
// opens; probes then test the store, further apart while they fail, and it closes only after
// answered probes in a row.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Breaker } from "../../src/stores/breaker.js";

describe("Breaker", () => {
  it("stays closed through failures that all come within the span, however many", () => {
    const breaker = new Breaker({ spanMs: 50 });
    for (let i = 0; i < 1_000; i++) assert.equal(breaker.failed(1_000 + (i % 50)), undefined);
    assert.equal(breaker.isOpen, false);
  });

  it("opens when failures have gone on for the span, and says when they began", () => {
    const breaker = new Breaker({ spanMs: 50 });
    assert.equal(breaker.failed(1_000), undefined);
    assert.equal(breaker.failed(1_030), undefined);
    assert.equal(breaker.failed(1_050), 1_000);
    assert.equal(breaker.isOpen, true);
    assert.equal(breaker.failed(1_060), undefined, "an open breaker opens once");
  });

  it("starts counting again after any answer", () => {
    const breaker = new Breaker({ spanMs: 50 });
    breaker.failed(1_000);
    breaker.answered();
    assert.equal(breaker.failed(1_060), undefined, "60 ms after the first failure, but only 0 ms into this run");
    assert.equal(breaker.failed(1_110), 1_060);
  });

  it("opens at once when tripped (the store was not there at start-up)", () => {
    const breaker = new Breaker({ spanMs: 50 });
    breaker.trip();
    assert.equal(breaker.isOpen, true);
  });

  it("probes further apart while probes fail, up to the longest wait", () => {
    const breaker = new Breaker({ spanMs: 50, probeIntervalMs: 100, maxProbeIntervalMs: 700 });
    breaker.trip();
    assert.equal(breaker.probeIntervalMs, 100);
    assert.deepEqual([1, 2, 3, 4].map(() => breaker.probed(false)), [200, 400, 700, 700]);
  });

  it("closes after two answered probes in a row, not one, and starts probing afresh when it opens again", () => {
    const breaker = new Breaker({ spanMs: 50, probeIntervalMs: 100 });
    breaker.trip();
    assert.equal(breaker.probed(false), 200);
    assert.equal(breaker.probed(true), 100, "one answer: probe again soon");
    assert.equal(breaker.probed(false), 400, "a failure between breaks the run");
    assert.equal(breaker.probed(true), 100);
    assert.equal(breaker.probed(true), undefined, "closed");
    assert.equal(breaker.isOpen, false);
    breaker.trip();
    assert.equal(breaker.probed(false), 200, "a new outage begins at the first wait");
  });
});
