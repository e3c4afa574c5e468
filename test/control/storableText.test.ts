// Text the accounts database cannot keep is refused at the edge. PostgreSQL's text holds no NUL
// (the statement fails: a 500 with a stack in the log) and no lone UTF-16 surrogate (it would be
// stored as U+FFFD: another string than the one sent). Any such string in a control-plane request,
// in its body, query or path, is a 400 naming the field, on both database engines, before any
// handler runs; sign-up, sign-in, a user's keys and the admin API all show it, and nothing is
// logged as an error.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { openAccounts, type Accounts } from "../../src/accounts/accounts.js";
import { unstorableText } from "../../src/control/storableText.js";
import type { Database } from "../../src/db/database.js";
import { openDatabase } from "../../src/db/openDatabase.js";
import { problems } from "../../src/problems/catalogue.js";
import { startSluice, type RunningSluice } from "../../src/sluice.js";
import { parseConfig } from "../../src/config/loader.js";
import { CHEAP_PASSWORDS } from "../support/accountsSluice.js";
import { TEST_ENGINES } from "../support/databases.js";
import { capturingLogger } from "../support/logCapture.js";
import { TestBrowser, type BrowserResponse } from "../support/testBrowser.js";

const PASSWORD = "correct horse battery";
const ADMIN_TOKEN = "storable-text-admin-token";
const NUL = "\u0000";
const LONE = "\ud800";

describe("which text cannot be stored", () => {
  it("is a NUL or a lone surrogate, anywhere in a value, keys included, named by its path", () => {
    assert.deepEqual(unstorableText({ email: "ada@example.com", name: "ok", tags: ["fine", "😀 a pair is fine"] }), []);
    assert.deepEqual(unstorableText({ email: `a${NUL}@example.com` }).map((p) => p.name), ["email"]);
    assert.deepEqual(unstorableText({ scopes: ["users", `x${LONE}`], nested: { deep: ["\udc00"] } }).map((p) => p.name), ["scopes.1", "nested.deep.0"]);
    assert.deepEqual(unstorableText({ limits: { [`bad${NUL}`]: {} } }), [{ name: `limits.bad${NUL}`, reason: "its name contains a NUL character, which cannot be stored" }]);
    assert.deepEqual(unstorableText(`${LONE}`), [{ name: "", reason: "contains a lone UTF-16 surrogate (\\ud800–\\udfff without its pair), which is not Unicode text" }]);
    assert.deepEqual(unstorableText(JSON.parse("[".repeat(100_000) + "\"\\u0000\"" + "]".repeat(100_000)) as unknown).length, 1, "deep nesting, no recursion");
  });
});

for (const engine of TEST_ENGINES) {
  describe(`on the ${engine.name} engine`, () => {
    let db: Database;
    let accounts: Accounts;
    let sluice: RunningSluice;
    const log = capturingLogger();
    before(async () => {
      db = await openDatabase(await engine.fresh());
      accounts = await openAccounts(db, { passwords: CHEAP_PASSWORDS });
      sluice = await startSluice({ config: parseConfig("server: { host: 127.0.0.1, port: 0 }"), accounts, adminToken: ADMIN_TOKEN, logger: log.logger });
    });
    after(async () => {
      await sluice.close();
      await accounts.close();
      await db.close();
    });

    const admin = { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, origin: null };
    const refusedNaming = (response: BrowserResponse, field: string) => {
      assert.equal(response.status, 400, response.text);
      const problem = response.json as { code: string; invalidParams: { name: string }[] };
      assert.equal(problem.code, problems.badRequest.code);
      assert.deepEqual(problem.invalidParams.map((p) => p.name), [field]);
    };
    /** Each test ends by checking that none of what it sent was logged as an error. */
    const assertNoErrorLogged = () => assert.deepEqual(log.lines().filter((line) => Number(line["level"]) >= 50), []);

    it("refuses an email with a NUL or a lone surrogate at sign-up and at sign-in, and makes no account", async () => {
      for (const email of [`ada${NUL}@example.com`, `ada${LONE}@example.com`]) {
        refusedNaming(await new TestBrowser(sluice.url).post("/auth/signup", { email, password: PASSWORD }), "email");
        refusedNaming(await new TestBrowser(sluice.url).post("/auth/login", { email, password: PASSWORD }), "email");
      }
      assert.equal((await accounts.users.list({})).total, 0);
      assertNoErrorLogged();
    });

    it("refuses such a name for a new API key, and such a key id in the path", async () => {
      const browser = new TestBrowser(sluice.url);
      assert.equal((await browser.post("/auth/signup", { email: "keys@example.com", password: PASSWORD })).status, 201);
      refusedNaming(await browser.post("/account/api/keys", { name: `laptop${NUL}` }), "name");
      refusedNaming(await browser.delete(`/account/api/keys/${encodeURIComponent(NUL)}`), "id");
      assert.deepEqual(((await browser.get("/account/api/keys")).json as { keys: unknown[] }).keys, []);
      assertNoErrorLogged();
    });

    it("refuses such text in the admin API's bodies and queries", async () => {
      const browser = new TestBrowser(sluice.url);
      refusedNaming(await browser.post("/admin/api/users", { email: `ops${NUL}@example.com`, password: PASSWORD }, admin), "email");
      refusedNaming(await browser.get(`/admin/api/users?email=${encodeURIComponent(NUL)}`, admin), "email");
      refusedNaming(await browser.request("PUT", "/admin/api/plans/gold", { body: { description: `shiny${LONE}`, limits: {} }, ...admin }), "description");
      assertNoErrorLogged();
    });
  });
}
