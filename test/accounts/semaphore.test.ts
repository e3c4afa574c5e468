// The gate password hashing runs behind: so many holders at once, so many waiting in turn, and
// "no" at once beyond that. A caller takes its place before other work (the sign-in asks the login
// throttle meanwhile) and may leave before its turn: its room in the queue is free again at once,
// and the permit goes to the next in line.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Semaphore } from "../../src/accounts/semaphore.js";

/** Whether `promise` has settled once pending callbacks have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe("Semaphore", () => {
  it("gives permits at once while it has them, queues up to maxWaiting, and refuses beyond", async () => {
    const gate = new Semaphore(2, 1);
    const [a, b, c] = [gate.enter()!, gate.enter()!, gate.enter()!];
    assert.equal(gate.enter(), undefined, "queue full");
    assert.deepEqual([gate.active, gate.waiting], [2, 1]);
    assert.equal(await settled(a.turn), true);
    assert.equal(await settled(b.turn), true);
    assert.equal(await settled(c.turn), false, "waits for a permit");

    a.leave();
    assert.equal(await settled(c.turn), true, "the permit passed to the waiter");
    assert.deepEqual([gate.active, gate.waiting], [2, 0]);
    b.leave();
    c.leave();
    c.leave();
    assert.deepEqual([gate.active, gate.waiting], [0, 0], "leaving twice gives back one permit");
  });

  it("frees the room of a place left before its turn, which never comes, and serves the next in line", async () => {
    const gate = new Semaphore(1, 2);
    const holder = gate.enter()!;
    const [leaving, next] = [gate.enter()!, gate.enter()!];
    assert.equal(gate.enter(), undefined);

    leaving.leave();
    assert.equal(gate.waiting, 1);
    const newcomer = gate.enter();
    assert.ok(newcomer !== undefined, "room again");

    holder.leave();
    assert.equal(await settled(next.turn), true);
    assert.equal(await settled(leaving.turn), false);
    assert.deepEqual([gate.active, gate.waiting], [1, 1]);
    next.leave();
    assert.equal(await settled(newcomer.turn), true);
    newcomer.leave();
    assert.deepEqual([gate.active, gate.waiting], [0, 0]);
  });
});
