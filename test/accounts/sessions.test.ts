// Sign-in sessions, on each database engine, with a clock the test moves: a session token is
// random, handed out once and stored only as its SHA-256; it names its user until it expires,
// is revoked, or its user's sessions are all revoked — and then it names nobody, like a token
// that never existed. Expired sessions are deleted when seen and by the sweep. Signing in
// rotates the browser's token: the old one dies and a new one lives, both or neither.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { before, describe, it } from "node:test";
import { DUMMY_HASH } from "../../src/accounts/passwords.js";
import { SESSION_TTL_MS, SessionStore } from "../../src/accounts/sessions.js";
import { UserRepository } from "../../src/accounts/users.js";
import type { Database } from "../../src/db/database.js";
import { openTestDatabase, TEST_ENGINES } from "../support/databases.js";
import { ManualClock } from "../support/manualClock.js";

const MINUTE = 60_000;
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
/** For tests where time stands still; never the machine's clock. */
const stoppedClock = { now: new ManualClock().read };

for (const engine of TEST_ENGINES) {
  describe(`SessionStore on the ${engine.name} engine`, () => {
    let db: Database;
    let users: UserRepository;
    let userCount = 0;
    const newUserId = async () => (await users.create({ email: `user-${++userCount}@example.com`, passwordHash: DUMMY_HASH, role: "user", plan: "free" })).id;
    const sessionsOf = async (userId: string) =>
      (await db.query<{ n: number }>("select count(*)::int as n from sessions where user_id = $1", [userId]))[0]!.n;

    before(async () => {
      db = await openTestDatabase(await engine.fresh());
      users = new UserRepository(db);
    });

    it("hands out a random 32-byte token once and keeps only its SHA-256", async () => {
      const clock = new ManualClock();
      const sessions = new SessionStore(db, { now: clock.read });
      const userId = await newUserId();
      const { token, expiresAt } = await sessions.create(userId, 30 * MINUTE);
      assert.match(token, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(Buffer.from(token, "base64url").length, 32);
      assert.equal(expiresAt.getTime(), clock.now + 30 * MINUTE);
      const rows = await db.query<{ token_hash: string; created_at: Date; expires_at: Date }>("select token_hash, created_at, expires_at from sessions where user_id = $1", [userId]);
      assert.deepEqual(rows, [{ token_hash: sha256(token), created_at: new Date(clock.now), expires_at: expiresAt }]);
      assert.notEqual((await sessions.create(userId, MINUTE)).token, token);
    });

    it("names its user until it expires, then names nobody and is deleted", async () => {
      const clock = new ManualClock();
      const sessions = new SessionStore(db, { now: clock.read });
      const userId = await newUserId();
      const { token, expiresAt } = await sessions.create(userId, 10 * MINUTE);
      assert.deepEqual(await sessions.verify(token), { userId, expiresAt });
      clock.advance(10 * MINUTE - 1);
      assert.deepEqual(await sessions.verify(token), { userId, expiresAt });
      clock.advance(1);
      assert.equal(await sessions.verify(token), undefined);
      assert.equal(await sessionsOf(userId), 0);
      clock.now -= MINUTE; // even a clock set back finds it gone
      assert.equal(await sessions.verify(token), undefined);
    });

    it("answers unknown and malformed tokens, and the stored hash itself, with undefined", async () => {
      const sessions = new SessionStore(db, stoppedClock);
      const { token } = await sessions.create(await newUserId(), MINUTE);
      for (const presented of [randomBytes(32).toString("base64url"), "", "short", `${token}x`, sha256(token), token.slice(0, -1)]) {
        assert.equal(await sessions.verify(presented), undefined, presented);
      }
    });

    it("lives SESSION_TTL_MS, or the store's own lifetime, when none is given", async () => {
      const clock = new ManualClock();
      const userId = await newUserId();
      assert.equal((await new SessionStore(db, { now: clock.read }).create(userId)).expiresAt.getTime(), clock.now + SESSION_TTL_MS);
      assert.equal((await new SessionStore(db, { now: clock.read, ttlMs: 5 * MINUTE }).create(userId)).expiresAt.getTime(), clock.now + 5 * MINUTE);
      await assert.rejects(new SessionStore(db, stoppedClock).create(userId, 0), RangeError);
    });

    it("ends one session on sign-out, leaving the user's others", async () => {
      const sessions = new SessionStore(db, stoppedClock);
      const userId = await newUserId();
      const [signedOut, other] = [await sessions.create(userId, MINUTE), await sessions.create(userId, MINUTE)];
      assert.equal(await sessions.revoke(signedOut.token), true);
      assert.equal(await sessions.verify(signedOut.token), undefined);
      assert.equal((await sessions.verify(other.token))?.userId, userId);
      assert.equal(await sessions.revoke(signedOut.token), false);
      assert.equal(await sessions.revoke("not a token"), false);
    });

    it("ends every session of one user, and no one else's", async () => {
      const sessions = new SessionStore(db, stoppedClock);
      const [alice, bob] = [await newUserId(), await newUserId()];
      const alices = [await sessions.create(alice, MINUTE), await sessions.create(alice, MINUTE), await sessions.create(alice, MINUTE)];
      const bobs = await sessions.create(bob, MINUTE);
      assert.equal(await sessions.revokeAllFor(alice), 3);
      for (const { token } of alices) assert.equal(await sessions.verify(token), undefined);
      assert.equal((await sessions.verify(bobs.token))?.userId, bob);
      assert.equal(await sessions.revokeAllFor(alice), 0);
    });

    it("sweeps the expired sessions, and only those", async () => {
      // Ten days before the other tests' clocks: none of their sessions has expired by this one.
      const clock = new ManualClock(new ManualClock().now - 10 * 24 * 60 * MINUTE);
      const sessions = new SessionStore(db, { now: clock.read });
      const userId = await newUserId();
      const short = await sessions.create(userId, MINUTE);
      const long = await sessions.create(userId, 60 * MINUTE);
      clock.advance(2 * MINUTE);
      assert.equal(await sessions.deleteExpired(), 1);
      assert.equal(await sessionsOf(userId), 1);
      assert.equal(await sessions.verify(short.token), undefined);
      assert.equal((await sessions.verify(long.token))?.userId, userId);
      assert.equal(await sessions.deleteExpired(), 0);
    });

    it("rotates at sign-in: the browser's old token dies and a new one lives", async () => {
      const clock = new ManualClock();
      const sessions = new SessionStore(db, { now: clock.read });
      const [anonymous, user] = [await newUserId(), await newUserId()];
      const old = await sessions.create(anonymous, MINUTE);
      const fresh = await sessions.rotate(old.token, user, 30 * MINUTE);
      assert.equal(await sessions.verify(old.token), undefined);
      assert.deepEqual(await sessions.verify(fresh.token), { userId: user, expiresAt: new Date(clock.now + 30 * MINUTE) });
      const first = await sessions.rotate(undefined, user);
      assert.equal((await sessions.verify(first.token))?.userId, user);
      const afterGarbage = await sessions.rotate("garbage", user);
      assert.equal((await sessions.verify(afterGarbage.token))?.userId, user);
    });

    it("rotates both or neither: when the new session cannot be made, the old one lives on", async () => {
      const sessions = new SessionStore(db, stoppedClock);
      const userId = await newUserId();
      const old = await sessions.create(userId, MINUTE);
      await assert.rejects(sessions.rotate(old.token, "00000000-0000-4000-8000-000000000000"), /foreign key/);
      assert.equal((await sessions.verify(old.token))?.userId, userId);
    });

    it("works inside a caller's transaction: disabling a user and ending their sessions commit together", async () => {
      const userId = await newUserId();
      const { token } = await new SessionStore(db, stoppedClock).create(userId, MINUTE);
      await assert.rejects(db.transaction(async (tx) => {
        await new UserRepository(tx).setDisabled(userId, true);
        assert.equal(await new SessionStore(tx, stoppedClock).revokeAllFor(userId), 1);
        throw new Error("changed my mind");
      }), /changed my mind/);
      assert.equal((await new SessionStore(db, stoppedClock).verify(token))?.userId, userId);
      await db.transaction(async (tx) => {
        await new UserRepository(tx).setDisabled(userId, true);
        const rotated = await new SessionStore(tx, stoppedClock).rotate(token, userId);
        assert.equal(await new SessionStore(tx, stoppedClock).revokeAllFor(userId), 1);
        assert.equal(await new SessionStore(tx, stoppedClock).verify(rotated.token), undefined);
      });
      assert.equal(await new SessionStore(db, stoppedClock).verify(token), undefined);
      assert.notEqual((await users.findById(userId))?.disabledAt, null);
    });

    it("disappears with its user", async () => {
      const sessions = new SessionStore(db, stoppedClock);
      const userId = await newUserId();
      const { token } = await sessions.create(userId, MINUTE);
      await db.query("delete from users where id = $1", [userId]);
      assert.equal(await sessions.verify(token), undefined);
    });
  });
}
