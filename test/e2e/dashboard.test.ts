// The dashboard as a person meets it, in Debian's Chromium against a real `sluice start`: the
// sign-in page under a strict CSP, sign-up and sign-in with clear form errors (by keyboard),
// random numbers until the limit with a countdown that is waited out for real (a 3-per-5 s
// window, no injected clock), an API key made in the page that passes the gateway, whose call the
// usage chart counts, and which, once revoked in the page, fails within a second; rotation with a
// chosen grace; a password change; an admin page refused to a user; sign-out. Then the first
// admin (from the environment) changes a user's plan and disables them, edits a plan, sees the
// services' health, and inspects and resets an address's limits. Each step saves a screenshot in
// test/e2e/screenshots/; the main pages are copied to docs/screenshots/ for the README.
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type BrowserContext, type Locator, type Page } from "playwright-core";
import { DASHBOARD_CSP } from "../../src/dashboard/dashboard.js";
import { pollUntil } from "../support/poll.js";
import { REPO_ROOT, startCli, type SluiceProcess } from "../support/sluiceProcess.js";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
const SCREENSHOTS = join(REPO_ROOT, "test/e2e/screenshots");
const DOC_SCREENSHOTS = join(REPO_ROOT, "docs/screenshots");
const ADMIN_TOKEN = "dashboard-e2e-admin-token";
const ADMIN_EMAIL = "grace@example.com";
const ADMIN_PASSWORD = "admin passphrase for the e2e test";

// The demo services with a short random-number window, so the countdown can be waited out.
const CONFIG = `
limits:
  per-client: { algorithm: sliding-window-log, limit: 30, window: 30s, by: [consumer] }
  random-short: { algorithm: fixed-window, limit: 3, window: 5s, by: [consumer] }
defaults:
  limits: [per-client]
services:
  users: { upstream: "demo://users" }
  recommend: { upstream: "demo://recommendations" }
  random: { upstream: "demo://random-number", limits: [random-short] }
`;

// Each `sluice start` here has a database of its own, so the address is free.
const email = "ada@example.com";
let password = "correct horse battery staple";

let dir: string;
let sluice: SluiceProcess;
let context: BrowserContext;
let page: Page;
/** Uncaught errors and CSP violations in the page: there must be none. */
const pageFaults: string[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "sluice-dashboard-"));
  const config = join(dir, "sluice.yaml");
  await writeFile(config, CONFIG);
  await mkdir(SCREENSHOTS, { recursive: true });
  await mkdir(DOC_SCREENSHOTS, { recursive: true });
  [sluice, context] = await Promise.all([
    startCli(["--config", config], { SLUICE_ADMIN_TOKEN: ADMIN_TOKEN, SLUICE_ADMIN_EMAIL: ADMIN_EMAIL, SLUICE_ADMIN_PASSWORD: ADMIN_PASSWORD }),
    chromium.launchPersistentContext(join(dir, "chromium-profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 800 },
    }),
  ]);
  // A new user's free plan allows 5 calls per 30 s; this story makes more, and it is the
  // random-number window under test, so the plan gets out of the way.
  const plan = await fetch(`${sluice.url}/admin/api/plans/free`, {
    method: "PUT",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ limits: { "free-rate": { algorithm: "sliding-window-log", limit: 100, window: "30s", by: ["consumer"] } } }),
  });
  assert.equal(plan.status, 200, await plan.text());
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: sluice.url });
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(10_000);
  page.on("pageerror", (error) => pageFaults.push(`page error: ${error.message}`));
  // Page code, as a string: the tests are type-checked without the DOM's types.
  await page.addInitScript({
    content: `document.addEventListener("securitypolicyviolation", (event) => console.error("CSP violation: " + event.violatedDirective + " " + event.blockedURI));`,
  });
  page.on("console", (message) => {
    if (message.text().startsWith("CSP violation")) pageFaults.push(message.text());
  });
});

