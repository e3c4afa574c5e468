/**
 * The embedded engine: PGlite, PostgreSQL in WebAssembly, storing its files in a directory.
 * One process owns the directory: a lock file holding its pid keeps a second one out (two
 * writers would corrupt it; several instances need the PostgreSQL engine). Durability is
 * PGlite's default: each statement's changes reach the files before its promise resolves, so a
 * process killed after a commit has returned loses nothing of it. The directory is private to the
 * user Sluice runs as (privateFiles.ts): it holds password hashes, in the tables and in the WAL.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import type { Database, Queryable } from "./database.js";
import { makePrivate, PRIVATE_DIRECTORY_MODE, PRIVATE_FILE_MODE, restrictUmask } from "./privateFiles.js";

/** Another live process has the embedded database open. */
export class DatabaseInUse extends Error {
  readonly code = "SLUICE_ERR_DATABASE_IN_USE";
  constructor(readonly directory: string, readonly pid: number) {
    super(`the embedded database in ${directory} is open in process ${pid}; stop it, give this one another SLUICE_DATA_DIR, or share a PostgreSQL server through DATABASE_URL`);
    this.name = "DatabaseInUse";
  }
}

export async function openEmbeddedDatabase(directory: string): Promise<Database> {
  restrictUmask();
  await mkdir(directory, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  const unlock = await lock(directory);
  let pglite: PGlite | undefined;
  try {
    pglite = await PGlite.create({ dataDir: directory });
    // After the engine started: a new database's files were just written 0666, and an older
    // Sluice left its directory 0755.
    await makePrivate(directory);
  } catch (error) {
    await pglite?.close();
    await unlock();
    throw error;
  }
  const queryable = (db: Pick<PGlite, "query" | "exec">): Queryable => ({
    query: async <Row>(sql: string, params: readonly unknown[] = []) => (await db.query<Row>(sql, params as unknown[])).rows,
    exec: async (script) => {
      await db.exec(script);
    },
  });
  return {
    engine: "embedded",
    ...queryable(pglite),
    transaction: (work) => pglite.transaction((tx) => work(queryable(tx))),
    listen: async (channel, handler) => {
      const stop = await pglite.listen(channel, handler);
      return () => stop();
    },
    notify: async (channel, payload) => {
      await pglite.query("select pg_notify($1, $2)", [channel, payload]);
    },
    close: async () => {
      await pglite.close();
      await unlock();
    },
  };
}

/** Takes the lock file, or throws DatabaseInUse; a lock left by a dead process is taken over. */
async function lock(directory: string): Promise<() => Promise<void>> {
  const file = join(directory, "sluice.lock");
  for (;;) {
    try {
      await writeFile(file, String(process.pid), { flag: "wx", mode: PRIVATE_FILE_MODE });
      return () => rm(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = Number(await readFile(file, "utf8").catch(() => ""));
    if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) throw new DatabaseInUse(directory, holder);
    await rm(file, { force: true }); // stale: its process is gone (a crash, a kill -9)
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
