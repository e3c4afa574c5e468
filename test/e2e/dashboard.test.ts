// The dashboard as a person meets it, in Debian's Chromium against a real `sluice start`: a
// welcome page that says what Sluice is, under a strict CSP, with sign-up first; sign-up and
// sign-in with clear form errors (by keyboard); the playground showing the limit before the first
// call, random numbers until the limit with one countdown that survives a reload and is waited
// out for real (a 3-per-5 s window, no injected clock), and a request builder for any service; an
// API key made in the page beside the plan's shared limits, whose ready-made curl line works as
// printed, whose last use shows at once, which the usage page (all traffic by default,
// refreshing itself, over the range picked, in plain words) counts, and which, once revoked in
// the page, fails within a second and is never stamped as used after; rotation with a chosen
// grace and a name of its own; a password change that refuses the same password; a proper 403
// page for a user; sign-out. Then the first admin (from the environment) changes a user's plan
// after confirming, disables them (who are told so only with their right password), lists and
// revokes their keys, issues a password reset link that the user then uses, edits a plan in the
// structured editor, sees the services' health, inspects a key by the start the pages show and
// an address, and resets a limit; on a phone the tables stack and the header stays small; /docs
// is Sluice's, split into the consumer's and the admin's API, with a way back. Each step saves a
// screenshot in test/e2e/screenshots/ (the README's come from dashboardAxe.test.ts, on the demo
// config).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
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
const sh = promisify(execFile);
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

/** Saves the page as test/e2e/screenshots/<name>.png. */
async function screenshot(name: string, options: { mask?: Locator[] } = {}): Promise<void> {
  const path = join(SCREENSHOTS, `${name}.png`);
  // The pointer out of the way, so no hover effect is in the picture.
  await page.mouse.move(0, 0);
  await page.screenshot({ path, fullPage: true, animations: "disabled", ...(options.mask && { mask: options.mask }) });
}

/** The page's own list of the user's keys, as the API gives it. */
async function ownKeys(): Promise<Array<{ name: string; lastUsedAt: string | null; revokedAt: string | null }>> {
  return page.evaluate<Array<{ name: string; lastUsedAt: string | null; revokedAt: string | null }>>(`fetch("/account/api/keys").then((r) => r.json()).then((b) => b.keys)`);
}

async function openDashboard(hash = ""): Promise<void> {
  await page.goto(`${sluice.url}/${hash}`);
  await page.locator("body[data-ready]").waitFor();
}

/**
 * The usage page's subject once `settled` holds for it (within the page's timeout). Read through a
 * locator, not page.waitForFunction: that evaluates its predicate with eval in the page, which the
 * dashboard's CSP refuses (and reports as a violation).
 */
