// Choosing a target: round-robin spreads evenly, least-in-flight prefers the least busy, both
// skip targets that are unhealthy, ejected or just failed, and a half-open target gets one probe.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Balancer } from "../../../src/gateway/upstream/balancer.js";
import { UpstreamTarget } from "../../../src/gateway/upstream/target.js";
import { ManualClock } from "../../support/manualClock.js";

const clock = new ManualClock();
const made: UpstreamTarget[] = [];
after(() => Promise.all(made.map((t) => t.pool.close())));

function targets(count: number): UpstreamTarget[] {
  const list = Array.from({ length: count }, (_, i) => new UpstreamTarget(new URL(`http://127.0.0.1:${10_000 + i}`), { connectMs: 1_000, headersMs: 1_000, bodyIdleMs: 1_000 }, { failures: 1, backoffMs: 1_000, maxBackoffMs: 1_000 }, clock.read));
  made.push(...list);
  return list;
}

function counts(balancer: Balancer, picks: number): number[] {
  const tally = balancer.targets.map(() => 0);
  for (let i = 0; i < picks; i++) tally[balancer.targets.indexOf(balancer.pick(undefined)!)]!++;
  return tally;
}

describe("round-robin", () => {
  it("takes each target in turn", () => {
    assert.deepEqual(counts(new Balancer(targets(3), "round-robin"), 300), [100, 100, 100]);
  });

  it("skips a target the health check took out and one whose breaker is open", () => {
    const [a, b, c] = targets(3);
    a!.checkedHealthy = false;
    b!.breaker.failed();
    assert.deepEqual(counts(new Balancer([a!, b!, c!], "round-robin"), 10), [0, 0, 10]);
  });

  it("never returns the excluded target (a retry goes elsewhere)", () => {
    const [a, b] = targets(2);
    const balancer = new Balancer([a!, b!], "round-robin");
    for (let i = 0; i < 5; i++) assert.equal(balancer.pick(a), b);
  });

  it("has nothing to offer when every target is out, including a lone one", () => {
    const [a, b] = targets(2);
    a!.checkedHealthy = false;
    b!.checkedHealthy = false;
    assert.equal(new Balancer([a!, b!], "round-robin").pick(undefined), undefined);
    assert.equal(new Balancer([a!], "round-robin").pick(undefined), undefined);
  });

  it("sends one probe to an ejected target once its backoff is over", () => {
    const [a, b] = targets(2);
    a!.breaker.failed();
    clock.advance(1_000);
    const picked = counts(new Balancer([a!, b!], "round-robin"), 10);
    assert.deepEqual(picked, [1, 9]);
    assert.equal(a!.health.state, "probing");
  });
});

describe("least-in-flight", () => {
  it("picks the target with the fewest requests outstanding", () => {
    const [a, b, c] = targets(3);
    a!.inFlight = 5;
    b!.inFlight = 1;
    c!.inFlight = 3;
    const balancer = new Balancer([a!, b!, c!], "least-in-flight");
    assert.equal(balancer.pick(undefined), b);
    assert.equal(balancer.pick(b), c);
  });

  it("shares the load among equally busy targets", () => {
    assert.deepEqual(counts(new Balancer(targets(2), "least-in-flight"), 10), [5, 5]);
  });

  it("skips unavailable targets however idle they are", () => {
    const [a, b] = targets(2);
    b!.inFlight = 10;
    a!.breaker.failed();
    assert.equal(new Balancer([a!, b!], "least-in-flight").pick(undefined), b);
  });
});

describe("a target's health, as the metrics read it", () => {
  it("names the state and the requests in flight", () => {
    const [a] = targets(1);
    assert.deepEqual(a!.health, { url: "http://127.0.0.1:10000/", state: "healthy", inFlight: 0 });
    a!.breaker.failed();
    assert.equal(a!.health.state, "ejected");
    a!.checkedHealthy = false;
    assert.equal(a!.health.state, "unhealthy");
  });
});
