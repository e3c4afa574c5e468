/**
 * Opens the database Sluice keeps accounts in: PostgreSQL when `DATABASE_URL` is set, else the
 * embedded engine under `SLUICE_DATA_DIR` (default ./data), created on first start. Either way
 * the schema is migrated before the database is handed over.
 */
import { join, resolve } from "node:path";
import type { Logger } from "pino";
import type { Database } from "./database.js";
import { openEmbeddedDatabase } from "./embeddedDatabase.js";
import { migrate } from "./migrations.js";
import { openPostgresDatabase } from "./postgresDatabase.js";

export interface DatabaseLocation {
  /** A postgres:// URL (DATABASE_URL); takes precedence over `dataDir`. */
  readonly url?: string | undefined;
  /** Directory of the embedded database's files (SLUICE_DATA_DIR); default ./data. */
  readonly dataDir?: string | undefined;
}

export function databaseLocation(env: NodeJS.ProcessEnv): DatabaseLocation {
  return { url: env["DATABASE_URL"] || undefined, dataDir: env["SLUICE_DATA_DIR"] || undefined };
}

export async function openDatabase(location: DatabaseLocation, logger?: Logger): Promise<Database> {
  const db = location.url !== undefined
    ? await openPostgresDatabase(location.url, logger)
    : await openEmbeddedDatabase(join(resolve(location.dataDir ?? "data"), "db"));
  try {
    const applied = await migrate(db);
    if (applied.length > 0) logger?.info({ engine: db.engine, migrations: applied }, "database migrated");
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}
