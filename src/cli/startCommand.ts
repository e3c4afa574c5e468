/**
 * `sluice start`: load the config, open the accounts database (creating the first admin from the
 * environment, once), start the gateway, and run until SIGINT/SIGTERM. Failures propagate to the
 * dispatcher (sluice.ts), which turns a ConfigError into exit 2 and anything else into exit 1.
 */
import { ensureFirstAdmin, openAccounts, type Accounts } from "../accounts/accounts.js";
import { PasswordRejected } from "../accounts/passwords.js";
import { InvalidEmail } from "../accounts/users.js";
import { ConfigError, loadConfig } from "../config/loader.js";
import { databaseLocation, openDatabase } from "../db/openDatabase.js";
import type { Logger } from "../observability/logger.js";
import { startSluice } from "../sluice.js";
import { onShutdown } from "./onShutdown.js";

export interface StartOptions {
  readonly config?: string | undefined;
  readonly "no-demo"?: boolean | undefined;
  readonly port?: string | undefined;
  readonly host?: string | undefined;
}

/** Never resolves: the process ends from the shutdown handler. */
export async function startCommand(values: StartOptions, logger: Logger): Promise<number> {
  // The flags go through the same validation as the PORT and HOST they override.
  const env = { ...process.env, ...(values.port !== undefined && { PORT: values.port }), ...(values.host !== undefined && { HOST: values.host }) };
  const { config, source } = await loadConfig({ file: values.config, env });
  logger.info({ config: source }, "configuration loaded");
  const db = await openDatabase(databaseLocation(process.env), logger);
  const accounts = await openAccounts(db, { onError: (error) => logger.warn({ err: error }, "could not record API key use") });
  const closeAccounts = async () => {
    await accounts.close();
    await db.close();
  };
  let sluice;
  try {
    await bootstrapAdmin(accounts, process.env, logger);
    sluice = await startSluice({ config, demo: !values["no-demo"], logger, redisUrl: process.env["REDIS_URL"] || undefined, accounts, adminToken: process.env["SLUICE_ADMIN_TOKEN"] || undefined });
  } catch (error) {
    await closeAccounts();
    throw error;
  }
  const running = sluice;
  process.stdout.write(`\nSluice is ready at ${running.url}\n  dashboard: ${running.url}/\n  docs:      ${running.url}/docs\n  try:       curl -H 'x-api-key: secret-key' ${running.url}/api/users/users/104\n\n`);
  onShutdown(async () => {
    await running.close();
    await closeAccounts();
  });
  return await new Promise<number>(() => {});
}

/** SLUICE_ADMIN_EMAIL and SLUICE_ADMIN_PASSWORD make the first admin, once, when there is none. */
async function bootstrapAdmin(accounts: Accounts, env: NodeJS.ProcessEnv, logger: Logger): Promise<void> {
  const email = env["SLUICE_ADMIN_EMAIL"];
  const password = env["SLUICE_ADMIN_PASSWORD"];
  if (!email || !password) return;
  let admin;
  try {
    admin = await ensureFirstAdmin(accounts, email, password);
  } catch (error) {
    if (!(error instanceof PasswordRejected || error instanceof InvalidEmail)) throw error;
    const path = error instanceof InvalidEmail ? "SLUICE_ADMIN_EMAIL" : "SLUICE_ADMIN_PASSWORD";
    throw new ConfigError("environment", [{ line: 0, column: 0, path, message: error.message }]);
  }
  if (admin !== undefined) logger.info({ userId: admin.id }, "created the first admin from SLUICE_ADMIN_EMAIL");
}
