// API keys in the database, told from the key's birth to its end. A key is `sk_` and 32 base62
// characters, uniformly drawn (biased random bytes are thrown away), 190 bits that no two keys
// share. It is shown once: the table keeps only its SHA-256 and its first characters, and no read
// returns either the key or the hash. A key is found by its hash while it is live; revoking it (a
// second time changes nothing), letting it expire, or disabling its owner ends that. Rotating it
// makes a twin with a new secret and lets the old one live on for a grace period, never longer
// than it would have lived anyway. Every change is announced to the other instances, and uses are
// stamped without ever moving a later stamp back. All of it holds on both engines.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { before, beforeEach, describe, it } from "node:test";
import {
  API_KEY_PATTERN,
  API_KEY_RANDOM_LENGTH,
  API_KEYS_CHANNEL,
  apiKeyRepository,
  apiKeyStart,
  generateApiKey,
  notifyKeyChanged,
  rotatedName,
  type ApiKeyRepository,
} from "../../src/accounts/apiKeys.js";
import type { Database } from "../../src/db/database.js";
import { openTestDatabase, TEST_ENGINES } from "../support/databases.js";
import { disableTestUser, ensurePlan, insertTestUser } from "../support/insertTestUser.js";
import { ManualClock } from "../support/manualClock.js";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const HOUR = 3_600_000;

describe("generateApiKey", () => {
  it("makes `sk_` and 32 base62 characters: at least 190 bits", () => {
    for (let i = 0; i < 200; i++) assert.match(generateApiKey(), /^sk_[0-9A-Za-z]{32}$/);
    assert.equal(API_KEY_RANDOM_LENGTH, 32);
    assert.ok(API_KEY_RANDOM_LENGTH * Math.log2(62) >= 190);
  });

  it("never makes the same key twice", () => {
    const keys = new Set(Array.from({ length: 10_000 }, () => generateApiKey()));
    assert.equal(keys.size, 10_000);
  });

  it("throws away bytes of 248 and above, which would favour the first 8 characters", () => {
    // Every other byte is one a plain `byte % 62` would map onto "0"…"7".
    let next = 0;
    const source = (size: number) => Uint8Array.from({ length: size }, () => (next++ % 2 === 0 ? 248 + (next % 8) : 61));
    assert.equal(generateApiKey(source), `sk_${"z".repeat(32)}`);
  });

  it("draws every character equally often (chi-square over 64,000 characters)", () => {
    const counts = new Map<string, number>(Array.from(BASE62, (c) => [c, 0]));
    for (let i = 0; i < 2_000; i++) for (const c of generateApiKey().slice(3)) counts.set(c, counts.get(c)! + 1);
    const expected = (2_000 * 32) / 62;
    const chiSquare = [...counts.values()].reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
    // 61 degrees of freedom: 130 is beyond p = 1e-6; modulo bias would score about 420.
    assert.ok(chiSquare < 130, `chi-square ${chiSquare.toFixed(1)}`);
  });

  it("shows `sk_` and the first 6 characters as the key's start", () => {
    assert.equal(apiKeyStart("sk_AbCdEf0123456789012345678901234567"), "sk_AbCdEf");
  });
});

