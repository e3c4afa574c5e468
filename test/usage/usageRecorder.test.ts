// Usage is counted in memory per caller per minute and written in batches: many requests cost no
// statement until a flush, and a flush is one statement per FLUSH_BATCH callers (plus, at most
// hourly, the retention delete) whatever the number of requests and minutes. Account keys and
// session users are filed apart, keys from the config file not at all; a minute that turns mid-batch lands in its own row; a failed flush keeps its counts
// for the next; close writes what is left, so a graceful shutdown loses nothing. Both engines.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Consumer } from "../../src/accounts/consumer.js";
import type { Database } from "../../src/db/database.js";
import { FLUSH_BATCH, usageRecorder, usageSubject } from "../../src/usage/usageRecorder.js";
import { HOUR_MS, MINUTE_MS, usageRepository, type UsageRepository } from "../../src/usage/usageRepository.js";
import { openTestDatabase, TEST_ENGINES } from "../support/databases.js";
import { ManualClock } from "../support/manualClock.js";

const keyConsumer: Consumer = Object.freeze({ id: "user:ada", plan: "free", keyId: "11111111-1111-4111-8111-111111111111" });
const sessionConsumer: Consumer = Object.freeze({ id: "user:ada", plan: "free" });
const configConsumer: Consumer = Object.freeze({ id: "demo" });

/** The repository, with the first word of every statement it sends written down. */
function countingRepository(db: Database): { usage: UsageRepository; statements: string[] } {
  const statements: string[] = [];
  const counted: Database = { ...db, query: (sql, params) => {
    statements.push(sql.trim().split(/\s+/, 1)[0]!.toLowerCase());
    return db.query(sql, params);
  } };
  return { usage: usageRepository(counted), statements };
}

describe("the subject a caller's usage is filed under", () => {
  it("is the key for a database key, the user for a session", () => {
    assert.equal(usageSubject(keyConsumer), `key:${keyConsumer.keyId}`);
    assert.equal(usageSubject(sessionConsumer), "user:ada");
  });
});

