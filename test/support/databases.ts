/**
 * Both database engines, for tests that must hold on each: an empty place for a database on
 * the embedded engine (a temp directory) and on PostgreSQL (a scratch database), and opened,
 * migrated databases that are closed and removed when the test file ends.
 *
 * The embedded engine's first start runs initdb and the migrations (about 5 s); every fresh
 * directory is instead a copy of one migrated template (about 1 s). The template is made once for
 * the whole run and shared by every test file (each runs in a process of its own), in a directory
 * named after the migrations and the engine's version, so a change to either makes a new one.
 */
import { createHash } from "node:crypto";
import { cp, mkdtemp, readFile, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import type { Database } from "../../src/db/database.js";
import { MIGRATIONS } from "../../src/db/migrations.js";
import { openDatabase, type DatabaseLocation } from "../../src/db/openDatabase.js";
import { createScratchPostgres } from "./postgres.js";

export interface TestEngine {
  readonly name: "embedded" | "postgres";
  /** A new, empty place for a database; several `openDatabase` calls on it share it (PostgreSQL only, at once). */
  fresh(): Promise<DatabaseLocation>;
}

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let template: Promise<string> | undefined;

/** A migrated embedded database, closed, to copy from; the first test file to need it makes it. */
function embeddedTemplate(): Promise<string> {
  template ??= (async () => {
    const engine = JSON.parse(await readFile(new URL("../../node_modules/@electric-sql/pglite/package.json", import.meta.url), "utf8")) as { version: string };
    const fingerprint = createHash("sha256").update(engine.version).update(JSON.stringify(MIGRATIONS)).digest("hex").slice(0, 16);
    const shared = join(tmpdir(), `sluice-test-template-${fingerprint}`);
    if (await exists(shared)) return shared;
    const building = await mkdtemp(join(tmpdir(), "sluice-db-template-"));
    const db = await openDatabase({ dataDir: building });
    await db.close();
    // A rename is atomic: a file that finds the shared directory finds it whole. When another file
    // made it first, this one's copy is the same database and goes.
    try {
      await rename(building, shared);
    } catch (error) {
      if (!(await exists(shared))) throw error;
      await rm(building, { recursive: true, force: true });
    }
    return shared;
  })();
  return template;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

async function scratchDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sluice-db-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export const TEST_ENGINES: readonly TestEngine[] = [
  {
    name: "embedded",
    fresh: async () => {
      const dir = await scratchDir();
      await cp(await embeddedTemplate(), dir, { recursive: true });
      return { dataDir: dir };
    },
  },
  {
    name: "postgres",
    fresh: async () => {
      const scratch = await createScratchPostgres();
      cleanups.push(() => scratch.drop());
      return { url: scratch.url };
    },
  },
];

/** Opens (and migrates) a database at `location`; it is closed when the test file ends. */
export async function openTestDatabase(location: DatabaseLocation): Promise<Database> {
  const db = await openDatabase(location);
  cleanups.push(() => db.close());
  return db;
}
