#!/usr/bin/env node
/**
 * The `sluice` command: start the gateway, check a config file, or run the demo backends alone.
 * Exit codes: 0 fine, 1 failed at run time, 2 bad usage or invalid configuration.
 */
import { parseArgs } from "node:util";
import { ensureFirstAdmin, openAccounts, type Accounts } from "../accounts/accounts.js";
import { PasswordRejected } from "../accounts/passwords.js";
import { InvalidEmail } from "../accounts/users.js";
import { ConfigError, loadConfig } from "../config/loader.js";
import { databaseLocation, openDatabase } from "../db/openDatabase.js";
import { DEMO_SERVICE_NAMES, startDemoServices, type DemoServiceName } from "../demo/demoServices.js";
import { createLogger, LOG_LEVELS, type Logger, type LogLevel } from "../observability/logger.js";
import { startSluice } from "../sluice.js";

const USAGE = `Usage: sluice <command> [options]

Commands:
  start [--config FILE] [--no-demo] [--port N] [--host ADDR]
                                      Start the gateway (and the demo services its config refers to).
  check-config [--config FILE]        Validate a config file and exit.
  demo [SERVICE...] [--port N]        Run demo backends on their own (${DEMO_SERVICE_NAMES.join(", ")}).
  help                                Show this text.

Environment: SLUICE_CONFIG (config file), PORT and HOST (override server.port/host; the flags
override them), LOG_LEVEL (${LOG_LEVELS.join(", ")}; default info), REDIS_URL (limits in Redis),
DATABASE_URL (accounts in PostgreSQL; else the embedded database in SLUICE_DATA_DIR, default ./data),
SLUICE_ADMIN_EMAIL and SLUICE_ADMIN_PASSWORD (the first admin, created once), SLUICE_ADMIN_TOKEN
(a Bearer token for the admin API).
With no config named, the demo config examples/sluice.yaml is used.`;

const OPTIONS = {
  "config": { type: "string", short: "c" },
  "no-demo": { type: "boolean" },
  "port": { type: "string", short: "p" },
  "host": { type: "string" },
  "help": { type: "boolean", short: "h" },
} as const;

async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true });
  } catch (error) {
    process.stderr.write(`sluice: ${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command = "help", ...rest] = positionals;
  if (values.help || command === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const level = process.env["LOG_LEVEL"] || "info";
  if (!LOG_LEVELS.includes(level as LogLevel)) {
    process.stderr.write(`sluice: LOG_LEVEL "${level}" is not one of ${LOG_LEVELS.join(", ")}\n`);
    return 2;
  }
  const logger = createLogger(level as LogLevel);
  try {
    switch (command) {
      case "start": {
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
        process.stdout.write(`\nSluice is ready at ${running.url}\n  docs:  ${running.url}/docs\n  try:   curl -H 'x-api-key: secret-key' ${running.url}/api/users/users/104\n\n`);
        onShutdown(async () => {
          await running.close();
          await closeAccounts();
        });
        return await new Promise<number>(() => {});
      }
      case "check-config": {
        const { source, config } = await loadConfig({ file: values.config });
        process.stdout.write(`${source}: valid (${Object.keys(config.services).length} services, ${Object.keys(config.limits).length} limits, ${Object.keys(config.consumers).length} consumers)\n`);
        return 0;
      }
      case "demo": {
        const unknown = rest.filter((name) => !DEMO_SERVICE_NAMES.includes(name as DemoServiceName));
        if (unknown.length > 0) throw new UsageError(`unknown demo service ${unknown.join(", ")}; there are ${DEMO_SERVICE_NAMES.join(", ")}`);
        const names = (rest.length > 0 ? rest : DEMO_SERVICE_NAMES) as DemoServiceName[];
        const port = values.port === undefined ? undefined : Number(values.port);
        if (port !== undefined && (names.length !== 1 || !Number.isInteger(port))) throw new UsageError("--port takes a number and goes with exactly one service");
        const demo = await startDemoServices(names, { host: values.host ?? "127.0.0.1", ports: port === undefined ? {} : { [names[0]!]: port } });
        for (const [name, url] of demo.urls) process.stdout.write(`${name}: ${url}\n`);
        onShutdown(() => demo.close());
        return await new Promise<number>(() => {});
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`sluice: ${error.message}\nNothing was started.\n`);
      return 2;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`sluice: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    logger.fatal({ err: error }, "sluice failed");
    return 1;
  }
}

class UsageError extends Error {}

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

/** Closes gracefully on SIGINT/SIGTERM; a second signal exits at once. */
function onShutdown(close: () => Promise<void>): void {
  let closing = false;
  const handler = (signal: NodeJS.Signals) => {
    if (closing) process.exit(1);
    closing = true;
    process.stderr.write(`\n${signal}: shutting down\n`);
    close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
}

process.exitCode = await main(process.argv.slice(2));