for (const engine of TEST_ENGINES) {
  describe(`the API key repository (${engine.name} engine)`, () => {
    let db: Database;
    let clock: ManualClock;
    let keys: ApiKeyRepository;
    before(async () => {
      db = await openTestDatabase(await engine.fresh());
      await ensurePlan(db, "gold");
    });
    beforeEach(() => {
      clock = new ManualClock();
      keys = apiKeyRepository(db, { now: clock.read });
    });

    it("stores only the key's hash and start, and shows the key once", async () => {
      const owner = await insertTestUser(db);
      const { key, record } = await keys.create(owner.id, { name: "ci", scopes: ["random"], plan: "gold" });
      assert.match(key, API_KEY_PATTERN);
      assert.deepEqual(record, {
        id: record.id,
        start: key.slice(0, 9),
        name: "ci",
        userId: owner.id,
        scopes: ["random"],
        plan: "gold",
        createdAt: new Date(clock.now),
        lastUsedAt: null,
        expiresAt: null,
        revokedAt: null,
        replacedBy: null,
      });
      // The whole row, every column as text: the secret part of the key appears nowhere.
      const [row] = await db.query<Record<string, unknown>>("select * from api_keys where id = $1", [record.id]);
      assert.equal(row?.["key_hash"], sha256(key));
      assert.equal(row?.["start"], key.slice(0, 9));
      const secret = key.slice(9);
      for (const [column, value] of Object.entries(row ?? {})) {
        assert.ok(!JSON.stringify(value).includes(secret), `column ${column} holds the key`);
      }
      assert.deepEqual(await keys.get(record.id), record);
      assert.ok(!("keyHash" in record) && !("key_hash" in record));
    });

    it("lists an owner's keys newest first, without revoked ones unless asked, a page at a time", async () => {
      const owner = await insertTestUser(db);
      const other = await insertTestUser(db);
      const made = [];
      for (const name of ["one", "two", "three"]) {
        made.push((await keys.create(owner.id, { name })).record);
        clock.advance(1_000);
      }
      await keys.create(other.id, { name: "not mine" });
      await keys.revoke(made[1]!.id);
      const names = async (query: Parameters<ApiKeyRepository["list"]>[0]) => (await keys.list(query)).map((k) => k.name);
      assert.deepEqual(await names({ userId: owner.id, limit: 10 }), ["three", "one"]);
      assert.deepEqual(await names({ userId: owner.id, includeRevoked: true, limit: 10 }), ["three", "two", "one"]);
      assert.deepEqual(await names({ userId: owner.id, includeRevoked: true, limit: 2, offset: 1 }), ["two", "one"]);
      assert.ok((await names({ limit: 100 })).includes("not mine"));
      assert.deepEqual(await keys.list({ userId: "not-a-uuid", limit: 10 }), []);
      for (const k of await keys.list({ userId: owner.id, includeRevoked: true, limit: 10 })) {
        assert.ok(!Object.keys(k).some((field) => /hash/i.test(field)));
      }
      await assert.rejects(keys.list({ limit: 0 }), RangeError);
      await assert.rejects(keys.list({ limit: 10_000 }), RangeError);
    });

    it("finds a live key by its hash, with its owner's plan and role", async () => {
      const owner = await insertTestUser(db, { role: "admin" });
      const { key, record } = await keys.create(owner.id, { name: "live" });
      const found = await keys.findActiveByHash(sha256(key));
      assert.deepEqual(found, { ...record, owner: { id: owner.id, plan: "free", role: "admin", disabledAt: null } });
      assert.equal(await keys.findActiveByHash(sha256(generateApiKey())), undefined);
    });

    it("stops finding a key once revoked; a second revoke keeps the first time", async () => {
      const owner = await insertTestUser(db);
      const { key, record } = await keys.create(owner.id, { name: "doomed" });
      const first = await keys.revoke(record.id);
      assert.deepEqual(first?.revokedAt, new Date(clock.now));
      clock.advance(60_000);
      const second = await keys.revoke(record.id);
      assert.deepEqual(second?.revokedAt, first?.revokedAt);
      assert.equal(await keys.findActiveByHash(sha256(key)), undefined);
      assert.equal(await keys.revoke("b1b1b1b1-0000-4000-8000-000000000000"), undefined);
      assert.equal(await keys.revoke("not-a-uuid"), undefined);
    });

    it("stops finding a key at its expiry, by the injected clock", async () => {
      const owner = await insertTestUser(db);
      const { key } = await keys.create(owner.id, { name: "brief", expiresAt: new Date(clock.now + HOUR) });
      assert.ok(await keys.findActiveByHash(sha256(key), clock.now + HOUR - 1));
      assert.equal(await keys.findActiveByHash(sha256(key), clock.now + HOUR), undefined);
      clock.advance(HOUR);
      assert.equal(await keys.findActiveByHash(sha256(key)), undefined);
    });

    it("finds no key of a disabled owner", async () => {
      const owner = await insertTestUser(db);
      const { key } = await keys.create(owner.id, { name: "owner goes" });
      await disableTestUser(db, owner.id);
      assert.equal(await keys.findActiveByHash(sha256(key)), undefined);
    });

    it("rotates a key into a twin with a name of its own, keeping the old one alive for the grace period only", async () => {
      const owner = await insertTestUser(db);
      const expiresAt = new Date(clock.now + 30 * 24 * HOUR);
      const { key: oldKey, record: old } = await keys.create(owner.id, { name: "deploy", scopes: ["a", "b"], plan: "gold", expiresAt });
      clock.advance(1_000);
      const rotated = await keys.rotate(old.id, HOUR);
      assert.ok(rotated);
      assert.notEqual(rotated.key, oldKey);
      assert.match(rotated.key, API_KEY_PATTERN);
      assert.deepEqual(
        { name: rotated.record.name, scopes: rotated.record.scopes, plan: rotated.record.plan, expiresAt: rotated.record.expiresAt, userId: rotated.record.userId },
        { name: "deploy (2)", scopes: ["a", "b"], plan: "gold", expiresAt, userId: owner.id },
      );
      assert.equal(rotated.replaced.replacedBy, rotated.record.id);
      assert.deepEqual(rotated.replaced.expiresAt, new Date(clock.now + HOUR));
      assert.deepEqual(await keys.get(old.id), rotated.replaced);

      assert.ok(await keys.findActiveByHash(sha256(rotated.key)));
      assert.ok(await keys.findActiveByHash(sha256(oldKey), clock.now + HOUR - 1), "the old key works during the grace");
      assert.equal(await keys.findActiveByHash(sha256(oldKey), clock.now + HOUR), undefined, "and not after");
      assert.ok(await keys.findActiveByHash(sha256(rotated.key), clock.now + HOUR));

      assert.equal(await keys.rotate(old.id, HOUR), undefined, "a replaced key is not rotated twice");
    });

    it("never lets a rotated key outlive its own expiry, and rotates no dead key", async () => {
      const owner = await insertTestUser(db);
      const soon = new Date(clock.now + 60_000);
      const { record } = await keys.create(owner.id, { name: "short", expiresAt: soon });
      const rotated = await keys.rotate(record.id, HOUR);
      assert.deepEqual(rotated?.replaced.expiresAt, soon);

      const { record: revoked } = await keys.create(owner.id, { name: "revoked" });
      await keys.revoke(revoked.id);
      assert.equal(await keys.rotate(revoked.id, HOUR), undefined);
      const { record: expired } = await keys.create(owner.id, { name: "expired", expiresAt: new Date(clock.now + 1) });
      clock.advance(1);
      assert.equal(await keys.rotate(expired.id, HOUR), undefined);
      assert.equal(await keys.rotate("b1b1b1b1-0000-4000-8000-000000000000", HOUR), undefined);
      await assert.rejects(keys.rotate(record.id, -1), RangeError);
    });

    it("announces each revoked or rotated key by its hash, and other changes on the same channel", async () => {
      const owner = await insertTestUser(db);
      const heard: string[] = [];
      const stop = await db.listen(API_KEYS_CHANNEL, (payload) => heard.push(payload));
      try {
        const a = await keys.create(owner.id, { name: "a" });
        const b = await keys.create(owner.id, { name: "b" });
        await keys.revoke(a.record.id);
        await keys.rotate(b.record.id, HOUR);
        await notifyKeyChanged(db, { userId: owner.id });
        await db.transaction((tx) => notifyKeyChanged(tx, "*"));
        const expected = [sha256(a.key), sha256(b.key), `user:${owner.id}`, "*"];
        const deadline = Date.now() + 2_000;
        while (heard.length < expected.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
        assert.deepEqual(heard, expected);
      } finally {
        await stop();
      }
    });

    it("stamps last use for a batch of keys, never moving a later stamp back", async () => {
      const owner = await insertTestUser(db);
      const a = (await keys.create(owner.id, { name: "a" })).record;
      const b = (await keys.create(owner.id, { name: "b" })).record;
      const later = new Date(clock.now + 10_000);
      await keys.touchLastUsed([a.id, b.id], later);
      await keys.touchLastUsed([a.id], new Date(clock.now));
      await keys.touchLastUsed([], new Date(clock.now));
      assert.deepEqual((await keys.get(a.id))?.lastUsedAt, later);
      assert.deepEqual((await keys.get(b.id))?.lastUsedAt, later);
    });

    it("stamps each key of a batch with its own last use, and none with a use after its revocation", async () => {
      const owner = await insertTestUser(db);
      const a = (await keys.create(owner.id, { name: "a" })).record;
      const b = (await keys.create(owner.id, { name: "b" })).record;
      const aUsed = new Date(clock.now + 1_000);
      const bUsed = new Date(clock.now + 2_000);
      await keys.touchLastUsed([a.id, b.id], [aUsed, bUsed]);
      assert.deepEqual((await keys.get(a.id))?.lastUsedAt, aUsed);
      assert.deepEqual((await keys.get(b.id))?.lastUsedAt, bUsed);

      clock.advance(3_000);
      await keys.revoke(a.id);
      await keys.touchLastUsed([a.id], new Date(clock.now + 1_500));
      assert.deepEqual((await keys.get(a.id))?.lastUsedAt, aUsed, "a batch written after the revocation stamps nothing later");
    });
  });
}

describe("rotatedName", () => {
  it("numbers a rotated key's name, counting on from a number it has, within 100 characters", () => {
    assert.equal(rotatedName("laptop"), "laptop (2)");
    assert.equal(rotatedName("laptop (2)"), "laptop (3)");
    assert.equal(rotatedName("build (9)"), "build (10)");
    assert.equal(rotatedName("x".repeat(100)), `${"x".repeat(96)} (2)`);
  });
});
