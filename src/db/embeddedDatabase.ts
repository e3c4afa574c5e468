/**
 * The embedded engine: PGlite, PostgreSQL in WebAssembly, storing its files in a directory.
 * One process owns the directory: a lock file holding its pid keeps a second one out (two
 * writers would corrupt it; several instances need the PostgreSQL engine). Durability is
 * PGlite's default: each statement's changes reach the files before its promise resolves, so a
 * process killed after a commit has returned loses nothing of it. The directory is private to the
 * user Sluice runs as (privateFiles.ts): it holds password hashes, in the tables and in the WAL.
 *
 * Memory (docs/deploy.md#sizing). The engine is PostgreSQL in one WebAssembly memory, which
 * grows and is never given back, so two settings keep the gateway small: `shared_buffers` is
 * 32 MB rather than PostgreSQL's 128 MB (the accounts' tables are small, and every buffer page
 * touched stays resident), and a first start creates the files (initdb) in a child process
 * (initEmbeddedDatabase.ts), whose memory leaves with it.
 */
import { execFile } from "node:child_process";
import { access, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
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

/** PGlite's own start parameters, and a shared_buffers for a small database (see the header). */
export const EMBEDDED_START_PARAMS: readonly string[] = [...PGlite.defaultStartParams, "-c", "shared_buffers=32MB"];

/** The child that creates a new directory's files: this file's sibling, .ts under tsx, .js when built. */
const INIT_SCRIPT = fileURLToPath(new URL(`./initEmbeddedDatabase${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

export async function openEmbeddedDatabase(directory: string): Promise<Database> {
  restrictUmask();
  await mkdir(directory, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  const unlock = await lock(directory);
  let pglite: PGlite | undefined;
  try {
    if (!(await hasDatabaseFiles(directory))) await initializeInChild(directory);
    pglite = await PGlite.create({ dataDir: directory, startParams: [...EMBEDDED_START_PARAMS] });
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

/** Whether initdb has run in `directory`: PostgreSQL writes PG_VERSION first thing. */
async function hasDatabaseFiles(directory: string): Promise<boolean> {
  return access(join(directory, "PG_VERSION")).then(() => true, () => false);
}

/**
 * Runs initEmbeddedDatabase in a child process of this Node, with the loaders this one was
 * started with (tsx under the tests) and none of its other flags (`--test`, inspectors).
 */
async function initializeInChild(directory: string): Promise<void> {
  const loaders: string[] = [];
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (/^--(import|require|loader|experimental-loader)=/.test(arg)) loaders.push(arg);
    else if (/^(--import|--require|-r|--loader|--experimental-loader)$/.test(arg) && args[i + 1] !== undefined) loaders.push(arg, args[++i]!);
  }
  try {
    await promisify(execFile)(process.execPath, [...loaders, INIT_SCRIPT, directory], { maxBuffer: 1024 * 1024 });
  } catch (error) {
    const { stderr } = error as { stderr?: string | Buffer };
    const tail = (stderr ?? "").toString().trim().split("\n").slice(-3).join(" ");
    throw new Error(`could not create the embedded database in ${directory}: ${tail || (error as Error).message}`, { cause: error });
  }
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
