// The accounts database as an operator meets it, on the embedded engine: the first admin comes
// from the environment on the first start (and only then); and a server killed with SIGKILL in
// the middle of sign-ups loses none of the accounts it had confirmed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { openAccounts } from "../../src/accounts/accounts.js";
import { openDatabase } from "../../src/db/openDatabase.js";
import { freshDataDir, startCli } from "../support/sluiceProcess.js";

const PASSWORD = "correct horse battery";

async function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

describe("the embedded accounts database", () => {
  it("makes the first admin from SLUICE_ADMIN_EMAIL and SLUICE_ADMIN_PASSWORD, once", async () => {
    const dataDir = await freshDataDir();
    const env = { SLUICE_DATA_DIR: dataDir, SLUICE_ADMIN_EMAIL: "ops@example.com", SLUICE_ADMIN_PASSWORD: PASSWORD };
    const first = await startCli([], env);
    try {
      const login = await post(`${first.url}/auth/login`, { email: "ops@example.com", password: PASSWORD });
      assert.equal(login.status, 200);
      assert.equal(((await login.json()) as { user: { role: string } }).user.role, "admin");
    } finally {
      await first.stop();
    }
    // A second start with another password changes nothing: an admin exists.
    const second = await startCli([], { ...env, SLUICE_ADMIN_PASSWORD: "another passphrase" });
    try {
      assert.equal((await post(`${second.url}/auth/login`, { email: "ops@example.com", password: "another passphrase" })).status, 401);
    } finally {
      await second.stop();
    }
  });

  it("keeps every confirmed sign-up when the server is killed in the middle of them", async () => {
    const dataDir = await freshDataDir();
    const sluice = await startCli([], { SLUICE_DATA_DIR: dataDir });
    const confirmed: string[] = [];
    // Sign-ups keep coming while the process is killed; those answered 201 must all survive.
    const signingUp = (async () => {
      for (let i = 0; ; i++) {
        const email = `user${i}@example.com`;
        try {
          const response = await post(`${sluice.url}/auth/signup`, { email, password: PASSWORD });
          if (response.status === 201) confirmed.push(email);
        } catch {
          return; // the server is gone
        }
      }
    })();
    while (confirmed.length < 8) await new Promise((resolve) => setTimeout(resolve, 10));
    sluice.child.kill("SIGKILL");
    await signingUp;
    await sluice.stop();

    const db = await openDatabase({ dataDir });
    const accounts = await openAccounts(db);
    try {
      const missing: string[] = [];
      for (const email of confirmed) if ((await accounts.users.findByEmail(email)) === undefined) missing.push(email);
      assert.deepEqual(missing, [], `${missing.length} of ${confirmed.length} confirmed accounts were lost`);
    } finally {
      await accounts.close();
      await db.close();
    }
  });
});
