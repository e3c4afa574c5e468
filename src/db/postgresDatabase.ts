/**
 * The PostgreSQL engine, for several instances sharing one database: a connection pool for
 * queries and transactions, and one dedicated connection for LISTEN that reconnects by itself,
 * so another instance's change (a revoked key) reaches this one within moments.
 */
import pg from "pg";
import type { Logger } from "pino";
import { MISSED_NOTIFICATIONS, type Database, type Queryable } from "./database.js";

const RECONNECT_MS = 500;

export async function openPostgresDatabase(url: string, logger?: Logger): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000, statement_timeout: 10_000 });
  // An idle client that loses its server emits here; the pool replaces it on next use.
  pool.on("error", (error) => logger?.warn({ err: error }, "a pooled database connection failed"));
  await pool.query("select 1"); // fail at start-up, not on the first request
  const listener = new Listener(url, logger);
  // Without parameters pg speaks the simple protocol, which accepts a script of statements.
  const queryable = (db: pg.Pool | pg.PoolClient): Queryable => ({
    query: async <Row>(sql: string, params: readonly unknown[] = []) => (await db.query(sql, params as unknown[])).rows as Row[],
    exec: async (script) => {
      await db.query(script);
    },
  });
  return {
    engine: "postgres",
    ...queryable(pool),
    transaction: async (work) => {
      const client = await pool.connect();
      try {
        await client.query("begin");
        const result = await work(queryable(client));
        await client.query("commit");
        return result;
      } catch (error) {
        await client.query("rollback").catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    listen: (channel, handler) => listener.add(channel, handler),
    notify: async (channel, payload) => {
      await pool.query("select pg_notify($1, $2)", [channel, payload]);
    },
    close: async () => {
      await listener.close();
      await pool.end();
    },
  };
}

/** One connection that LISTENs on every channel asked for, and reconnects (re-LISTENing) when lost. */
class Listener {
  readonly #handlers = new Map<string, Set<(payload: string) => void>>();
  #client: pg.Client | undefined;
  #connecting: Promise<pg.Client> | undefined;
  #closed = false;
  /** The connection was lost since the last LISTEN: notifications may have been missed. */
  #lost = false;

  constructor(
    private readonly url: string,
    private readonly logger: Logger | undefined,
  ) {}

  async add(channel: string, handler: (payload: string) => void): Promise<() => Promise<void>> {
    let handlers = this.#handlers.get(channel);
    if (handlers === undefined) {
      this.#handlers.set(channel, (handlers = new Set()));
      const client = await this.#connected();
      await client.query(`listen ${pg.escapeIdentifier(channel)}`);
    }
    handlers.add(handler);
    return () => {
      handlers.delete(handler);
      return Promise.resolve();
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  #connected(): Promise<pg.Client> {
    if (this.#client !== undefined) return Promise.resolve(this.#client);
    this.#connecting ??= this.#connect().finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #connect(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 5_000 });
    client.on("notification", ({ channel, payload }) => {
      for (const handler of this.#handlers.get(channel) ?? []) handler(payload ?? "");
    });
    client.on("error", (error) => {
      this.logger?.warn({ err: error }, "the database notification connection failed; reconnecting");
      if (this.#client === client) this.#client = undefined;
      this.#lost = true;
      client.end().catch(() => undefined);
      this.#reconnectSoon();
    });
    await client.connect();
    for (const channel of this.#handlers.keys()) await client.query(`listen ${pg.escapeIdentifier(channel)}`);
    const reconnected = this.#lost;
    this.#client = client;
    this.#lost = false;
    if (reconnected) for (const handlers of this.#handlers.values()) for (const handler of handlers) handler(MISSED_NOTIFICATIONS);
    return client;
  }

  #reconnectSoon(): void {
    if (this.#closed) return;
    setTimeout(() => {
      if (this.#closed || this.#client !== undefined) return;
      this.#connected().catch(() => this.#reconnectSoon());
    }, RECONNECT_MS).unref();
  }
}
