/**
 * The one data-access seam. SQL is written once, in PostgreSQL's dialect, and runs on either
 * engine: PGlite (PostgreSQL compiled to WebAssembly, kept in a directory, no server to install;
 * the default) or a PostgreSQL server (`DATABASE_URL`). Repositories take a `Queryable` and
 * never learn which engine answers. docs/architecture.md says why PGlite.
 *
 * Conventions that keep both engines returning the same JavaScript values: ids are UUIDs made
 * in JavaScript, hashes are hex `text` (not `bytea`), counts are cast to `int` (a `bigint` would
 * come back as a string from one engine), times are `timestamptz` (a Date from both).
 */

/** The payload handlers get when notifications may have been lost (a reconnect). */
export const MISSED_NOTIFICATIONS = "*";

/** Something that runs SQL: the database itself, or one transaction. */
export interface Queryable {
  /** Runs one statement with `$1`-style parameters and returns its rows. */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly engine: "embedded" | "postgres";
  /** Runs `work` in one transaction: all of its writes commit together, or none do. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Calls `handler` with the payload of every NOTIFY on `channel`, from any instance sharing the
   * database; resolves to a function that stops listening. After a lost connection comes back,
   * handlers get `MISSED_NOTIFICATIONS`: anything may have changed meanwhile.
   */
  listen(channel: string, handler: (payload: string) => void): Promise<() => Promise<void>>;
  /** Tells every listener on `channel`, on every instance, once the current transaction commits. */
  notify(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}
