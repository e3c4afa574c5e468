/**
 * The embedded engine's own process: PGlite runs here, a child of the Sluice process that opened
 * the database, and embeddedDatabase.ts talks to it over the IPC channel (embeddedProtocol.ts).
 *
 * Why not in Sluice's own process: PGlite is PostgreSQL in WebAssembly, so each statement runs
 * synchronously on the thread that calls it, and its runtime in the gateway's heap made every
 * request dearer. Measured on the gateway bench (2026-12-07, gateway pinned to one core): 74–81 µs
 * of CPU per proxied request with PGlite in the gateway's process, 62–66 with the accounts in a
 * PostgreSQL server, and a p99 of 7–23 ms against 6–10. (A worker thread would do, but Node 20's
 * threads cannot load the TypeScript sources the tests run.)
 *
 * Each request gets one reply with its `id`. A transaction is held open between `begin` and
 * `commit` or `rollback`: PGlite runs one statement at a time, so meanwhile other statements
 * wait, as they did with PGlite in Sluice's process. The engine ends with its parent: on `close`,
 * or when the channel goes (the parent died); signals are the parent's to act on (Ctrl-C and
 * systemd's SIGTERM reach the whole group, and Sluice still writes its last usage on the way out).
 *
 * Usage (by embeddedDatabase.ts only): fork(embeddedEngine.js, [directory], { serialization: "advanced" })
 */
import { PGlite, type Transaction } from "@electric-sql/pglite";
import { describeError, startParams, type EngineReply, type EngineRequest } from "./embeddedProtocol.js";

interface OpenTransaction {
  readonly tx: Transaction;
  /** Ends the transaction's callback: resolve commits, reject rolls back. */
  readonly finish: { resolve(): void; reject(reason: Error): void };
  /** Settles once PGlite has committed or rolled back. */
  readonly outcome: Promise<void>;
}

const directory = process.argv[2];
if (directory === undefined || process.send === undefined) throw new Error("usage: fork(embeddedEngine, [directory]) with an IPC channel");

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => undefined);

const transactions = new Map<number, OpenTransaction>();
const listeners = new Map<number, () => Promise<void>>();
let nextTransaction = 1;

const reply = (message: EngineReply) => process.send!(message);

const db = await PGlite.create({ dataDir: directory, startParams: startParams(PGlite.defaultStartParams) }).catch((error: unknown) => {
  reply({ id: 0, error: describeError(error) });
  process.disconnect();
  throw error;
});
reply({ id: 0, result: undefined });

process.on("message", (request: EngineRequest) => {
  handle(request).then(
    (result) => reply({ id: request.id, result }),
    (error: unknown) => reply({ id: request.id, error: describeError(error) }),
  );
});
// The parent has closed the database, or died: leave at once, so a Sluice started in its place
// never finds this one still writing. Leaving mid-statement is as safe as a SIGKILL: each
// committed statement is in the files before its reply went out.
process.on("disconnect", () => process.exit(0));

async function handle(request: EngineRequest): Promise<unknown> {
  switch (request.op) {
    case "query":
      return (await runsOn(request.tx).query(request.sql, [...request.params])).rows;
    case "exec":
      await runsOn(request.tx).exec(request.script);
      return undefined;
    case "begin":
      return begin();
    case "commit":
    case "rollback": {
      const open = openTransaction(request.tx);
      transactions.delete(request.tx);
      if (request.op === "commit") open.finish.resolve();
      else open.finish.reject(new Error("rolled back"));
      // A rollback's outcome is the rejection it asked for.
      return request.op === "commit" ? open.outcome : open.outcome.catch(() => undefined);
    }
    case "listen": {
      const { listener, channel } = request;
      listeners.set(listener, await db.listen(channel, (payload) => reply({ id: -1, listener, payload })));
      return undefined;
    }
    case "unlisten": {
      const stop = listeners.get(request.listener);
      listeners.delete(request.listener);
      await stop?.();
      return undefined;
    }
    case "close":
      await db.close();
      return undefined;
  }
}

/** Opens a transaction and answers with its number once PGlite has begun it. */
function begin(): Promise<number> {
  const id = nextTransaction++;
  return new Promise((begun, failed) => {
    let finish!: OpenTransaction["finish"];
    const finished = new Promise<void>((resolve, reject) => (finish = { resolve, reject }));
    const outcome: Promise<void> = db.transaction(async (tx) => {
      transactions.set(id, { tx, finish, outcome });
      begun(id);
      await finished;
    });
    outcome.catch(failed); // before the callback ran: BEGIN itself failed
  });
}

/** Where a statement runs: its open transaction, or the database itself. */
function runsOn(tx: number | undefined): Pick<Transaction, "query" | "exec"> {
  return tx === undefined ? db : openTransaction(tx).tx;
}

function openTransaction(id: number): OpenTransaction {
  const open = transactions.get(id);
  if (open === undefined) throw new Error(`no open transaction ${id}`);
  return open;
}
