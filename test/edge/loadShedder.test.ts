// The load shedder lets requests in while the process keeps up, and refuses new ones (with the
// reason) while the event loop runs late or too many decisions wait for the store. It counts
// every refusal and logs at most one line a second. Its clock is moved by hand and its samples
// taken by hand, as its timer would take them; one test blocks the event loop for real, since
// noticing that is the shedder's whole job.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { LoadShedder, type Plane } from "../../src/edge/loadShedder.js";
import { capturingLogger } from "../support/logCapture.js";

const shedders: LoadShedder[] = [];
after(() => shedders.forEach((s) => s.stop()));

const INTERVAL = 20;

function shedderWith(options: { maxEventLoopDelayMs?: number; maxPendingDecisions?: number; pending?: () => number; realClock?: boolean } = {}) {
  const { logger, lines } = capturingLogger();
  const shed: Plane[] = [];
  const clock = { now: 0 };
  const shedder = new LoadShedder({
    maxEventLoopDelayMs: options.maxEventLoopDelayMs ?? 1_000,
    maxPendingDecisions: options.maxPendingDecisions ?? 1_000,
    pending: options.pending ?? (() => 0),
    logger,
    onShed: (plane) => shed.push(plane),
    // With the hand-moved clock, the timer never fires within a test: samples are taken by hand.
    sampleIntervalMs: options.realClock === true ? 5 : INTERVAL,
    ...(options.realClock !== true && { clock: () => clock.now }),
  });
  if (options.realClock !== true) shedder.stop();
  shedders.push(shedder);
  /** The loop runs `lateMs` behind: the next sample is taken that late. */
  const runLate = (lateMs: number) => {
    clock.now += INTERVAL + lateMs;
    shedder.sample();
  };
  return { shedder, shed, clock, runLate, warnings: () => lines().filter((l) => l["level"] === 40) };
}

describe("LoadShedder", () => {
  it("lets requests in while the loop keeps up and nothing waits for the store", () => {
    const { shedder, shed, runLate } = shedderWith();
    runLate(3);
    assert.equal(shedder.shed("gateway"), undefined);
    assert.deepEqual(shed, []);
  });

  it("sheds while more decisions than its bound wait for the store, and lets in again once they are answered", () => {
    let pending = 11;
    const { shedder, shed } = shedderWith({ maxPendingDecisions: 10, pending: () => pending });
    assert.match(shedder.shed("service") ?? "", /11 decisions wait for the limiter store \(bound 10\)/);
    pending = 10;
    assert.equal(shedder.shed("service"), undefined);
    assert.deepEqual(shed, ["service"]);
  });

  it("sheds while a sample is overdue past its bound, before the next sample says so", () => {
    const { shedder, clock } = shedderWith({ maxEventLoopDelayMs: 30 });
    clock.now += INTERVAL + 40; // the loop has been busy 40 ms past the next sample
    assert.match(shedder.shed("gateway") ?? "", /the event loop runs 40 ms late \(bound 30 ms\)/);
  });

  it("sheds after a late sample until the loop is on time again", () => {
    const { shedder, runLate } = shedderWith({ maxEventLoopDelayMs: 30 });
    runLate(80);
    assert.match(shedder.shed("gateway") ?? "", /runs 80 ms late/);
    runLate(0);
    assert.equal(shedder.shed("gateway"), undefined);
  });

  it("does not shed for a delay within its bound", () => {
    const { shedder, runLate } = shedderWith({ maxEventLoopDelayMs: 200 });
    runLate(150);
    assert.equal(shedder.shed("gateway"), undefined);
  });

  it("counts every refusal by plane, and writes one line a second counting the refusals since the last", () => {
    const { shedder, shed, clock, warnings } = shedderWith({ maxPendingDecisions: 1, pending: () => 5 });
    for (let i = 0; i < 100; i++) shedder.shed(i % 2 === 0 ? "gateway" : "grpc");
    assert.equal(shed.length, 100);
    assert.equal(shed.filter((p) => p === "grpc").length, 50);
    assert.deepEqual(warnings().map((l) => l["shed"]), [1], "the first refusal is told at once");
    assert.match(String(warnings()[0]!["msg"]), /^shedding load: 5 decisions wait/);
    clock.now += 999;
    shedder.sample();
    assert.equal(warnings().length, 1, "not twice in a second");
    clock.now += 1;
    shedder.sample();
    assert.deepEqual(warnings().map((l) => l["shed"]), [1, 99], "the rest, told by the sampler once the spell is over");
  });

  it("notices a real block of the event loop at once", () => {
    const { shedder } = shedderWith({ maxEventLoopDelayMs: 30, realClock: true });
    const until = performance.now() + 80;
    while (performance.now() < until);
    // Still inside the task that blocked: the next sample is overdue by about 75 ms.
    assert.match(shedder.shed("gateway") ?? "", /the event loop runs \d+ ms late \(bound 30 ms\)/);
  });
});
