// An operator manages accounts from the shell with the built `sluice` command. On the embedded
// database: `migrate` finds nothing to do on a migrated data dir; `users create` takes the
// password from piped stdin and never prints it; a duplicate email, in any case, exits 2 with
// one clear line; `users list` is an aligned table for people and a JSON array for scripts;
// `keys create` prints a key once, and `keys list` shows only its start; a plan with a bad
// limit exits 2 naming every bad field; and while `sluice start` holds the data dir, every
// account command says so and points at DATABASE_URL and the admin API. On PostgreSQL, which a
// gateway and the command can share: `migrate` applies everything once and then nothing; a key
// the command makes works at the running gateway at once, and stops within a second of
// `keys revoke`.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { MIGRATIONS } from "../../src/db/migrations.js";
import { createScratchPostgres, type ScratchPostgres } from "../support/postgres.js";
import { CLI, freshDataDir, REPO_ROOT, runCli, startCli, type Finished } from "../support/sluiceProcess.js";

/** The newest migration: what `migrate --json` reports as `latest` once everything is applied. */
const LATEST = MIGRATIONS.at(-1)!.id;

const KEY = /^sk_[0-9A-Za-z]{32}$/m;
const STACK_FRAME = /^\s+at /m;

describe("account commands on the embedded database", () => {
  let env: NodeJS.ProcessEnv;
  let key: string;
  before(async () => {
    env = { SLUICE_DATA_DIR: await freshDataDir() };
  });

  it("migrate finds nothing to apply on a migrated database", async () => {
    const result = await runCli(["migrate", "--json"], env);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { engine: "embedded", applied: [], latest: LATEST });
  });

  it("users create reads the password from piped stdin and never prints it", async () => {
    const password = "correct horse battery";
    const result = await runCliWithStdin(["users", "create", "--email", "Ada@Example.com", "--role", "admin"], env, `${password}\n`);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Created user Ada@Example\.com\.$/m);
    assert.match(result.stdout, /^ID +ROLE +PLAN$/m);
    assert.match(result.stdout, /^[0-9a-f-]{36} +admin +free$/m);
    assert.ok(!`${result.stdout}${result.stderr}`.includes(password), "the password is never printed");
  });

  it("a duplicate email, in any case, exits 2 with one line naming it", async () => {
    const result = await runCli(["users", "create", "--email", "ada@example.COM"], { ...env, SLUICE_PASSWORD: "another password" });
    assert.equal(result.code, 2);
    assert.equal(result.stderr, "sluice: an account with the email address ada@example.COM already exists (SLUICE_ERR_EMAIL_TAKEN)\n");
    assert.equal(result.stdout, "");
  });

  it("users list is a table for people and JSON for scripts", async () => {
    const table = await runCli(["users", "list"], env);
    assert.equal(table.code, 0, table.stderr);
    const [header, row, ...rest] = table.stdout.trimEnd().split("\n");
    assert.deepEqual(header!.split(/ {2,}/), ["ID", "EMAIL", "ROLE", "PLAN", "STATUS", "CREATED"]);
    const cells = row!.split(/ {2,}/);
    assert.match(cells[0]!, /^[0-9a-f-]{36}$/);
    assert.deepEqual(cells.slice(1, 5), ["Ada@Example.com", "admin", "free", "enabled"]);
    assert.match(cells[5]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // Aligned: every cell starts where its column's heading does.
    for (const [i, cell] of cells.entries()) assert.equal(row!.indexOf(cell), header!.indexOf(header!.split(/ {2,}/)[i]!), `column ${i}`);
    assert.deepEqual(rest, []);

    const json = await runCli(["users", "list", "--role", "admin", "--json"], env);
    assert.equal(json.code, 0, json.stderr);
    const users = JSON.parse(json.stdout) as Record<string, unknown>[];
    assert.equal(users.length, 1);
    assert.deepEqual(Object.keys(users[0]!).sort(), ["createdAt", "disabledAt", "email", "id", "plan", "role", "updatedAt"]);
    assert.equal(users[0]!["email"], "Ada@Example.com");
  });

  it("keys create prints the key once; keys list shows only its start", async () => {
    const created = await runCli(["keys", "create", "--user", "ada@example.com", "--name", "ci", "--scope", "users", "--expires", "30d"], env);
    assert.equal(created.code, 0, created.stderr);
    const keys = created.stdout.match(new RegExp(KEY.source, "gm")) ?? [];
    assert.equal(keys.length, 1, created.stdout);
    key = keys[0]!;
    assert.match(created.stdout, /will not be shown again/);

    const table = await runCli(["keys", "list"], env);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^ID +KEY +NAME +USER +PLAN +SCOPES +CREATED +LAST USED +EXPIRES +STATUS$/m);
    assert.ok(table.stdout.includes(`${key.slice(0, 9)}…  ci    Ada@Example.com  (user's)  users`), table.stdout);
    assert.ok(!table.stdout.includes(key), "keys list never shows the key");

    const json = await runCli(["keys", "list", "--json"], env);
    assert.equal(json.code, 0, json.stderr);
    assert.ok(!json.stdout.includes(key));
    const [listed] = JSON.parse(json.stdout) as Record<string, unknown>[];
    assert.equal(listed!["start"], key.slice(0, 9));
    assert.equal(listed!["status"], "active");
  });

  it("plans set with a bad limit exits 2 listing every bad field, and saves nothing", async () => {
    const limits = "{ gold-rate: { limit: 0, window: 30 }, gold-daily: { limit: 5, window: 1d, by: [everyone] } }";
    const result = await runCli(["plans", "set", "gold", "--limits", limits], env);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^sluice: the plan is invalid, nothing was saved \(SLUICE_ERR_INVALID_PLAN\):$/m);
    for (const field of ["gold-rate.limit", "gold-rate.window", "gold-daily.by.0"]) {
      assert.match(result.stderr, new RegExp(`^ {2}limits\\.${field.replaceAll(".", "\\.")}: `, "m"));
    }
    assert.doesNotMatch(result.stderr, STACK_FRAME);
    const plans = await runCli(["plans", "list", "--json"], env);
    assert.deepEqual((JSON.parse(plans.stdout) as { name: string }[]).map((p) => p.name), ["free", "premium"]);
  });

  it("users reset-password prints a one-time link whose token sets a new password once, at the gateway", async () => {
    const printed = await runCli(["users", "reset-password", "ada@example.com", "--url", "https://sluice.example.com/"], env);
    assert.equal(printed.code, 0, printed.stderr);
    const link = /^https:\/\/sluice\.example\.com\/#\/reset\?token=([A-Za-z0-9_-]{43})$/m.exec(printed.stdout);
    assert.ok(link, printed.stdout);
    const sluice = await startCli([], env);
    try {
      const reset = (token: string) => fetch(`${sluice.url}/auth/reset`, { method: "POST", headers: { "content-type": "application/json", origin: sluice.url }, body: JSON.stringify({ token, newPassword: "a passphrase from the link" }) });
      assert.equal((await reset(link[1]!)).status, 200);
      assert.equal((await reset(link[1]!)).status, 400, "once only");
    } finally {
      await sluice.stop();
    }
  });

  it("while `sluice start` holds the data dir, account commands exit 1 and say what to do", async () => {
    const gateway = await startCli([], env);
    try {
      const result = await runCli(["users", "list"], env);
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(`^sluice: the embedded database in \\S+ is in use by process ${gateway.child.pid} — is \`sluice start\` running on this data dir\\? \\(SLUICE_ERR_DATABASE_IN_USE\\)$`, "m"));
      assert.match(result.stderr, /admin API/);
      assert.match(result.stderr, /DATABASE_URL/);
      assert.doesNotMatch(result.stderr, STACK_FRAME);
    } finally {
      assert.equal((await gateway.stop()).code, 0);
    }
  });
});

