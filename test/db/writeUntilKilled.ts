// Child process of database.test.ts: opens the database named by argv (a postgres:// URL or a
// directory for the embedded engine), then inserts rows one by one, each in its own committed
// transaction, printing every id only after its commit returned, until it is killed.
import { randomUUID } from "node:crypto";
import { openDatabase } from "../../src/db/openDatabase.js";

const [target = ""] = process.argv.slice(2);
const db = await openDatabase(target.startsWith("postgres") ? { url: target } : { dataDir: target });
await db.exec("create table if not exists survivors (id uuid primary key, at timestamptz not null default now())");
process.stdout.write("ready\n");
for (;;) {
  const id = randomUUID();
  await db.transaction((tx) => tx.query("insert into survivors (id) values ($1)", [id]));
  process.stdout.write(`${id}\n`);
}