for (const engine of TEST_ENGINES) {
  describe(`recording usage (${engine.name})`, () => {
    it("writes nothing per request, then every count in one statement per flush", async () => {
      const db = await openTestDatabase(await engine.fresh());
      const { usage, statements } = countingRepository(db);
      const clock = new ManualClock(Date.UTC(2026, 10, 24, 8, 0, 30));
      const recorder = usageRecorder(usage, { now: clock.read, flushIntervalMs: HOUR_MS });
      const minute = clock.now - 30_000;

      for (let i = 0; i < 1_000; i++) recorder.record(keyConsumer, i % 10 !== 0, clock.now);
      recorder.record(sessionConsumer, true, clock.now);
      recorder.record(configConsumer, false, clock.now);
      // A copy of the key's consumer (the verifier's cache refreshed): the same subject.
      recorder.record({ ...keyConsumer }, true, clock.now);
      clock.advance(MINUTE_MS);
      recorder.record(keyConsumer, false, clock.now);
      assert.deepEqual(statements, [], "no statement while counting");

      await recorder.flush();
      assert.deepEqual(statements, ["insert", "with"], "one upsert, and the first retention delete");
      const read = (subject: string, at: number) => usage.series([subject], { from: at, to: at + MINUTE_MS, stepMs: MINUTE_MS });
      assert.deepEqual(await read(usageSubject(keyConsumer), minute), [{ at: minute, allowed: 901, limited: 100 }]);
      assert.deepEqual(await read(usageSubject(keyConsumer), minute + MINUTE_MS), [{ at: minute + MINUTE_MS, allowed: 0, limited: 1 }]);
      assert.deepEqual(await read("user:ada", minute), [{ at: minute, allowed: 1, limited: 0 }]);
      assert.deepEqual(await read("consumer:demo", minute), [{ at: minute, allowed: 0, limited: 0 }], "a config key's usage is not kept");

      // The same minute again: added to the stored counts. Retention waits for its hour.
      statements.length = 0;
      recorder.record(keyConsumer, true, clock.now);
      await recorder.flush();
      assert.deepEqual(statements, ["insert"]);
      assert.deepEqual(await read(usageSubject(keyConsumer), minute + MINUTE_MS), [{ at: minute + MINUTE_MS, allowed: 1, limited: 1 }]);

      statements.length = 0;
      await recorder.flush();
      assert.deepEqual(statements, [], "nothing to write, nothing sent");
      await recorder.close();
    });

    it("keeps the counts of a failed flush and writes them with the next", async () => {
      const db = await openTestDatabase(await engine.fresh());
      const usage = usageRepository(db);
      let failing = true;
      const flaky: UsageRepository = { ...usage, add: (rows) => (failing ? Promise.reject(new Error("database away")) : usage.add(rows)) };
      const clock = new ManualClock(Date.UTC(2026, 10, 24, 9, 0, 0));
      const recorder = usageRecorder(flaky, { now: clock.read, flushIntervalMs: HOUR_MS });

      recorder.record(keyConsumer, true, clock.now);
      recorder.record(keyConsumer, false, clock.now);
      await assert.rejects(recorder.flush(), /database away/);
      recorder.record(keyConsumer, true, clock.now);
      failing = false;
      await recorder.flush();
      const points = await usage.series([usageSubject(keyConsumer)], { from: clock.now, to: clock.now + MINUTE_MS, stepMs: MINUTE_MS });
      assert.deepEqual(points, [{ at: clock.now, allowed: 2, limited: 1 }]);
      await recorder.close();
    });

    it("writes many callers in statements of FLUSH_BATCH rows, and a failure part-way writes nothing twice", async () => {
      const db = await openTestDatabase(await engine.fresh());
      const { usage, statements } = countingRepository(db);
      const clock = new ManualClock(Date.UTC(2026, 10, 24, 9, 0, 0));
      const callers = Array.from({ length: 2 * FLUSH_BATCH + 1 }, (_, i) => Object.freeze({ id: `user:caller-${i}` }));
      // The second statement fails once: its rows and the third's wait for the next flush.
      let adds = 0;
      const failing: UsageRepository = { ...usage, add: (rows) => (++adds === 2 ? Promise.reject(new Error("connection lost")) : usage.add(rows)) };
      const recorder = usageRecorder(failing, { now: clock.read, flushIntervalMs: HOUR_MS });
      for (const caller of callers) recorder.record(caller, true, clock.now);

      await assert.rejects(recorder.flush(), /connection lost/);
      await recorder.flush();
      assert.equal(statements.filter((s) => s === "insert").length, 3, "the first batch; then the 501 rows left, in two");
      const points = await usage.series(callers.map((c) => c.id), { from: clock.now, to: clock.now + MINUTE_MS, stepMs: MINUTE_MS });
      assert.deepEqual(points, [{ at: clock.now, allowed: callers.length, limited: 0 }], "every caller counted exactly once");
      await recorder.close();
    });

    it("flushes on close, once, and counts nothing after it", async () => {
      const db = await openTestDatabase(await engine.fresh());
      const usage = usageRepository(db);
      const clock = new ManualClock(Date.UTC(2026, 10, 24, 10, 0, 0));
      const recorder = usageRecorder(usage, { now: clock.read, flushIntervalMs: HOUR_MS });
      // Without a time, a record is the recorder's clock's.
      for (let i = 0; i < 5; i++) recorder.record(sessionConsumer, true);
      await Promise.all([recorder.close(), recorder.close()]);
      recorder.record(sessionConsumer, true, clock.now);
      await recorder.close();
      const points = await usage.series(["user:ada"], { from: clock.now, to: clock.now + MINUTE_MS, stepMs: MINUTE_MS });
      assert.deepEqual(points, [{ at: clock.now, allowed: 5, limited: 0 }]);
    });

    it("flushes on its own every interval", async () => {
      const db = await openTestDatabase(await engine.fresh());
      const usage = usageRepository(db);
      const recorder = usageRecorder(usage, { flushIntervalMs: 20 });
      const minute = Date.now() - (Date.now() % MINUTE_MS);
      recorder.record(sessionConsumer, true, Date.now());
      let total = 0;
      for (let tries = 0; tries < 200 && total === 0; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        const points = await usage.series(["user:ada"], { from: minute - MINUTE_MS, to: minute + 2 * MINUTE_MS, stepMs: MINUTE_MS });
        total = points.reduce((sum, p) => sum + p.allowed, 0);
      }
      assert.equal(total, 1);
      await recorder.close();
    });

    it("deletes rows older than the retention on a flush", async () => {
      const db = await openTestDatabase(await engine.fresh());
      const usage = usageRepository(db);
      const clock = new ManualClock(Date.UTC(2026, 10, 24, 11, 0, 0));
      const old = clock.now - 9 * 24 * HOUR_MS;
      await usage.add([{ subject: "key:old", minute: new Date(old), allowed: 1, limited: 0 }]);
      const recorder = usageRecorder(usage, { now: clock.read, flushIntervalMs: HOUR_MS });
      await recorder.flush();
      const [point] = await usage.series(["key:old"], { from: old, to: old + MINUTE_MS, stepMs: MINUTE_MS });
      assert.equal(point?.allowed, 0);
      await recorder.close();
    });
  });
}
