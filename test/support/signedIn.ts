/**
 * A new person, signed up over real HTTP in their own browser and put on a plan, for tests of
 * what a signed-in user does (their keys, their usage). Sign-up goes through /auth/signup as the
 * dashboard's does; the plan is set through the accounts, as an admin would.
 */
import assert from "node:assert/strict";
import type { AccountsSluice } from "./accountsSluice.js";
import { TestBrowser } from "./testBrowser.js";

const PASSWORD = "correct horse battery";

let people = 0;

/** Signs up `<emailPrefix>-<n>@example.com` on `running`'s gateway and moves them to `plan`. */
export async function signedIn(running: Pick<AccountsSluice, "sluice" | "accounts">, { plan, emailPrefix }: { plan: string; emailPrefix: string }): Promise<TestBrowser> {
  const browser = new TestBrowser(running.sluice.url);
  const response = await browser.post("/auth/signup", { email: `${emailPrefix}-${++people}@example.com`, password: PASSWORD });
  assert.equal(response.status, 201, response.text);
  await running.accounts.users.setPlan((response.json as { user: { id: string } }).user.id, plan);
  return browser;
}
