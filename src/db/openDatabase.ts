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
  const db = await openUnmigratedDatabase(location, logger);
  try {
    const applied = await migrate(db);
    if (applied.length > 0) logger?.info({ engine: db.engine, migrations: applied }, "database migrated");
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}

/** The database at `location` as it is, schema not migrated: for `sluice migrate`, which reports what it applies. */
export async function openUnmigratedDatabase(location: DatabaseLocation, logger?: Logger): Promise<Database> {
  if (location.url === undefined) return openEmbeddedDatabase(embeddedDatabaseDirectory(location.dataDir));
  // Loaded only for PostgreSQL: pg's driver is 1.7 MB of heap a gateway on the embedded engine never uses.
  const { openPostgresDatabase } = await import("./postgresDatabase.js");
  return openPostgresDatabase(location.url, logger);
}

/** Where the embedded engine keeps its files for a SLUICE_DATA_DIR (default ./data). */
export function embeddedDatabaseDirectory(dataDir: string | undefined): string {
  return join(resolve(dataDir ?? "data"), "db");
}
