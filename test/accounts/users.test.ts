// Accounts, on each database engine: an email address belongs to one account whatever its case,
// is kept as typed and found however it is typed; a second sign-up with it is EmailTaken. The
// password hash comes out only through the login path's read. Admins page through users by
// email, filtered by role, plan, state or part of the address, and change a user's plan, role,
// state and password; an unknown plan is refused by name.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { API_KEYS_CHANNEL } from "../../src/accounts/apiKeys.js";
import { DUMMY_HASH } from "../../src/accounts/passwords.js";
import { UnknownPlan } from "../../src/accounts/plans.js";
import { EmailTaken, InvalidCursor, InvalidEmail, UserRepository, type NewUser, type User } from "../../src/accounts/users.js";
import type { Database } from "../../src/db/database.js";
import { openTestDatabase, TEST_ENGINES } from "../support/databases.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MISSING_ID = "00000000-0000-4000-8000-000000000000";

const newUser = (email: string, extra: Partial<NewUser> = {}): NewUser => ({ email, passwordHash: DUMMY_HASH, role: "user", plan: "free", ...extra });

for (const engine of TEST_ENGINES) {
  describe(`UserRepository on the ${engine.name} engine`, () => {
    let db: Database;
    let users: UserRepository;
    before(async () => {
      db = await openTestDatabase(await engine.fresh());
      users = new UserRepository(db);
    });

    it("creates a user with a JavaScript-made id, the address as typed (trimmed) and no password hash", async () => {
      const user = await users.create(newUser("  Ada.Lovelace@Example.COM ", { role: "admin", plan: "premium" }));
      assert.match(user.id, UUID);
      assert.equal(user.email, "Ada.Lovelace@Example.COM");
      assert.equal(user.role, "admin");
      assert.equal(user.plan, "premium");
      assert.equal(user.disabledAt, null);
      assert.ok(user.createdAt instanceof Date && user.updatedAt instanceof Date);
      assert.deepEqual(Object.keys(user).sort(), ["createdAt", "disabledAt", "email", "id", "plan", "role", "updatedAt"]);
      const [row] = await db.query<{ email_key: string }>("select email_key from users where id = $1", [user.id]);
      assert.equal(row?.email_key, "ada.lovelace@example.com");
    });

    it("finds a user by id, and by email in any case and with surrounding spaces", async () => {
      const created = await users.create(newUser("Grace@Example.com"));
      assert.deepEqual(await users.findById(created.id), created);
      assert.deepEqual(await users.findByEmail("grace@example.com"), created);
      assert.deepEqual(await users.findByEmail(" GRACE@EXAMPLE.COM "), created);
      assert.equal(await users.findByEmail("nobody@example.com"), undefined);
      assert.equal(await users.findById(MISSING_ID), undefined);
      assert.equal(await users.findById("not-a-uuid"), undefined);
    });

    it("gives the password hash to the login path only", async () => {
      const created = await users.create(newUser("login@example.com", { passwordHash: "scrypt$stored" }));
      assert.deepEqual(await users.findCredentials("LOGIN@example.com"), { user: created, passwordHash: "scrypt$stored" });
      assert.equal(await users.findCredentials("nobody@example.com"), undefined);
      const listed = await users.list({ emailContains: "login@" });
      assert.deepEqual(listed.items, [created]);
      assert.ok(!JSON.stringify(listed).includes("scrypt$stored"));
    });

    it("refuses a second account for the same address, in another case, with EmailTaken", async () => {
      await users.create(newUser("taken@example.com"));
      await assert.rejects(users.create(newUser(" TAKEN@example.com")), (error: unknown) => error instanceof EmailTaken && error.code === "SLUICE_ERR_EMAIL_TAKEN" && error.email === "TAKEN@example.com");
      const [row] = await db.query<{ n: number }>("select count(*)::int as n from users where email_key = 'taken@example.com'");
      assert.equal(row?.n, 1);
    });

    it("refuses what is not an email address, and a plan that does not exist", async () => {
      for (const email of ["", "   ", "no-at-sign", "two@@example.com", "space in@example.com", `${"x".repeat(250)}@example.com`]) {
        await assert.rejects(users.create(newUser(email)), (error: unknown) => error instanceof InvalidEmail && error.code === "SLUICE_ERR_INVALID_EMAIL", email);
      }
      await assert.rejects(users.create(newUser("planless@example.com", { plan: "platinum" })), (error: unknown) => error instanceof UnknownPlan && error.plan === "platinum");
      assert.equal(await users.findByEmail("planless@example.com"), undefined);
    });

    it("changes a user's plan, role, state and password hash, and answers undefined for an unknown user", async () => {
      const user = await users.create(newUser("changes@example.com"));
      const onPremium = await users.setPlan(user.id, "premium");
      assert.equal(onPremium?.plan, "premium");
      assert.ok(onPremium.updatedAt >= user.updatedAt);
      await assert.rejects(users.setPlan(user.id, "platinum"), UnknownPlan);
      assert.equal((await users.findById(user.id))?.plan, "premium");
      assert.equal((await users.setRole(user.id, "admin"))?.role, "admin");
      assert.equal((await users.setPasswordHash(user.id, "scrypt$new"))?.id, user.id);
      assert.equal((await users.findCredentials("changes@example.com"))?.passwordHash, "scrypt$new");
      for (const change of [users.setPlan(MISSING_ID, "free"), users.setRole(MISSING_ID, "user"), users.setDisabled(MISSING_ID, true), users.setPasswordHash(MISSING_ID, "x")]) {
        assert.equal(await change, undefined);
      }
    });

    it("disables a user, keeping the first time it was disabled, and enables them again", async () => {
      const user = await users.create(newUser("disabled@example.com"));
      const disabled = await users.setDisabled(user.id, true);
      assert.ok(disabled?.disabledAt instanceof Date);
      const again = await users.setDisabled(user.id, true);
      assert.deepEqual(again?.disabledAt, disabled.disabledAt);
      assert.equal((await users.setDisabled(user.id, false))?.disabledAt, null);
    });

    it("tells every instance's key cache when a user's plan or disabled state changes", async () => {
      const user = await users.create(newUser("announced@example.com"));
      const heard: string[] = [];
      const stop = await db.listen(API_KEYS_CHANNEL, (payload) => heard.push(payload));
      await users.setPlan(user.id, "premium");
      await users.setDisabled(user.id, true);
      await users.setRole(user.id, "user"); // a role does not change how keys verify
      await users.setPlan(MISSING_ID, "free"); // nobody to announce
      while (heard.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, 50));
      await stop();
      assert.deepEqual(heard, [`user:${user.id}`, `user:${user.id}`]);
    });

    it("counts the admins who may sign in, or all of them", async () => {
      const before = await users.countAdmins();
      const admin = await users.create(newUser("admin-1@example.com", { role: "admin" }));
      await users.create(newUser("admin-2@example.com", { role: "admin" }));
      assert.equal(await users.countAdmins(), before + 2);
      await users.setDisabled(admin.id, true);
      assert.equal(await users.countAdmins(), before + 1);
      assert.equal(await users.countAdmins({ includeDisabled: true }), before + 2);
    });

    describe("listing", () => {
      let listing: UserRepository;
      let all: User[];
      before(async () => {
        listing = new UserRepository(await openTestDatabase(await engine.fresh()));
        const specs: [string, Partial<NewUser>][] = [
          ["carol@example.com", { role: "admin" }],
          ["Alice@Example.com", {}],
          ["bob@example.org", { plan: "premium" }],
          ["dave_50%@example.com", {}],
          ["Eve@example.org", { plan: "premium" }],
          ["frank@example.com", {}],
          ["grace@example.net", { role: "admin", plan: "premium" }],
        ];
        all = [];
        for (const [email, extra] of specs) all.push(await listing.create(newUser(email, extra)));
        await listing.setDisabled(all.find((u) => u.email === "frank@example.com")!.id, true);
        all = await Promise.all(all.map(async (u) => (await listing.findById(u.id))!));
      });

      const emails = (items: readonly User[]) => items.map((u) => u.email);

      it("pages through every user by email address, case-insensitively, following the cursor", async () => {
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await listing.list({ limit: 3, cursor });
          assert.equal(page.total, 7);
          assert.ok(page.items.length <= 3);
          seen.push(...emails(page.items));
          cursor = page.nextCursor;
          pages++;
        } while (cursor !== undefined);
        assert.equal(pages, 3);
        assert.deepEqual(seen, ["Alice@Example.com", "bob@example.org", "carol@example.com", "dave_50%@example.com", "Eve@example.org", "frank@example.com", "grace@example.net"]);
      });

      it("has no next cursor when the last page is exactly full", async () => {
        const page = await listing.list({ limit: 7 });
        assert.equal(page.items.length, 7);
        assert.equal(page.nextCursor, undefined);
        assert.deepEqual(page.items, [...all].sort((a, b) => (a.email.toLowerCase() < b.email.toLowerCase() ? -1 : 1)));
      });

      it("filters by role, plan, state and part of the address, counting the matches on all pages", async () => {
        assert.deepEqual(emails((await listing.list({ role: "admin" })).items), ["carol@example.com", "grace@example.net"]);
        assert.deepEqual(emails((await listing.list({ plan: "premium" })).items), ["bob@example.org", "Eve@example.org", "grace@example.net"]);
        assert.deepEqual(emails((await listing.list({ disabled: true })).items), ["frank@example.com"]);
        assert.equal((await listing.list({ disabled: false })).total, 6);
        assert.deepEqual(emails((await listing.list({ emailContains: "EXAMPLE.ORG" })).items), ["bob@example.org", "Eve@example.org"]);
        assert.deepEqual(emails((await listing.list({ role: "admin", plan: "premium" })).items), ["grace@example.net"]);
        const firstOfTwo = await listing.list({ plan: "premium", limit: 2 });
        assert.equal(firstOfTwo.total, 3);
        assert.deepEqual(emails((await listing.list({ plan: "premium", limit: 2, cursor: firstOfTwo.nextCursor })).items), ["grace@example.net"]);
      });

      it("takes % and _ in the searched text literally", async () => {
        assert.deepEqual(emails((await listing.list({ emailContains: "_50%" })).items), ["dave_50%@example.com"]);
        assert.deepEqual((await listing.list({ emailContains: "%" })).total, 1);
        assert.deepEqual((await listing.list({ emailContains: "a_i" })).total, 0);
      });

      it("refuses a cursor it did not hand out and a page size out of range", async () => {
        await assert.rejects(listing.list({ cursor: "not a cursor!" }), InvalidCursor);
        for (const limit of [0, 201, 1.5]) await assert.rejects(listing.list({ limit }), RangeError);
      });
    });
  });
}