after(async () => {
  await context?.close();
  await sluice?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Saves the page as test/e2e/screenshots/<name>.png and, for the README, in docs/screenshots/ too. */
async function screenshot(name: string, options: { forDocs?: boolean; mask?: Locator[] } = {}): Promise<void> {
  const path = join(SCREENSHOTS, `${name}.png`);
  // The pointer out of the way, so no hover effect is in the picture.
  await page.mouse.move(0, 0);
  await page.screenshot({ path, fullPage: true, animations: "disabled", ...(options.mask && { mask: options.mask }) });
  if (options.forDocs) await copyFile(path, join(DOC_SCREENSHOTS, `${name}.png`));
}

async function openDashboard(hash = ""): Promise<void> {
  await page.goto(`${sluice.url}/${hash}`);
  await page.locator("body[data-ready]").waitFor();
}

/** Presses Tab until `target` has the focus (at most 15 times), as a keyboard user would. */
async function tabTo(target: Locator): Promise<void> {
  for (let i = 0; i < 15; i++) {
    if ((await target.and(page.locator(":focus")).count()) === 1) return;
    await page.keyboard.press("Tab");
  }
  assert.fail("could not reach the element with Tab");
}

/** Fetches through the gateway from the test, as a program holding `key` would. */
function callWithKey(key: string): Promise<Response> {
  return fetch(`${sluice.url}/api/users/users/101`, { headers: { "x-api-key": key } });
}

describe("the dashboard", () => {
  it("serves the sign-in page at / under a strict Content-Security-Policy", async () => {
    const response = await fetch(`${sluice.url}/`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-security-policy"), DASHBOARD_CSP);
    assert.equal(response.headers.get("x-content-type-options"), "nosniff");
    for (const asset of ["/dashboard/app.js", "/dashboard/app.css"]) {
      const assetResponse = await fetch(sluice.url + asset);
      assert.equal(assetResponse.status, 200, asset);
      assert.equal(assetResponse.headers.get("content-security-policy"), DASHBOARD_CSP, asset);
    }
    assert.equal((await fetch(`${sluice.url}/docs/`)).status, 200, "/docs still works");

    await openDashboard();
    assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "Log in");
    assert.ok(await page.getByLabel("Email", { exact: true }).isVisible());
    assert.ok(await page.getByLabel("Password", { exact: true }).isVisible());
    assert.ok(await page.getByRole("link", { name: "API docs" }).first().isVisible());
    await screenshot("sign-in", { forDocs: true });
  });

  it("signs up, with clear errors for what is missing or too short", async () => {
    await page.getByRole("link", { name: "Sign up" }).click();
    assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "Sign up");
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.getByText("Enter your email address.").waitFor();
    assert.equal(await page.getByLabel("Email", { exact: true }).getAttribute("aria-invalid"), "true");

    await page.getByLabel("Email", { exact: true }).fill(email);
    await page.getByLabel("Password", { exact: true }).fill("short");
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.getByText("Use at least 8 characters.").waitFor();
    await screenshot("sign-up-errors");

    await page.getByLabel("Password", { exact: true }).fill(password);
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.getByRole("heading", { name: "Playground", level: 1 }).waitFor();
    assert.equal(await page.locator("#who-email").textContent(), email);
  });

  it("logs out, refuses a wrong password, and logs in by keyboard alone", async () => {
    await page.getByRole("button", { name: "Log out" }).click();
    await page.getByText("You have logged out.").waitFor();
    assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "Log in");

    await tabTo(page.getByLabel("Email", { exact: true }));
    const outline = await page.evaluate<string>("getComputedStyle(document.activeElement).outlineStyle");
    assert.notEqual(outline, "none", "the focused field shows where the focus is");
    await page.keyboard.type(email);
    await page.keyboard.press("Tab");
    await page.keyboard.type("not my password");
    await page.keyboard.press("Enter");
    await page.getByText("The email and password do not match an account.").waitFor();
    await screenshot("log-in-error");

    await page.getByLabel("Password", { exact: true }).focus();
    await page.keyboard.press("ControlOrMeta+A");
    await page.keyboard.type(password);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Playground", level: 1 }).waitFor();
  });

  it("gets random numbers until the limit, counts down from Retry-After, then works again", async () => {
    const button = page.getByRole("button", { name: "Get a random number" });
    const limited = page.getByTestId("rate-limited");
    let limitedAt = 0;
    for (let click = 0; click < 8 && limitedAt === 0; click++) {
      const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith("/api/random/number")), button.click()]);
      if (response.status() === 200) {
        await page.getByTestId("random-number").filter({ hasText: /^\d+$/ }).waitFor();
        assert.match(await page.getByTestId("requests-left").textContent() ?? "", /^\d of 3 requests left in this window/);
      } else {
        assert.equal(response.status(), 429);
        limitedAt = Date.now();
      }
    }
    assert.ok(limitedAt > 0, "the limit was reached");
    await limited.waitFor({ state: "visible" });
    assert.match(await limited.textContent() ?? "", /Try again in\s+[1-5]\s+s\./);
    assert.equal(await button.getAttribute("aria-disabled"), "true");
    await screenshot("playground", { forDocs: true });

    // Waited out for real: the button works again once the window is over, within 6 s.
    let status = 0;
    while (status !== 200) {
      assert.ok(Date.now() - limitedAt <= 6_000, "the button works again within 6 s");
      if ((await button.getAttribute("aria-disabled")) === "true") {
        await page.waitForTimeout(100);
        continue;
      }
      const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith("/api/random/number")), button.click()]);
      status = response.status();
    }
    assert.ok(await limited.isHidden());
    await page.getByTestId("random-number").filter({ hasText: /^\d+$/ }).waitFor();
  });

  it("tries the user and recommendation services", async () => {
    await page.getByRole("button", { name: "Get user 101" }).click();
    await page.getByTestId("service-result").filter({ hasText: '"user_id": 101' }).waitFor();
    await page.getByRole("button", { name: "Get recommendations for user 101" }).click();
    await page.getByTestId("service-result").filter({ hasText: '"recommendations"' }).waitFor();
    assert.match(await page.getByTestId("service-status").textContent() ?? "", /→ 200\..*requests left/);
    await screenshot("playground-services");

    // Readable on a phone: nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    assert.ok(await page.evaluate<boolean>("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), "no sideways scrolling");
    await screenshot("playground-phone", { forDocs: true });
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it("makes an API key shown once, which passes the gateway until it is revoked in the page", async () => {
    await page.getByRole("link", { name: "API keys" }).click();
    await page.getByRole("heading", { name: "API keys", level: 1 }).waitFor();
    await page.getByText("You have no keys yet.").waitFor();
    await page.getByLabel("Name", { exact: true }).fill("laptop");
    await page.getByLabel("Expires").selectOption({ label: "In 30 days" });
    await page.getByLabel("users", { exact: true }).check();
    await page.getByRole("button", { name: "Create key" }).click();
    const shown = page.getByTestId("new-key");
    await shown.filter({ hasText: /^sk_/ }).waitFor();
    const key = (await shown.textContent())!;
    assert.match(key, /^sk_[A-Za-z0-9]{32}$/);
    await page.getByRole("button", { name: "Copy" }).click();
    await page.getByText(/^(Copied|Selected)/).waitFor();
    const item = page.locator("#key-list li", { hasText: "laptop" });
    await item.waitFor();
    assert.match(await item.textContent() ?? "", new RegExp(`${key.slice(0, 9)}…`));
    assert.match(await item.textContent() ?? "", /Scopes\s*users/);
    await screenshot("api-keys", { forDocs: true, mask: [shown] });

    assert.equal((await callWithKey(key)).status, 200, "the new key passes the gateway");

    // Shown once: gone from the page once dismissed, and after a reload.
    await page.getByRole("button", { name: "Done, hide it" }).click();
    assert.ok(!(await page.content()).includes(key));
    await page.reload();
    await page.locator("body[data-ready]").waitFor();
    assert.ok(!(await page.content()).includes(key));

    // Last use is written in batches every few seconds; the list shows it then.
    const deadline = Date.now() + 8_000;
    while (/Last used\s*Never/.test(await page.locator("#key-list li", { hasText: "laptop" }).textContent() ?? "")) {
      assert.ok(Date.now() < deadline, "the list shows the key's last use");
      await page.waitForTimeout(500);
      await page.reload();
      await page.locator("#key-list li", { hasText: "laptop" }).waitFor();
    }

    // The usage page counts the call (the page's read writes the counts first: no waiting).
    await page.getByRole("link", { name: "Usage of key laptop" }).click();
    await page.getByRole("heading", { name: "Usage", level: 1 }).waitFor();
    assert.match(await page.getByLabel("Show usage of").inputValue(), /^[0-9a-f-]{36}$/);
    await page.locator('[data-testid="minutes-chart"][data-allowed="1"][data-limited="0"]').waitFor();
    await page.locator('[data-testid="hours-chart"][data-allowed="1"]').waitFor();
    assert.match(await page.getByTestId("minutes-summary").textContent() ?? "", /^1 call allowed and 0 limited in the last hour/);
    assert.equal(await page.locator('[data-testid="minutes-chart"] .bar').count(), 60);
    assert.equal(await page.locator('[data-testid="hours-chart"] .bar').count(), 168);
    const limitRows = page.getByTestId("usage-limits").locator("tbody tr");
    await limitRows.filter({ hasText: "per-client" }).waitFor();
    assert.match(await limitRows.filter({ hasText: "free-rate" }).textContent() ?? "", /\d+ of 100/);
    await screenshot("usage", { forDocs: true });
    // A second call, seen on Refresh.
    assert.equal((await callWithKey(key)).status, 200);
    await page.getByRole("button", { name: "Refresh" }).click();
    await page.locator('[data-testid="minutes-chart"][data-allowed="2"]').waitFor();

    await page.getByRole("link", { name: "API keys" }).click();
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: "Revoke key laptop" }).click();
    await page.locator("#key-list li", { hasText: "laptop" }).getByText("Revoked").waitFor();
    const revokedAt = Date.now();
    let status = (await callWithKey(key)).status;
    while (status !== 401 && Date.now() - revokedAt < 1_000) status = (await callWithKey(key)).status;
    assert.equal(status, 401, "the revoked key fails within a second");
    await screenshot("api-key-revoked");
  });

  it("rotates a key: a new one is shown, and the old one keeps working for the grace period chosen", async () => {
    await page.getByLabel("Name", { exact: true }).fill("server");
    await page.getByRole("button", { name: "Create key" }).click();
    await page.getByTestId("new-key").filter({ hasText: /^sk_/ }).waitFor();
    const oldKey = (await page.getByTestId("new-key").textContent())!;

    await page.getByRole("button", { name: "Rotate key server" }).click();
    const dialog = page.getByRole("dialog", { name: "Rotate the key" });
    await dialog.waitFor();
    await screenshot("api-key-rotate-dialog");
    await dialog.getByLabel("The old key keeps working").selectOption({ label: "For an hour" });
    await dialog.getByRole("button", { name: "Rotate key", exact: true }).click();
    await page.getByText(/which keeps working until/).waitFor();
    const newKey = (await page.getByTestId("new-key").textContent())!;
    assert.match(newKey, /^sk_[A-Za-z0-9]{32}$/);
    assert.notEqual(newKey, oldKey);
    assert.equal((await callWithKey(newKey)).status, 200);
    assert.equal((await callWithKey(oldKey)).status, 200);
    await page.getByText(/^Rotated: works until/).waitFor();
    await screenshot("api-key-rotated", { mask: [page.getByTestId("new-key")] });

    // Rotated again with no grace: the replaced key stops at once. Escape cancels the dialog.
    await page.getByRole("button", { name: "Rotate key server" }).click();
    await dialog.waitFor();
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    await page.getByRole("button", { name: "Rotate key server" }).click();
    await dialog.getByLabel("The old key keeps working").selectOption({ label: "Not at all: it stops now" });
    await dialog.getByRole("button", { name: "Rotate key", exact: true }).click();
    await page.getByText(/which has stopped working/).waitFor();
    const newest = (await page.getByTestId("new-key").textContent())!;
    assert.notEqual(newest, newKey);
    assert.equal((await pollUntil(() => callWithKey(newKey), (r) => r.status === 401)).status, 401);
    assert.equal((await callWithKey(newest)).status, 200);
  });

  it("changes the password on the account page, refusing a wrong current one", async () => {
    await page.getByRole("link", { name: "Account" }).click();
    await page.getByRole("heading", { name: "Account", level: 1 }).waitFor();
    assert.equal(await page.locator("#account-email").textContent(), email);
    await page.getByLabel("Current password").fill("not my password");
    await page.getByLabel("New password").fill("short");
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByText("Use at least 8 characters.").waitFor();
    await page.getByLabel("New password").fill("a brand new passphrase");
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByText("This is not your current password.").waitFor();
    await page.getByLabel("Current password").fill(password);
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByText("Your password has changed.").waitFor();
    password = "a brand new passphrase";
    await screenshot("account");
    // Still signed in, with the fresh session the change gave.
    assert.equal(await page.evaluate(async () => (await fetch("/auth/me")).status), 200);
  });

  it("refuses the admin pages to a user who is not an admin, saying so", async () => {
    assert.ok(await page.getByRole("link", { name: "Admin" }).isHidden(), "no Admin link for a user");
    await openDashboard("#/admin-users");
    await page.getByTestId("forbidden").waitFor();
    assert.match(await page.getByTestId("forbidden").textContent() ?? "", /403 Forbidden/);
    assert.ok(await page.getByTestId("user-table").isHidden());
    await screenshot("admin-forbidden");
  });

  it("logs out: the session ends and the pages ask to sign in again", async () => {
    await page.getByRole("button", { name: "Log out" }).click();
    await page.getByText("You have logged out.").waitFor();
    const me = await page.evaluate(async () => (await fetch("/auth/me")).status);
    assert.equal(me, 401);
    await openDashboard("#/keys");
    assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "Log in");
    await screenshot("logged-out");
  });
});

