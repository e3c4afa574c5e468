/**
 * The embedded engine: PGlite, PostgreSQL in WebAssembly, storing its files in a directory.
 * One process owns the directory (several instances need the PostgreSQL engine). Durability is
 * PGlite's default: each statement's changes reach the files before its promise resolves, so a
 * process killed after a commit has returned loses nothing of it.
 */
import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import type { Database, Queryable } from "./database.js";

export async function openEmbeddedDatabase(directory: string): Promise<Database> {
  await mkdir(directory, { recursive: true });
  const pglite = await PGlite.create({ dataDir: directory });
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
    close: () => pglite.close(),
  };
}