describe("account commands on PostgreSQL, beside a running gateway", () => {
  let scratch: ScratchPostgres;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    scratch = await createScratchPostgres();
    env = { DATABASE_URL: scratch.url };
  });
  after(() => scratch.drop());

  it("migrate applies every migration once, then nothing", async () => {
    const first = await runCli(["migrate"], env);
    assert.equal(first.code, 0, first.stderr);
    assert.ok(first.stdout.startsWith(MIGRATIONS.map((m) => `Applied migration ${m.id} (${m.name}).\n`).join("")), first.stdout);
    const second = await runCli(["migrate", "--json"], env);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(JSON.parse(second.stdout), { engine: "postgres", applied: [], latest: LATEST });
  });

  it("a key the command makes works at the gateway, and is refused within 1 s of keys revoke", async () => {
    const gateway = await startCli([], env);
    try {
      const user = await runCli(["users", "create", "--email", "grace@example.com", "--json"], { ...env, SLUICE_PASSWORD: "a long enough password" });
      assert.equal(user.code, 0, user.stderr);
      const created = await runCli(["keys", "create", "--user", "grace@example.com", "--name", "laptop", "--json"], env);
      assert.equal(created.code, 0, created.stderr);
      const { key, id } = JSON.parse(created.stdout) as { key: string; id: string };
      assert.match(key, KEY);

      const call = () => fetch(`${gateway.url}/api/users/users/104`, { headers: { "x-api-key": key } });
      const allowed = await call();
      assert.equal(allowed.status, 200, await allowed.text());

      const revoked = await runCli(["keys", "revoke", id], env);
      assert.equal(revoked.code, 0, revoked.stderr);
      assert.match(revoked.stdout, /^Revoked key /);
      const since = Date.now();
      let status = 0;
      while (Date.now() - since < 1000) {
        const response = await call();
        await response.arrayBuffer();
        status = response.status;
        if (status === 401) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(status, 401, "refused within a second of the revocation");
    } finally {
      assert.equal((await gateway.stop()).code, 0);
    }
  });
});

/** Runs the CLI with `input` piped to its stdin (runCli gives it none). */
function runCliWithStdin(args: readonly string[], env: NodeJS.ProcessEnv, input: string): Promise<Finished> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: { PATH: process.env["PATH"], LOG_LEVEL: "warn", ...env }, stdio: ["pipe", "pipe", "pipe"] });
  child.stdin.end(input);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  return new Promise((resolve) => child.on("close", (code, signal) => {
    clearTimeout(timer);
    resolve({ code, signal, stdout, stderr });
  }));
}
