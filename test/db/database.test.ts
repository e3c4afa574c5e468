// Both database engines behind one interface, held to the same story: the schema migrates once
// and only once, even when several instances start together; a migration that fails leaves the
// database as it was; a transaction commits whole or not at all; a change announced on one
// connection reaches listeners; and a process killed in the middle of writes loses no row whose
// commit had returned. The embedded engine's directory belongs to one process at a time, and
// its engine's own process (src/db/embeddedEngine.ts) does not outlive the Sluice that started it.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { before, describe, it } from "node:test";
import type { Database } from "../../src/db/database.js";
import { migrate, MIGRATIONS, type Migration } from "../../src/db/migrations.js";
import { DatabaseInUse } from "../../src/db/embeddedDatabase.js";
import { openDatabase, type DatabaseLocation } from "../../src/db/openDatabase.js";
import { openTestDatabase, TEST_ENGINES } from "../support/databases.js";
import { pollUntil } from "../support/poll.js";

for (const engine of TEST_ENGINES) {
  describe(`the ${engine.name} engine`, () => {
    let location: DatabaseLocation;
    let db: Database;
    before(async () => {
      location = await engine.fresh();
      db = await openTestDatabase(location);
    });

    it("is migrated when opened, and a second migration run applies nothing", async () => {
      const applied = await db.query<{ id: number }>("select id from sluice_migrations order by id");
      assert.deepEqual(applied.map((row) => row.id), MIGRATIONS.map((m) => m.id));
      assert.deepEqual(await migrate(db), []);
      const tables = await db.query<{ name: string }>("select table_name as name from information_schema.tables where table_schema = 'public' order by 1");
      assert.deepEqual(tables.map((t) => t.name), ["api_keys", "password_resets", "plans", "service_tokens", "sessions", "sluice_migrations", "usage_minutes", "users"]);
    });

    it("rolls a failed migration back with every migration of its run", async () => {
      const next: Migration[] = [
        ...MIGRATIONS,
        { id: 900, name: "good", sql: "create table good_one (id int primary key)" },
        { id: 901, name: "broken", sql: "create table broken_one (id int primary key); select no_such_function()" },
      ];
      await assert.rejects(migrate(db, next), /no_such_function/);
      const [row] = await db.query<{ n: number }>("select count(*)::int as n from information_schema.tables where table_name in ('good_one', 'broken_one')");
      assert.equal(row?.n, 0);
      assert.deepEqual((await db.query<{ id: number }>("select id from sluice_migrations where id >= 900")), []);
    });

    it("commits a transaction whole, or rolls it back whole when it throws", async () => {
      await db.exec("create table ledger (id int primary key)");
      await db.transaction(async (tx) => {
        await tx.query("insert into ledger values (1)");
        await tx.query("insert into ledger values (2)");
      });
      await assert.rejects(db.transaction(async (tx) => {
        await tx.query("insert into ledger values (3)");
        await tx.query("insert into ledger values (1)"); // duplicate key
      }), /duplicate key/);
      const rows = await db.query<{ id: number }>("select id from ledger order by id");
      assert.deepEqual(rows.map((r) => r.id), [1, 2]);
    });

    it("returns the same JavaScript values from either engine", async () => {
      const id = randomUUID();
      const [row] = await db.query<{ id: string; tags: string[]; doc: unknown; at: Date; n: number }>(
        "select $1::uuid as id, array['a', 'b']::text[] as tags, '{\"q\": 5}'::jsonb as doc, now() as at, count(*)::int as n from sluice_migrations",
        [id],
      );
      assert.equal(row?.id, id);
      assert.deepEqual(row?.tags, ["a", "b"]);
      assert.deepEqual(row?.doc, { q: 5 });
      assert.ok(row?.at instanceof Date);
      assert.equal(row?.n, MIGRATIONS.length);
    });

    it("delivers a notification to its listeners", async () => {
      const received: string[] = [];
      const stop = await db.listen("sluice_test", (payload) => received.push(payload));
      await db.notify("sluice_test", "key-revoked:42");
      while (received.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.deepEqual(received, ["key-revoked:42"]);
      await stop();
    });

    it("loses no committed row when its process is killed in the middle of writes", async () => {
      const location = await engine.fresh();
      const { committed } = await writeUntilKilled(location, 40);
      const reopened = await openTestDatabase(location);
      const rows = await reopened.query<{ id: string }>("select id from survivors");
      const stored = new Set(rows.map((r) => r.id));
      const lost = committed.filter((id) => !stored.has(id));
      assert.deepEqual(lost, [], `${lost.length} of ${committed.length} committed rows were lost`);
      assert.ok(rows.length >= committed.length);
    });

    if (engine.name === "postgres") {
      it("migrates once when several instances start at the same moment", async () => {
        const empty = await engine.fresh();
        // Without the migration lock, the losers would fail on "relation already exists".
        const instances = await Promise.all([1, 2, 3].map(() => openTestDatabase(empty)));
        const rows = await instances[0]!.query<{ id: number }>("select id from sluice_migrations");
        assert.deepEqual(rows.map((r) => r.id), MIGRATIONS.map((m) => m.id));
      });

      it("tells listeners on another instance", async () => {
        const other = await openTestDatabase(location);
        const received: string[] = [];
        await other.listen("sluice_test_cross", (payload) => received.push(payload));
        await db.notify("sluice_test_cross", "plan-changed:gold");
        while (received.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        assert.deepEqual(received, ["plan-changed:gold"]);
      });
    }
  });
}

/** Starts a writer process, lets it commit at least `rows` rows, kills it with SIGKILL mid-write. */
/** The rows a writer saw committed before SIGKILL, and the processes it had started (the embedded engine's). */
async function writeUntilKilled(location: DatabaseLocation, rows: number): Promise<{ committed: string[]; children: number[] }> {
  const target = location.url ?? location.dataDir ?? "";
  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "writeUntilKilled.ts"), target], { stdio: ["ignore", "pipe", "inherit"] });
  const committed: string[] = [];
  let children: number[] = [];
  const exited = new Promise((resolve) => child.once("exit", resolve));
  for await (const line of createInterface({ input: child.stdout })) {
    if (line === "ready") continue;
    committed.push(line);
    if (committed.length === rows) {
      children = childrenOf(child.pid!);
      child.kill("SIGKILL");
    }
  }
  await exited;
  return { committed, children };
}

function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter((p) => p !== "").map(Number);
}

/** Alive and not a zombie (an orphan's exit status waits for whoever adopted it). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

describe("the embedded engine's directory", () => {
  it("is refused to a second opener while the first has it open, and free again once closed", async () => {
    const location = await TEST_ENGINES.find((e) => e.name === "embedded")!.fresh();
    const first = await openDatabase(location);
    await assert.rejects(openDatabase(location), (error: unknown) => error instanceof DatabaseInUse && error.pid === process.pid);
    await first.close();
    const second = await openDatabase(location);
    await second.close();
  });

  it("is taken over from a process that died holding it, whose engine left with it", async () => {
    const location = await TEST_ENGINES.find((e) => e.name === "embedded")!.fresh();
    const { children } = await writeUntilKilled(location, 1); // SIGKILL: its lock file stays behind
    assert.equal(children.length, 1, "the engine's process");
    // Its channel closed with the writer: an engine left running would write beside the next opener.
    assert.equal(await pollUntil(() => Promise.resolve(isRunning(children[0]!)), (running) => !running, 10_000), false);
    const reopened = await openDatabase(location);
    await reopened.close();
  });
});
