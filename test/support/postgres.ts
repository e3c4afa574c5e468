/**
 * A fresh PostgreSQL database per test file, on the machine's server (TEST_DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/test): tests never see each other's rows, and the database
 * is dropped when the file's tests end.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";

export const TEST_DATABASE_URL = process.env["TEST_DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/test";

export interface ScratchPostgres {
  readonly url: string;
  drop(): Promise<void>;
}

export async function createScratchPostgres(): Promise<ScratchPostgres> {
  const name = `sluice_test_${randomUUID().replaceAll("-", "")}`;
  await postgresAdmin(`create database ${name}`);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => postgresAdmin(`drop database if exists ${name} with (force)`),
  };
}

/** Runs `sql` as the server's admin, on its own connection (create, drop or alter a database). */
export async function postgresAdmin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
