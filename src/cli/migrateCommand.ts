/**
 * `sluice migrate`: brings the accounts database's schema up to date and says what it applied.
 * Every start migrates too; this command is for doing it ahead of a deploy, or to see that
 * nothing is pending. Idempotent: a second run applies nothing, and exits 0.
 *
 * @example
 * // DATABASE_URL=postgres://… sluice migrate
 * // → Applied migration 1 (accounts). / Applied migration 2 (default plans).
 */
import { migrate, MIGRATIONS } from "../db/migrations.js";
import { databaseLocation, embeddedDatabaseDirectory, openUnmigratedDatabase } from "../db/openDatabase.js";
import { parseCommandArgs, type AccountCommand } from "./accountCommand.js";
import { cliOutput } from "./cliOutput.js";
import { redactUrl } from "../observability/redactUrl.js";

export const migrateCommand: AccountCommand = async (args, io) => {
  const { values } = parseCommandArgs("migrate", args, {});
  const location = databaseLocation(io.env);
  const db = await openUnmigratedDatabase(location);
  let appliedIds;
  try {
    appliedIds = await migrate(db);
  } finally {
    await db.close();
  }
  const applied = MIGRATIONS.filter((m) => appliedIds.includes(m.id)).map(({ id, name }) => ({ id, name }));
  const latest = MIGRATIONS.at(-1)?.id ?? 0;
  const database = location.url !== undefined ? `PostgreSQL at ${redactUrl(location.url, "DATABASE_URL")}` : `embedded database in ${embeddedDatabaseDirectory(location.dataDir)}`;
  const out = cliOutput(io.stdout, { json: values.json === true });
  out.result({ engine: db.engine, applied, latest }, () => {
    for (const m of applied) out.line(`Applied migration ${m.id} (${m.name}).`);
    out.line(`${applied.length === 0 ? "Nothing to apply" : "Done"}: ${database} is at migration ${latest}, the latest.`);
  });
  return 0;
};