describe("the admin pages", () => {
  before(async () => {
    await openDashboard("#/login");
    await page.getByLabel("Email", { exact: true }).fill(ADMIN_EMAIL);
    await page.getByLabel("Password", { exact: true }).fill(ADMIN_PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Playground", level: 1 }).waitFor();
  });

  it("lists users and changes one's plan, disables and enables them", async () => {
    await page.getByRole("link", { name: "Admin" }).click();
    await page.getByRole("heading", { name: "Admin: users", level: 1 }).waitFor();
    const ada = page.getByTestId("user-table").locator("tr", { hasText: email });
    await ada.waitFor();
    await page.getByLabel(`Plan of ${email}`).selectOption("premium");
    await page.getByText(`${email}: plan is now premium.`).waitFor();
    assert.equal(await page.getByLabel(`Plan of ${email}`).inputValue(), "premium");

    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: `Disable ${email}` }).click();
    await ada.getByText("Disabled").waitFor();
    const login = () => fetch(`${sluice.url}/auth/login`, { method: "POST", headers: { "content-type": "application/json", origin: sluice.url }, body: JSON.stringify({ email, password }) });
    assert.equal((await login()).status, 401, "a disabled user cannot sign in");
    await screenshot("admin-users", { forDocs: true });
    await page.getByRole("button", { name: `Enable ${email}` }).click();
    await ada.getByText("Active").waitFor();
    assert.equal((await login()).status, 200);

    await page.getByLabel("Find users by email").fill("grace");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByText('1 user matching “grace”.').waitFor();
    assert.equal(await page.getByTestId("user-table").locator("tbody tr").count(), 1);
  });

  it("shows the plans and their limits, and edits one with clear errors", async () => {
    await page.getByRole("link", { name: "Plans" }).click();
    await page.getByRole("heading", { name: "Admin: plans", level: 1 }).waitFor();
    const free = page.getByTestId("plan-list").locator('li[data-plan="free"]');
    await free.getByText("free-rate").waitFor();
    await page.getByRole("button", { name: "Edit plan free" }).click();
    assert.equal(await page.getByLabel("Plan name").inputValue(), "free");
    const limits = page.getByLabel("Limits (JSON)");
    await limits.fill('{"free-rate": {"algorithm": "nope", "limit": 5, "window": "30s"}}');
    await page.getByRole("button", { name: "Save plan" }).click();
    await page.locator("#plan-limits-error").filter({ hasText: /limits\.free-rate\.algorithm/ }).waitFor();
    await limits.fill("{ not json");
    await page.getByRole("button", { name: "Save plan" }).click();
    await page.getByText(/^This is not JSON/).waitFor();
    await page.getByLabel("Description").fill("Free: 100 requests per 30 s");
    await limits.fill('{"free-rate": {"algorithm": "sliding-window-log", "limit": 100, "window": "30s", "by": ["consumer"]}}');
    await page.getByRole("button", { name: "Save plan" }).click();
    await page.getByText("Saved plan free;", { exact: false }).waitFor();
    await free.getByText("Free: 100 requests per 30 s").waitFor();
    await screenshot("admin-plans", { forDocs: true });
  });

  it("shows each service with its upstream's health", async () => {
    await page.getByRole("link", { name: "Services" }).click();
    await page.getByRole("heading", { name: "Admin: services", level: 1 }).waitFor();
    for (const service of ["random", "recommend", "users"]) {
      await page.getByTestId("service-list").locator(`li[data-service="${service}"]`).getByText("Upstream answers").waitFor();
    }
    assert.match(await page.locator('li[data-service="random"]').textContent() ?? "", /random-short/);
    await screenshot("admin-services", { forDocs: true });
  });

  it("inspects an address's and a user's limits live, and resets one", async () => {
    await page.getByRole("link", { name: "Limit inspector" }).click();
    await page.getByRole("heading", { name: "Admin: limit inspector", level: 1 }).waitFor();
    await page.getByLabel("Look up").selectOption({ label: "A client address" });
    await page.getByLabel("Address or id").fill("127.0.0.1");
    await page.getByRole("button", { name: "Inspect" }).click();
    // The wrong passwords typed in this story count against the address's sign-in limit.
    const signIn = page.getByTestId("inspect-table").locator("tr", { hasText: "login.ip" });
    await signIn.waitFor();
    assert.doesNotMatch(await signIn.textContent() ?? "", /100 of 100/);
    await screenshot("admin-limits", { forDocs: true });
    await page.getByRole("button", { name: "Reset login.ip" }).click();
    await page.getByText("Reset login.ip: it is whole again.").waitFor();
    assert.match(await signIn.textContent() ?? "", /100 of 100/);

    // From the users page: a user's own counters, with their plan's.
    await page.getByRole("link", { name: "Users" }).click();
    await page.getByLabel("Find users by email").fill("ada");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("link", { name: `Limits of ${email}` }).click();
    await page.getByRole("heading", { name: `Limits of ${email}` }).waitFor();
    await page.getByTestId("inspect-table").locator("tr", { hasText: "premium-rate" }).waitFor();
    await page.getByTestId("inspect-table").locator("tr", { hasText: "per-client" }).waitFor();

    await page.getByLabel("Address or id").fill("not an address");
    await page.getByRole("button", { name: "Inspect" }).click();
    await page.locator("#inspect-value-error").filter({ hasText: /IPv4 or IPv6|uuid|UUID/i }).waitFor();
  });

  it("fits a phone-sized screen without sideways scrolling", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const view of ["#/admin-users", "#/admin-limits", "#/usage"]) {
      await openDashboard(view);
      await page.getByRole("heading", { level: 1 }).waitFor();
      assert.ok(await page.evaluate<boolean>("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), `no sideways scrolling on ${view}`);
    }
    await screenshot("usage-phone");
    await page.setViewportSize({ width: 1280, height: 800 });
    assert.deepEqual(pageFaults, []);
  });
});