function selectedSubject(settled: (value: string) => boolean): Promise<string> {
  return pollUntil(() => page.locator("#usage-subject").inputValue(), settled, 10_000);
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
  it("serves a welcome page at / that says what Sluice is, with sign-up first, under a strict Content-Security-Policy", async () => {
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
    assert.match(await page.getByRole("heading", { level: 1 }).textContent() ?? "", /API gateway with a rate limiter/);
    assert.match(await page.locator(".lead").textContent() ?? "", /API keys.*limits/s);
    const signUp = page.getByRole("link", { name: "Sign up free" });
    assert.ok(await signUp.isVisible());
    // Front and centre: the first call to action, above the fold.
    const box = await signUp.boundingBox();
    assert.ok(box !== null && box.y + box.height < 800, "sign-up is above the fold");
    assert.ok(await page.getByRole("link", { name: "API docs" }).first().isVisible());
    await screenshot("welcome");
    // The first Tab reaches a skip link, which takes the focus to the view's heading.
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate<string>("document.activeElement.textContent"), "Skip to the content");
    await page.keyboard.press("Enter");
    assert.equal(await page.evaluate<string>("document.activeElement.id"), "welcome-title");
    await page.getByRole("link", { name: "Log in" }).click();
    assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "Log in");
    assert.ok(await page.getByLabel("Email", { exact: true }).isVisible());
    assert.ok(await page.getByLabel("Password", { exact: true }).isVisible());
    await screenshot("sign-in");
    await openDashboard();
    await signUp.click();
  });

  it("signs up, with clear errors for what is missing or too short", async () => {
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

  it("shows the limit before the first call, gets random numbers until it, counts down one wait that survives a reload, then works again", async () => {
    const button = page.getByRole("button", { name: "Get a random number" });
    const limited = page.getByTestId("rate-limited");
    // Before any call: the binding limit, read without spending anything.
    await page.getByTestId("random-before").filter({ hasText: "You have 3 of 3 calls left now" }).waitFor();
    assert.match(await page.getByTestId("random-before").textContent() ?? "", /random-short.*3 requests per 5 s/);
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
    // One wait on screen: the countdown's, not a second one from the RateLimit header.
    assert.equal(await page.getByTestId("requests-left").textContent(), "");
    await screenshot("playground");

    // A reload keeps the countdown.
    await page.reload();
    await page.locator("body[data-ready]").waitFor();
    await limited.waitFor({ state: "visible" });
    assert.equal(await button.getAttribute("aria-disabled"), "true");
    assert.match(await page.getByTestId("countdown").textContent() ?? "", /^[1-5]$/);

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
    // The "left" line does not outlive its window.
    await page.getByTestId("requests-left").filter({ hasText: "The window has reset" }).waitFor({ timeout: 7_000 });
  });

  it("tries the user and recommendation services", async () => {
    await page.getByRole("button", { name: "Get user 101" }).click();
    await page.getByTestId("service-result").filter({ hasText: '"user_id": 101' }).waitFor();
    await page.getByRole("button", { name: "Get recommendations for user 101" }).click();
    await page.getByTestId("service-result").filter({ hasText: '"recommendations"' }).waitFor();
    assert.match(await page.getByTestId("service-status").textContent() ?? "", /→ 200\..*requests left/);
    await screenshot("playground-services");

    // Any service, by path: the builder offers every service of this gateway.
    await page.getByLabel("Service", { exact: true }).selectOption("users");
    await page.getByLabel("Path", { exact: true }).fill("users/102");
    assert.match(await page.locator("#builder-url").textContent() ?? "", /\/api\/users\/users\/102$/);
    await page.getByRole("button", { name: "Send GET" }).click();
    await page.getByTestId("builder-result").filter({ hasText: '"user_id": 102' }).waitFor();
    assert.match(await page.getByTestId("builder-status").textContent() ?? "", /GET \/api\/users\/users\/102 → 200\./);

    // Readable on a phone: nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    assert.ok(await page.evaluate<boolean>("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), "no sideways scrolling");
    await screenshot("playground-phone");
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it("makes an API key shown once with a curl line that works as printed, beside the plan's shared limits, until it is revoked in the page", async () => {
    await page.getByRole("link", { name: "API keys" }).click();
    await page.getByRole("heading", { name: "API keys", level: 1 }).waitFor();
    await page.getByText("You have no keys yet.").waitFor();
    // The plan's limits are per user, shared with the playground: said, and shown with what is left.
    assert.match(await page.getByTestId("keys-shared").textContent() ?? "", /per user.*Playground calls share them/s);
    const planRows = page.getByTestId("keys-limits").locator("tbody tr");
    await planRows.filter({ hasText: "free-rate" }).waitFor();
    assert.match(await planRows.filter({ hasText: "free-rate" }).textContent() ?? "", /100 requests per 30 s.*\d+ of 100/s);
    assert.equal(await page.locator("#plan-name-now").textContent(), "free");
    await page.getByLabel("Name", { exact: true }).fill("laptop");
    await page.getByLabel("Expires").selectOption({ label: "In 30 days" });
    await page.getByLabel("users", { exact: true }).check();
    await page.getByRole("button", { name: "Create key" }).click();
    const shown = page.getByTestId("new-key");
    await shown.filter({ hasText: /^sk_/ }).waitFor();
    const key = (await shown.textContent())!;
    assert.match(key, /^sk_[A-Za-z0-9]{32}$/);
    await page.getByRole("button", { name: "Copy", exact: true }).click();
    await page.getByText(/^(Copied|Selected)/).waitFor();
    const item = page.locator("#key-list li", { hasText: "laptop" });
    await item.waitFor();
    assert.match(await item.textContent() ?? "", new RegExp(`${key.slice(0, 9)}…`));
    assert.match(await item.textContent() ?? "", /Scopes\s*users/);
    // A ready-to-run line: this gateway's address, the key, a path the key may call.
    const curl = (await page.getByTestId("new-key-curl").textContent())!;
    assert.equal(curl, `curl -i -H 'x-api-key: ${key}' ${sluice.url}/api/users/users/101`);
    await screenshot("api-keys", { mask: [shown, page.getByTestId("new-key-curl")] });

    const { stdout } = await sh("sh", ["-c", curl], { timeout: 10_000 });
    assert.match(stdout, /^HTTP\/1\.1 200 OK/, "the curl line works as printed");
    assert.match(stdout, /"user_id":\s*101/);

    // Shown once: gone from the page once dismissed, and after a reload.
    await page.getByRole("button", { name: "Done, hide it" }).click();
    assert.ok(!(await page.content()).includes(key));
    await page.reload();
    await page.locator("body[data-ready]").waitFor();
    assert.ok(!(await page.content()).includes(key));

    // The list writes the recorded uses before it reads: the call just made shows on the next load.
    await page.reload();
    await page.locator("body[data-ready]").waitFor();
    assert.doesNotMatch(await page.locator("#key-list li", { hasText: "laptop" }).textContent() ?? "", /Last used\s*Never/);

    // One key's usage (the page's read writes the counts first: no waiting), in plain words.
    await page.getByRole("link", { name: "Usage of key laptop" }).click();
    await page.getByRole("heading", { name: "Usage", level: 1 }).waitFor();
    const keyId = /^[0-9a-f-]{36}$/;
    assert.match(await selectedSubject((value) => keyId.test(value)), keyId, "the key's id is the subject");
    const chart = page.getByTestId("usage-chart");
    await page.locator('[data-testid="usage-chart"][data-allowed="1"][data-limited="0"]').waitFor();
    assert.match(await page.getByTestId("usage-summary").textContent() ?? "", /^1 call let through and 0 turned away in the last hour/);
    assert.equal(await chart.locator(".bar").count(), 60);
    const limitRows = page.getByTestId("usage-limits").locator("tbody tr");
    await limitRows.filter({ hasText: "per-client" }).waitFor();
    assert.match(await limitRows.filter({ hasText: "free-rate" }).textContent() ?? "", /\d+ of 100/);
    const usageText = await page.getByRole("main").textContent() ?? "";
    assert.doesNotMatch(usageText, /sliding-window|fixed-window|Whole again/, "no internal words");
    assert.match(await page.getByTestId("usage-status").textContent() ?? "", /^Updated at \d{1,2}:\d{2}:\d{2}/);
    // The range picker: the last 24 hours and the last 7 days, per hour.
    await page.getByLabel("Time range").selectOption({ label: "Last 7 days" });
    assert.equal(await chart.locator(".bar").count(), 168);
    assert.equal(await page.locator("#usage-chart-title").textContent(), "Last 7 days, per hour");
    await page.getByLabel("Time range").selectOption({ label: "Last 24 hours" });
    assert.equal(await chart.locator(".bar").count(), 24);
    await page.locator('[data-testid="usage-chart"][data-allowed="1"]').waitFor();
    await page.getByLabel("Time range").selectOption({ label: "Last hour" });
    // A second call shows up by itself: the page refreshes every 10 s.
    assert.equal((await callWithKey(key)).status, 200);
    await page.locator('[data-testid="usage-chart"][data-allowed="2"]').waitFor({ timeout: 15_000 });

    // Opened from the menu, the page shows all of the user's traffic: the key's calls and the playground's.
    await page.getByRole("link", { name: "Playground" }).click();
    await page.getByRole("link", { name: "Usage", exact: true }).click();
    await page.getByRole("heading", { name: "Usage", level: 1 }).waitFor();
    assert.equal(await selectedSubject((value) => value === "all"), "all");
    await page.locator('[data-testid="usage-chart"][data-limited="1"]').waitFor();
    assert.ok(Number(await chart.getAttribute("data-allowed")) >= 2 + 4, "the key's calls and the playground's");
    await screenshot("usage");

    // Revoked right after a call: it fails within a second, and is never stamped as used after its revocation.
    await page.getByRole("link", { name: "API keys" }).click();
    await page.locator("#key-list li", { hasText: "laptop" }).waitFor();
    assert.equal((await callWithKey(key)).status, 200);
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: "Revoke key laptop" }).click();
    await page.locator("#key-list li", { hasText: "laptop" }).getByText("Revoked").waitFor();
    const revokedAt = Date.now();
    let status = (await callWithKey(key)).status;
    while (status !== 401 && Date.now() - revokedAt < 1_000) status = (await callWithKey(key)).status;
    assert.equal(status, 401, "the revoked key fails within a second");
    // The list writes every use recorded so far before it reads.
    const laptop = (await ownKeys()).find((k) => k.name === "laptop")!;
    assert.ok(laptop.lastUsedAt !== null && laptop.revokedAt !== null && Date.parse(laptop.lastUsedAt) <= Date.parse(laptop.revokedAt), JSON.stringify(laptop));
    await screenshot("api-key-revoked");
  });

  it("rotates a key: a new one with a name of its own is shown, and the old one keeps working for the grace period chosen", async () => {
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
    // Two keys, two names: the new one is numbered.
    await page.locator("#key-list li .key-name", { hasText: /^server \(2\)$/ }).waitFor();
    assert.equal(await page.locator("#key-list li .key-name", { hasText: /^server$/ }).count(), 1);
    await screenshot("api-key-rotated", { mask: [page.getByTestId("new-key"), page.getByTestId("new-key-curl")] });

    // Rotated again with no grace: the replaced key stops at once. Escape cancels the dialog.
    await page.getByRole("button", { name: "Rotate key server (2)" }).click();
    await dialog.waitFor();
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    await page.getByRole("button", { name: "Rotate key server (2)" }).click();
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
    await page.getByLabel("Current password", { exact: true }).fill("not my password");
    await page.getByLabel("New password", { exact: true }).fill("short");
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByText("Use at least 8 characters.").waitFor();
    await page.getByLabel("New password", { exact: true }).fill("not my password");
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByText("This is your current password. Choose a new one.").waitFor();
    await page.getByLabel("New password", { exact: true }).fill("a brand new passphrase");
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByText("This is not your current password.").waitFor();
    await page.getByLabel("Current password", { exact: true }).fill(password);
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
    // A proper 403 page: no tabs to nowhere, no "Loading…" left, a way back.
    await page.waitForLoadState("networkidle");
    assert.equal(await page.locator("#admin-status").textContent(), "");
    assert.ok(await page.getByRole("navigation", { name: "Admin pages" }).isHidden());
    assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "Admin");
    assert.ok(await page.getByRole("link", { name: "Back to the Playground" }).isVisible());
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

  it("lists users and changes one's plan after confirming, disables and enables them", async () => {
    await page.getByRole("link", { name: "Admin" }).click();
    await page.getByRole("heading", { name: "Admin: users", level: 1 }).waitFor();
    const ada = page.getByTestId("user-table").locator("tr", { hasText: email });
    await ada.waitFor();
    // A plan change asks first; cancelled, nothing changes and the dropdown shows the stored plan.
    const confirmDialog = page.getByRole("dialog", { name: "Are you sure?" });
    await page.getByLabel(`Plan of ${email}`).selectOption("premium");
    await confirmDialog.waitFor();
    assert.match(await confirmDialog.textContent() ?? "", /from free to premium/);
    await confirmDialog.getByRole("button", { name: "Cancel" }).click();
    // The page puts the stored plan back once the dialog has closed, a turn after the click.
    assert.equal(await pollUntil(() => page.getByLabel(`Plan of ${email}`).inputValue(), (plan) => plan === "free"), "free");
    await page.getByLabel(`Plan of ${email}`).selectOption("premium");
    await confirmDialog.getByRole("button", { name: "Make it premium" }).click();
    await page.getByText(`${email}: plan is now premium.`).waitFor();
    assert.equal(await page.getByLabel(`Plan of ${email}`).inputValue(), "premium");

    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: `Disable ${email}` }).click();
    await ada.getByText("Disabled").waitFor();
    const login = (pass: string) => fetch(`${sluice.url}/auth/login`, { method: "POST", headers: { "content-type": "application/json", origin: sluice.url }, body: JSON.stringify({ email, password: pass }) });
    // Told so only with the right password; a wrong one gets the answer an unknown email gets.
    const withRight = await login(password);
    assert.equal(withRight.status, 403, "a disabled user cannot sign in");
    assert.equal(((await withRight.json()) as { code: string }).code, "SLUICE_ERR_ACCOUNT_DISABLED");
    assert.equal((await login("not the password")).status, 401);
    await screenshot("admin-users");
    await page.getByRole("button", { name: `Enable ${email}` }).click();
    await ada.getByText("Active").waitFor();
    assert.equal((await login(password)).status, 200);

    await page.getByLabel("Find users by email").fill("grace");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByText('1 user matching “grace”.').waitFor();
    assert.equal(await page.getByTestId("user-table").locator("tbody tr").count(), 1);
  });

  it("lists a user's keys and revokes one, and gives a one-time link to reset their password, which they use", async () => {
    await page.getByLabel("Find users by email").fill("ada");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("button", { name: `Keys of ${email}` }).click();
    const keys = page.getByTestId("user-keys");
    await keys.getByRole("heading", { name: `Keys of ${email}` }).waitFor();
    const rows = keys.locator("tbody tr");
    await rows.filter({ hasText: "laptop" }).getByText("Revoked").waitFor();
    const live = rows.filter({ hasText: "Active" });
    assert.ok((await live.count()) >= 1);
    const victim = live.first();
    const name = (await victim.locator("th").textContent())!;
    const start = (await victim.locator("td.mono").textContent())!;
    await screenshot("admin-user-keys");
    page.once("dialog", (dialog) => void dialog.accept());
    await victim.getByRole("button", { name: `Revoke key ${name} (${start})` }).click();
    await keys.getByText(`Revoked “${name}” (${start}).`).waitFor();
    assert.match(await rows.filter({ hasText: start }).textContent() ?? "", /Revoked/);

    // A forgotten password: the admin makes a link and passes it on; ada sets a new password with it.
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: `Reset password of ${email}` }).click();
    const link = (await page.getByTestId("reset-link").filter({ hasText: /#\/reset\?token=/ }).textContent())!;
    assert.ok(link.startsWith(`${sluice.url}/#/reset?token=`), link);
    // In a browser of ada's own.
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const adaPage = await browser.newPage();
      await adaPage.goto(link);
      await adaPage.locator("body[data-ready]").waitFor();
      await adaPage.getByRole("heading", { name: "Set a new password", level: 1 }).waitFor();
      assert.ok((await adaPage.getByLabel("Reset code").inputValue()).length > 40, "the code comes from the link");
      await adaPage.getByLabel("Choose a password").fill("reset passphrase for ada");
      await adaPage.getByRole("button", { name: "Set password and log in" }).click();
      await adaPage.getByRole("heading", { name: "Playground", level: 1 }).waitFor();
      password = "reset passphrase for ada";
      assert.equal(await adaPage.locator("#who-email").textContent(), email);
    } finally {
      await browser.close();
    }
  });

  it("shows the plans and their limits, and edits one in the structured editor with clear errors", async () => {
    await page.getByRole("link", { name: "Plans" }).click();
    await page.getByRole("heading", { name: "Admin: plans", level: 1 }).waitFor();
    const free = page.getByTestId("plan-list").locator('li[data-plan="free"]');
    await free.getByText("free-rate").waitFor();
    await page.getByRole("button", { name: "Edit plan free" }).click();
    assert.equal(await page.getByLabel("Plan name").inputValue(), "free");
    const row = page.locator(".limit-row").first();
    assert.equal(await row.getByLabel("Name").inputValue(), "free-rate");
    assert.equal(await row.getByLabel("Requests").inputValue(), "100");
    assert.equal(await row.getByLabel("Per (e.g. 30s, 1m, 1h)").inputValue(), "30s");
    assert.equal(await row.getByLabel("Counted for").inputValue(), "consumer");
    await row.getByLabel("Per (e.g. 30s, 1m, 1h)").fill("soon");
    await page.getByRole("button", { name: "Save plan" }).click();
    await page.locator("#plan-limits-error").filter({ hasText: /limits\.free-rate\.window/ }).waitFor();

    // Added and removed by button.
    await page.getByRole("button", { name: "Add a limit" }).click();
    assert.equal(await page.locator(".limit-row").count(), 2);
    await page.getByRole("button", { name: "Remove limit (new)" }).click();
    assert.equal(await page.locator(".limit-row").count(), 1);

    // The description follows the limits: it cannot say one number while the limit is another.
    await row.getByLabel("Per (e.g. 30s, 1m, 1h)").fill("30s");
    await page.getByLabel("Description").fill("Free: 100 requests per 30 s");
    await row.getByLabel("Requests").fill("90");
    assert.equal(await page.getByLabel("Description").inputValue(), "Free: 90 requests per 30 s");
    await screenshot("admin-plan-editor");
    await page.getByRole("button", { name: "Save plan" }).click();
    await page.getByText("Saved plan free;", { exact: false }).waitFor();
    await free.getByText("Free: 90 requests per 30 s").waitFor();
    assert.match(await free.textContent() ?? "", /free-rate\s*90\s*30 s\s*Each user\s*Sliding window, exact/);
    await screenshot("admin-plans");
  });

  it("shows each service with its upstream's health", async () => {
    await page.getByRole("link", { name: "Services" }).click();
    await page.getByRole("heading", { name: "Admin: services", level: 1 }).waitFor();
    for (const service of ["random", "recommend", "users"]) {
      await page.getByTestId("service-list").locator(`li[data-service="${service}"]`).getByText("Upstream answers").waitFor();
    }
    assert.match(await page.locator('li[data-service="random"]').textContent() ?? "", /random-short/);
    await screenshot("admin-services");
  });

  it("inspects an address's and a user's limits live, and resets one", async () => {
    await page.getByRole("link", { name: "Limit inspector" }).click();
    await page.getByRole("heading", { name: "Admin: limit inspector", level: 1 }).waitFor();
    await page.getByLabel("Look up").selectOption({ label: "A client address" });
    await page.getByLabel("Address, key or id").fill("127.0.0.1");
    await page.getByRole("button", { name: "Inspect" }).click();
    // The wrong passwords typed in this story count against the address's sign-in limit.
    const signIn = page.getByTestId("inspect-table").locator("tr", { hasText: "login.ip" });
    await signIn.waitFor();
    assert.doesNotMatch(await signIn.textContent() ?? "", /100 of 100/);
    await screenshot("admin-limits");
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

    // A bad subject clears the last result rather than leave it under the error.
    await page.getByLabel("Address, key or id").fill("not an address");
    await page.getByRole("button", { name: "Inspect" }).click();
    await page.locator("#inspect-value-error").filter({ hasText: /IPv4 or IPv6|uuid|UUID/i }).waitFor();
    assert.equal(await page.getByTestId("inspect-table").locator("tbody tr").count(), 0);
    assert.equal(await page.locator("#inspect-subject").textContent(), "");

    // A key by what the pages show of it: its start, ellipsis and all.
    await page.getByRole("link", { name: "Users" }).click();
    await page.getByRole("button", { name: `Keys of ${email}` }).click();
    const shownStart = (await page.locator("#user-keys-table tbody tr", { hasText: /^server$|server\b/ }).first().locator("td.mono").textContent())!;
    assert.match(shownStart, /^sk_\w{6}…$/);
    await page.getByRole("link", { name: "Limit inspector" }).click();
    await page.getByLabel("Look up").selectOption("keyId");
    await page.getByLabel("Address, key or id").fill(shownStart);
    await page.getByRole("button", { name: "Inspect" }).click();
    await page.getByRole("heading", { name: new RegExp(`^Limits of server.*of ${email.replace(".", "\\.")}$`) }).waitFor();
    await page.getByTestId("inspect-table").locator("tr", { hasText: "premium-rate" }).waitFor();
  });

  it("writes a limit that is whole again in more than a week with its date", async () => {
    const inTenDays = await page.evaluate<string>(`import("/dashboard/shared/format.js").then((f) => f.formatReset(new Date(Date.now() + 10 * 86400000).toISOString()))`);
    const expected = await page.evaluate<string>(`new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" }).format(new Date(Date.now() + 10 * 86400000))`);
    assert.ok(inTenDays.includes(expected), `${inTenDays} names the day (${expected})`);
  });

  it("fits a phone-sized screen: a compact header, tables stacked as cards, no sideways scrolling", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const view of ["#/admin-users", "#/admin-limits?ip=127.0.0.1", "#/admin-plans", "#/usage", "#/keys"]) {
      await openDashboard(view);
      await page.getByRole("heading", { level: 1 }).waitFor();
      assert.ok(await page.evaluate<boolean>("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), `no sideways scrolling on ${view}`);
      // The header: the brand and Log out on one line, the menu on the next, nothing more.
      const header = await page.locator("header.bar").boundingBox();
      assert.ok(header !== null && header.height <= 110, `a header of ${header?.height} px on ${view}`);
    }
    await openDashboard("#/admin-users");
    const cell = page.getByTestId("user-table").locator("tbody tr").first().locator("td").first();
    await cell.waitFor();
    // Each cell a labelled line of its own: the label from the column, the whole email on one line.
    const firstCell = `document.querySelector("#user-table tbody tr td")`;
    assert.equal(await page.evaluate<string>(`getComputedStyle(${firstCell}).display`), "grid");
    assert.equal(await page.evaluate<string>(`getComputedStyle(${firstCell}, "::before").content`), '"Plan"');
    const emailCell = `document.querySelector("#user-table tbody tr th")`;
    assert.ok(await page.evaluate<boolean>(`${emailCell}.scrollWidth <= ${emailCell}.clientWidth`), "the email is not clipped");
    await screenshot("admin-users-phone");
    await openDashboard("#/usage");
    await screenshot("usage-phone");
    await page.setViewportSize({ width: 1280, height: 800 });
  });
});

