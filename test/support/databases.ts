/**
 * Both database engines, for tests that must hold on each: an empty place for a database on
 * the embedded engine (a temp directory) and on PostgreSQL (a scratch database), and opened,
 * migrated databases that are closed and removed when the test file ends.
 *
 * The embedded engine's first start runs initdb (seconds); every fresh directory after the first
 * is a copy of one migrated template, so a test file pays for initdb once.
 */
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import type { Database } from "../../src/db/database.js";
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

/** A migrated embedded database, closed, to copy from. */
function embeddedTemplate(): Promise<string> {
  template ??= (async () => {
    const dir = await scratchDir();
    const db = await openDatabase({ dataDir: dir });
    await db.close();
    return dir;
  })();
  return template;
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
