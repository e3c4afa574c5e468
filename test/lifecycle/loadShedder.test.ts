// The load shedder lets requests in while the process keeps up, and refuses new ones (with the
// reason) while the event loop runs late or too many decisions wait for the store. It counts
// every refusal and logs at most one line a second. The event loop is blocked for real here: that
// is the condition under test, not a measure of speed.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { LoadShedder, type Plane } from "../../src/lifecycle/loadShedder.js";
import { capturingLogger } from "../support/logCapture.js";

const shedders: LoadShedder[] = [];
after(() => shedders.forEach((s) => s.stop()));

function shedderWith(options: { maxEventLoopDelayMs?: number; maxPendingDecisions?: number; pending?: () => number } = {}) {
  const { logger, lines } = capturingLogger();
  const shed: Plane[] = [];
  const shedder = new LoadShedder({
    maxEventLoopDelayMs: options.maxEventLoopDelayMs ?? 1_000,
    maxPendingDecisions: options.maxPendingDecisions ?? 1_000,
    pending: options.pending ?? (() => 0),
    logger,
    onShed: (plane) => shed.push(plane),
    sampleIntervalMs: 5,
  });
  shedders.push(shedder);
  return { shedder, shed, warnings: () => lines().filter((l) => l["level"] === 40) };
}

function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe("LoadShedder", () => {
  it("lets requests in while the loop keeps up and nothing waits for the store", async () => {
    const { shedder, shed } = shedderWith();
    await delay(20);
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

  it("sheds the work that piled up while the loop was blocked past its bound, then recovers", async () => {
    const { shedder } = shedderWith({ maxEventLoopDelayMs: 30 });
    await delay(20);
    block(80);
    // Still inside the task that blocked: the next sample is overdue by about 75 ms.
    assert.match(shedder.shed("gateway") ?? "", /the event loop runs \d+ ms late \(bound 30 ms\)/);
    await delay(30);
    assert.equal(shedder.shed("gateway"), undefined, "a few samples later the loop is on time again");
  });

  it("does not shed for a block shorter than its bound", async () => {
    const { shedder } = shedderWith({ maxEventLoopDelayMs: 200 });
    await delay(20);
    block(50);
    assert.equal(shedder.shed("gateway"), undefined);
  });

  it("counts every refusal by plane, and logs one line a second, saying how many were shed", () => {
    const { shedder, shed, warnings } = shedderWith({ maxPendingDecisions: 1, pending: () => 5 });
    for (let i = 0; i < 100; i++) shedder.shed(i % 2 === 0 ? "gateway" : "grpc");
    assert.equal(shed.length, 100);
    assert.equal(shed.filter((p) => p === "grpc").length, 50);
    const logged = warnings();
    assert.equal(logged.length, 1);
    assert.equal(logged[0]!["shed"], 1, "the first refusal is told at once; the next line counts the rest");
    assert.match(String(logged[0]!["msg"]), /^shedding load: 5 decisions wait/);
  });
});