describe("the API docs", () => {
  it("are Sluice's, fit a phone, split into the consumer's and the admin's API, and lead back to the dashboard", async () => {
    const html = await (await fetch(`${sluice.url}/docs/`)).text();
    assert.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
    assert.match(html, /<title>Sluice API docs<\/title>/);

    const consumer = (await (await fetch(`${sluice.url}/openapi/consumer.json`)).json()) as { info: { title: string }; paths: Record<string, unknown>; components: { securitySchemes: Record<string, unknown> } };
    const admin = (await (await fetch(`${sluice.url}/openapi/admin.json`)).json()) as typeof consumer;
    assert.equal(consumer.info.title, "Sluice: consumer API");
    assert.equal(admin.info.title, "Sluice: admin API");
    assert.ok("/api/users/users/{id}" in consumer.paths && "/auth/login" in consumer.paths);
    assert.ok(!Object.keys(consumer.paths).some((path) => path.startsWith("/admin/")));
    assert.ok("/admin/api/users" in admin.paths);
    assert.ok(!("/auth/login" in admin.paths));
    assert.ok(!("adminToken" in consumer.components.securitySchemes), "the consumer's API names only its own ways in");

    await page.goto(`${sluice.url}/docs/`);
    await page.locator(".swagger-ui .opblock").first().waitFor();
    assert.equal(await page.title(), "Sluice API docs");
    await page.locator(".info .title", { hasText: "Sluice: consumer API" }).waitFor();
    await screenshot("docs");
    await page.getByRole("link", { name: "Back to the dashboard" }).first().click();
    await page.locator("body[data-ready]").waitFor();
    await page.getByRole("heading", { name: "Playground", level: 1 }).waitFor();
    assert.deepEqual(pageFaults, []);
  });
});
