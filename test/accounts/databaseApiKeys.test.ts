// The gateway's check of database keys, on its hot path. A live key names its owner (`user:<id>`),
// the key's plan or else the owner's, the key's id and its scopes; every key that must not pass —
// unknown, revoked, expired, a disabled owner's, garbage — gets the same `undefined`. The second
// check of a key is answered from memory, synchronously and without a query, but never past the
// key's expiry; a bad key costs one query per 5 seconds however often it is tried, and many
// requests for one unknown key share one query. A revocation, on this instance or on another one
// sharing the PostgreSQL database, reaches the cache within a second. Uses are written to
// `last_used_at` in one batched statement per flush, not one per request. Both engines.
import assert from "node:assert/strict";
import { afterEach, before, beforeEach, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { sha256Hex } from "../../src/config/apiKeyDigest.js";
import { API_KEYS_CHANNEL, apiKeyRepository, generateApiKey, notifyKeyChanged, type ActiveApiKey, type ApiKeyRepository } from "../../src/accounts/apiKeys.js";
import type { Consumer } from "../../src/accounts/consumer.js";
import { databaseApiKeys, type DatabaseApiKeys, type DatabaseApiKeysOptions } from "../../src/accounts/databaseApiKeys.js";
import { MISSED_NOTIFICATIONS, type Database } from "../../src/db/database.js";
import type { DatabaseLocation } from "../../src/db/openDatabase.js";
import { openTestDatabase, TEST_ENGINES } from "../support/databases.js";
import { disableTestUser, ensurePlan, insertTestUser } from "../support/insertTestUser.js";
import { ManualClock } from "../support/manualClock.js";

const HOUR = 3_600_000;

/** The database, with every statement run outside a transaction written down. */
function countingDatabase(db: Database): { db: Database; statements: string[] } {
  const statements: string[] = [];
  return {
    statements,
    db: {
      engine: db.engine,
      query: <Row>(sql: string, params?: readonly unknown[]) => {
        statements.push(sql.trim().split(/\s+/, 1)[0]!.toLowerCase());
        return db.query<Row>(sql, params);
      },
      exec: (script) => db.exec(script),
      transaction: (work) => db.transaction(work),
      listen: (channel, handler) => db.listen(channel, handler),
      notify: (channel, payload) => db.notify(channel, payload),
      close: () => db.close(),
    },
  };
}

const selects = (statements: readonly string[]) => statements.filter((s) => s === "select").length;

/** Asks until `verify` answers undefined; returns how long that took, failing past the deadline. */
async function untilRefused(verify: () => ReturnType<DatabaseApiKeys["verify"]>, deadlineMs: number): Promise<number> {
  const started = Date.now();
  while ((await verify()) !== undefined) {
    assert.ok(Date.now() - started <= deadlineMs, `still verifying after ${deadlineMs} ms`);
    await sleep(10);
  }
  const took = Date.now() - started;
  assert.ok(took <= deadlineMs, `took ${took} ms, more than ${deadlineMs} ms`);
  return took;
}

describe("a lookup racing a change notice", () => {
  it("is answered, but neither cached nor joined by later checks, when the key changed meanwhile", async () => {
    let notice: (payload: string) => void = () => undefined;
    const db = {
      listen: (_channel: string, handler: (payload: string) => void) => {
        notice = handler;
        return Promise.resolve(() => Promise.resolve());
      },
    };
    const rows: ((key: ActiveApiKey | undefined) => void)[] = [];
    const repo = {
      findActiveByHash: () => new Promise<ActiveApiKey | undefined>((resolve) => rows.push(resolve)),
      touchLastUsed: () => Promise.resolve(),
    };
    const verify = await databaseApiKeys(repo, db);
    const key = generateApiKey();
    const live: ActiveApiKey = {
      id: "key-1", start: key.slice(0, 9), name: "racing", userId: "u-1", scopes: null, plan: null,
      createdAt: new Date(), lastUsedAt: null, expiresAt: null, revokedAt: null, replacedBy: null,
      owner: { id: "u-1", plan: "free", role: "user", disabledAt: null },
    };
    const racing = verify.verify(key); // reads the row…
    notice(sha256Hex(key)); // …while another instance revokes it
    const after = verify.verify(key);
    assert.equal(rows.length, 2, "the check after the notice asks the database itself");
    rows[1]!(undefined);
    assert.equal(await after, undefined);
    rows[0]!(live); // the stale read lands last: the worst order
    assert.ok(await racing, "the racing check passes, as it would have a moment earlier");
    assert.equal(verify.verify(key), undefined, "the revocation is what is cached");
    assert.equal(rows.length, 2);
    await verify.close();
  });
});

for (const engine of TEST_ENGINES) {
  describe(`database API keys (${engine.name} engine)`, () => {
    let location: DatabaseLocation;
    let db: Database;
    let clock: ManualClock;
    let keys: ApiKeyRepository;
    let statements: string[];
    let opened: DatabaseApiKeys[];
    /** A verifier over a repository whose statements are counted, on the test's clock. */
    const verifier = async (options: DatabaseApiKeysOptions = {}) => {
      const counted = countingDatabase(db);
      statements = counted.statements;
      const made = await databaseApiKeys(apiKeyRepository(counted.db, { now: clock.read }), db, { now: clock.read, ...options });
      opened.push(made);
      return made;
    };

    afterEach(async () => {
      for (const v of opened) await v.close();
    });
    before(async () => {
      location = await engine.fresh();
      db = await openTestDatabase(location);
      await ensurePlan(db, "gold");
    });
    beforeEach(() => {
      opened = [];
      clock = new ManualClock();
      keys = apiKeyRepository(db, { now: clock.read });
    });

    it("names the key's owner, plan, id and scopes", async () => {
      const verify = await verifier();
      const owner = await insertTestUser(db);
      const plain = await keys.create(owner.id, { name: "plain" });
      const special = await keys.create(owner.id, { name: "special", plan: "gold", scopes: ["random"] });
      assert.deepEqual(await verify.verify(plain.key), { id: `user:${owner.id}`, plan: "free", keyId: plain.record.id });
      assert.deepEqual(await verify.verify(special.key), { id: `user:${owner.id}`, plan: "gold", keyId: special.record.id, scopes: ["random"] });
      assert.ok(Object.isFrozen(await verify.verify(special.key)));
    });

    it("refuses every key that must not pass with the same undefined", async () => {
      const verify = await verifier();
      const owner = await insertTestUser(db);
      const revoked = await keys.create(owner.id, { name: "revoked" });
      await keys.revoke(revoked.record.id);
      const expired = await keys.create(owner.id, { name: "expired", expiresAt: new Date(clock.now) });
      const banned = await insertTestUser(db);
      const bannedKey = await keys.create(banned.id, { name: "banned" });
      await disableTestUser(db, banned.id);
      const live = await keys.create(owner.id, { name: "live" });
      const refused: readonly (readonly [story: string, key: string])[] = [
        ["an unknown key", generateApiKey()],
        ["a revoked key", revoked.key],
        ["an expired key", expired.key],
        ["a disabled owner's key", bannedKey.key],
        ["garbage", "not even a key"],
        ["an empty key", ""],
        ["a live key with a character missing", live.key.slice(0, -1)],
        ["a live key in upper case", live.key.toUpperCase()],
        ["a live key's start", live.record.start],
      ];
      for (const [story, key] of refused) assert.equal(await verify.verify(key), undefined, story);
      assert.ok(await verify.verify(live.key), "while the live key passes");
    });

    it("answers a second check from memory: synchronously, without a query", async () => {
      const verify = await verifier();
      const owner = await insertTestUser(db);
      const { key } = await keys.create(owner.id, { name: "hot" });
      const first = verify.verify(key);
      assert.ok(first instanceof Promise);
      const consumer = await first;
      const before = statements.length;
      for (let i = 0; i < 100; i++) assert.equal(verify.verify(key), consumer);
      assert.equal(statements.length, before);
    });

    it("asks again once the cached answer is 30 seconds old", async () => {
      const verify = await verifier();
      const owner = await insertTestUser(db);
      const { key } = await keys.create(owner.id, { name: "ttl" });
      await verify.verify(key);
      clock.advance(29_999);
      assert.ok(!(verify.verify(key) instanceof Promise));
      clock.advance(1);
      assert.ok(verify.verify(key) instanceof Promise);
    });

    it("stops a cached key the moment it expires, without asking the database", async () => {
      const verify = await verifier();
      const owner = await insertTestUser(db);
      const { key } = await keys.create(owner.id, { name: "brief", expiresAt: new Date(clock.now + 10_000) });
      assert.ok(await verify.verify(key));
      const before = statements.length;
      clock.advance(9_999);
      assert.ok(verify.verify(key));
      clock.advance(1);
      assert.equal(verify.verify(key), undefined);
      assert.equal(statements.length, before);
    });

    it("knows, without ever asking, only the keys it verified in the last 30 seconds", async () => {
      const verify = await verifier();
      const owner = await insertTestUser(db);
      const { key } = await keys.create(owner.id, { name: "known" });
      assert.equal(verify.known(key), undefined, "valid, but not verified here yet");
      const consumer = await verify.verify(key);
      assert.equal(verify.known(key), consumer);
      clock.advance(30_000);
      assert.equal(verify.known(key), undefined, "stale: only a lookup could tell");
      assert.equal(verify.known(generateApiKey()), undefined);
      assert.equal(selects(statements), 1, "known() never queried");
    });

    it("costs the database one lookup per bad key per 5 seconds, however often it is tried", async () => {
      const verify = await verifier();
      const bad = generateApiKey();
      for (let i = 0; i < 50; i++) assert.equal(await verify.verify(bad), undefined);
      assert.equal(selects(statements), 1);
      clock.advance(4_999);
      assert.equal(verify.verify(bad), undefined);
      assert.equal(selects(statements), 1);
      clock.advance(1);
      assert.equal(await verify.verify(bad), undefined);
      assert.equal(selects(statements), 2);
    });

    it("costs nothing for garbage: no key of ours looks like that", async () => {
      const verify = await verifier();
      for (const garbage of ["", "x", "sk_short", `sk_${"!".repeat(32)}`, "a".repeat(10_000)]) assert.equal(verify.verify(garbage), undefined);
      assert.deepEqual(statements, []);
    });

    it("lets concurrent checks of one uncached key share one query", async () => {
      const verify = await verifier();
      const owner = await insertTestUser(db);
      const { key } = await keys.create(owner.id, { name: "crowd" });
      const answers = await Promise.all(Array.from({ length: 20 }, async () => verify.verify(key)));
      assert.equal(new Set(answers).size, 1);
      assert.ok(answers[0]);
      const unknown = generateApiKey();
      await Promise.all(Array.from({ length: 20 }, async () => verify.verify(unknown)));
      assert.equal(selects(statements), 2);
    });

    it("keeps at most maxEntries keys, forgetting the least recently used", async () => {
      const verify = await verifier({ maxEntries: 2 });
      const owner = await insertTestUser(db);
      const [a, b, c] = await Promise.all(["a", "b", "c"].map((name) => keys.create(owner.id, { name })));
      await verify.verify(a!.key);
      await verify.verify(b!.key);
      verify.verify(a!.key); // a is now more recent than b
      await verify.verify(c!.key); // evicts b
      assert.ok(!(verify.verify(a!.key) instanceof Promise));
      assert.ok(verify.verify(b!.key) instanceof Promise);
    });

    it("keeps the old key working through a rotation's grace, and not after", async () => {
      const verify = await verifier();
      const owner = await insertTestUser(db);
      const old = await keys.create(owner.id, { name: "deploy" });
      assert.ok(await verify.verify(old.key));
      const rotated = await keys.rotate(old.record.id, HOUR);
      assert.ok(rotated);
      // The rotation's notice drops the cached old key; its next check sees the new expiry.
      const deadline = Date.now() + 1_000;
      while (!(verify.verify(old.key) instanceof Promise)) {
        assert.ok(Date.now() < deadline, "the rotation's notice did not arrive within a second");
        await sleep(5);
      }
      assert.ok(await verify.verify(old.key), "during the grace");
      assert.ok(await verify.verify(rotated.key));
      clock.advance(HOUR - 1);
      assert.ok(await verify.verify(old.key), "at the grace's last moment");
      clock.advance(1);
      assert.equal(await verify.verify(old.key), undefined, "after the grace");
      assert.ok(await verify.verify(rotated.key));
    });

    it("drops a key revoked on this instance within a second", async () => {
      const verify = await verifier();
      const owner = await insertTestUser(db);
      const { key, record } = await keys.create(owner.id, { name: "revoked here" });
      assert.ok(await verify.verify(key));
      assert.ok(!(verify.verify(key) instanceof Promise), "cached");
      await keys.revoke(record.id);
      await untilRefused(() => verify.verify(key), 1_000);
    });

    it("drops an owner's keys when told the owner changed, and everything when told so", async () => {
      const verify = await verifier();
      const owner = await insertTestUser(db);
      const bystander = await insertTestUser(db);
      const { key } = await keys.create(owner.id, { name: "owner's" });
      const { key: other } = await keys.create(bystander.id, { name: "bystander's" });
      assert.ok(await verify.verify(key));
      assert.ok(await verify.verify(other));
      await disableTestUser(db, owner.id);
      await notifyKeyChanged(db, { userId: owner.id });
      await untilRefused(() => verify.verify(key), 1_000);
      assert.ok(!(verify.verify(other) instanceof Promise), "the bystander's key stays cached");

      await db.query("update users set plan = 'gold' where id = $1", [bystander.id]);
      await db.notify(API_KEYS_CHANNEL, MISSED_NOTIFICATIONS);
      const deadline = Date.now() + 1_000;
      while ((await verify.verify(other))?.plan !== "gold") {
        assert.ok(Date.now() < deadline, "the plan change did not arrive within a second");
        await sleep(10);
      }
    });

    it("writes last use in one batched statement per flush, and on close", async () => {
      const verify = await verifier({ flushIntervalMs: 60_000 });
      const owner = await insertTestUser(db);
      const a = await keys.create(owner.id, { name: "a" });
      const b = await keys.create(owner.id, { name: "b" });
      for (let i = 0; i < 10; i++) {
        await verify.verify(a.key);
        await verify.verify(b.key);
      }
      assert.equal((await keys.get(a.record.id))?.lastUsedAt, null);
      assert.ok(!statements.includes("update"));
      await verify.flush();
      assert.deepEqual(statements.filter((s) => s === "update"), ["update"]);
      assert.deepEqual((await keys.get(a.record.id))?.lastUsedAt, new Date(clock.now));
      assert.deepEqual((await keys.get(b.record.id))?.lastUsedAt, new Date(clock.now));

      await verify.flush();
      assert.equal(statements.filter((s) => s === "update").length, 1, "nothing used, nothing written");
      clock.advance(5_000);
      await verify.verify(a.key);
      await verify.close();
      assert.deepEqual((await keys.get(a.record.id))?.lastUsedAt, new Date(clock.now));
    });

    it("flushes by itself every few seconds", async () => {
      const verify = await verifier({ flushIntervalMs: 20 });
      const owner = await insertTestUser(db);
      const { key, record } = await keys.create(owner.id, { name: "timer" });
      await verify.verify(key);
      const deadline = Date.now() + 2_000;
      while ((await keys.get(record.id))?.lastUsedAt === null) {
        assert.ok(Date.now() < deadline, "never flushed");
        await sleep(10);
      }
    });

    it("keeps the uses of a failed flush for the next one", async () => {
      const owner = await insertTestUser(db);
      const { key, record } = await keys.create(owner.id, { name: "retry" });
      let failures = 1;
      const flaky: ApiKeyRepository = {
        ...keys,
        touchLastUsed: (ids, at) => (failures-- > 0 ? Promise.reject(new Error("database down")) : keys.touchLastUsed(ids, at)),
      };
      const verify = await databaseApiKeys(flaky, db, { now: clock.read, flushIntervalMs: 60_000 });
      opened.push(verify);
      await verify.verify(key);
      await assert.rejects(verify.flush(), /database down/);
      await verify.flush();
      assert.deepEqual((await keys.get(record.id))?.lastUsedAt, new Date(clock.now));
    });

    if (engine.name === "postgres") {
      it("drops a key revoked on another instance within a second", async () => {
        const otherDb = await openTestDatabase(location);
        const owner = await insertTestUser(db);
        const { key, record } = await keys.create(owner.id, { name: "shared" });
        // Real clocks here: two instances, as in production.
        const onA = await databaseApiKeys(apiKeyRepository(db), db);
        const onB = await databaseApiKeys(apiKeyRepository(otherDb), otherDb);
        opened.push(onA, onB);
        const consumer: Consumer | undefined = await onB.verify(key);
        assert.equal(consumer?.keyId, record.id);
        assert.ok(!(onB.verify(key) instanceof Promise), "B has the key cached");
        await apiKeyRepository(db).revoke(record.id);
        await untilRefused(() => onB.verify(key), 1_000);
        assert.equal(await onA.verify(key), undefined);
      });
    }
  });
}
