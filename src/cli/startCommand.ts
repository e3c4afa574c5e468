/**
 * `sluice start`: load the config, open the accounts database (creating the first admin from the
 * environment, once), start the gateway, and run until SIGINT/SIGTERM, which drain it. SIGHUP and
 * a change to the config file reload it: a valid file applies to new requests, an invalid one is
 * logged with the loader's message and the running config stays.
 *
 * With `--workers N` (N > 1) this process becomes the primary of N workers (lifecycle/workers.ts),
 * each of which runs this command again as a worker: the same start, minus the banner and the
 * file watch, which the primary owns. Failures propagate to the dispatcher (sluice.ts), which
 * turns a ConfigError or UsageError into exit 2 and anything else into exit 1.
 */
import cluster from "node:cluster";
import { availableParallelism } from "node:os";
import { ensureFirstAdmin, openAccounts, type Accounts } from "../accounts/accounts.js";
import { PasswordRejected } from "../accounts/passwords.js";
import { InvalidEmail } from "../accounts/users.js";
import { ConfigError, loadConfig } from "../config/loader.js";
import type { SluiceConfig } from "../config/schema.js";
import { databaseLocation, openDatabase } from "../db/openDatabase.js";
import { watchConfigFile } from "../lifecycle/configWatcher.js";
import { runPrimary, WORKER_MESSAGES, type WorkerReady } from "../lifecycle/workers.js";
import { serveClusterMetrics } from "../observability/clusterMetrics.js";
import { createAccessLogger, type Logger } from "../observability/logger.js";
import { startSluice, type RunningSluice } from "../sluice.js";
import { UsageError } from "./cliErrors.js";
import { onShutdown } from "./onShutdown.js";

export interface StartOptions {
  readonly config?: string | undefined;
  readonly "no-demo"?: boolean | undefined;
  readonly port?: string | undefined;
  readonly host?: string | undefined;
  readonly workers?: string | undefined;
}

/** Never resolves in a single process or a worker (the process ends from the shutdown handler); a primary resolves when its workers have stopped. */
export async function startCommand(values: StartOptions, logger: Logger): Promise<number> {
  // The flags go through the same validation as the PORT and HOST they override.
  const env = { ...process.env, ...(values.port !== undefined && { PORT: values.port }), ...(values.host !== undefined && { HOST: values.host }) };
  const load = () => loadConfig({ file: values.config, env });
  const { config, source } = await load();
  // LOG_LEVEL (checked by the dispatcher) overrides the file's log.level.
  if (!process.env["LOG_LEVEL"]) logger.level = config.log.level;
  if (cluster.isPrimary) {
    const workers = workerCount(values.workers, config, process.env, logger);
    if (workers > 1) return startPrimary(workers, source, logger);
  }
  logger.info({ config: source }, "configuration loaded");
  const access = createAccessLogger(logger);
  const db = await openDatabase(databaseLocation(process.env), logger);
  const accounts = await openAccounts(db, { onError: (error) => logger.warn({ err: error }, "could not record API key use") });
  const closeAccounts = async () => {
    await accounts.close();
    await db.close();
  };
  let sluice;
  try {
    await bootstrapAdmin(accounts, process.env, logger);
    sluice = await startSluice({ config, demo: !values["no-demo"], logger, accessLogger: access.logger, redisUrl: process.env["REDIS_URL"] || undefined, accounts, adminToken: process.env["SLUICE_ADMIN_TOKEN"] || undefined });
  } catch (error) {
    await closeAccounts();
    throw error;
  }
  const running = sluice;
  const reload = (trigger: string) => void reloadFromFile(running, load, trigger, logger);
  process.on("SIGHUP", () => reload("SIGHUP"));
  const watcher = cluster.isWorker ? undefined : await watchConfigFile(source, () => reload("the config file changed"), { logger });
  const shutdown = onShutdown(async () => {
    watcher?.close();
    await running.close();
    access.flush();
    await closeAccounts();
  });
  if (cluster.isWorker) {
    process.on("message", (message: unknown) => {
      if (message === WORKER_MESSAGES.shutdown) shutdown("asked by the primary");
      else if (message === WORKER_MESSAGES.reload) reload("asked by the primary");
    });
    // The primary is gone (killed): no one will tell this worker to stop, so it stops now.
    process.on("disconnect", () => shutdown("the primary process is gone"));
    process.send?.({ sluice: "ready", url: running.url, grpc: grpcAddress(config.server.host, running.grpcPort) } satisfies WorkerReady);
  } else {
    printBanner(running.url, grpcAddress(config.server.host, running.grpcPort));
  }
  return await new Promise<number>(() => {});
}

/** Loads the config file again and applies it; an invalid file is logged and changes nothing. */
async function reloadFromFile(running: RunningSluice, load: () => Promise<{ config: SluiceConfig }>, trigger: string, logger: Logger): Promise<void> {
  try {
    const { config } = await load();
    await running.reload(config);
  } catch (error) {
    if (error instanceof ConfigError) logger.error({ trigger }, `configuration not reloaded, the running one stays: ${error.message}`);
    else logger.error({ err: error, trigger }, "configuration not reloaded, the running one stays");
  }
}

/**
 * How many worker processes: --workers, else one per core when both limits (Redis) and accounts
 * (PostgreSQL) are shared, else one. More than one needs both: with limits in memory each worker
 * would count alone and admit the whole limit, and the embedded database opens in one process only.
 */
export function workerCount(flag: string | undefined, config: SluiceConfig, env: NodeJS.ProcessEnv, logger: Logger): number {
  const sharedLimits = config.limiter.store === "redis" || (config.limiter.store === "auto" && Boolean(env["REDIS_URL"]));
  const sharedAccounts = Boolean(env["DATABASE_URL"]);
  if (flag === undefined) {
    if (!sharedLimits) return 1;
    if (!sharedAccounts) {
      logger.info("one worker process: the embedded database serves one process; set DATABASE_URL to run one per core");
      return 1;
    }
    return availableParallelism();
  }
  const workers = Number(flag);
  if (!Number.isInteger(workers) || workers < 1 || workers > 1024) throw new UsageError(`--workers takes a number of processes from 1 to 1024, not "${flag}"`);
  if (workers > 1 && !sharedLimits) {
    throw new UsageError(`--workers ${workers} needs limits in Redis (REDIS_URL): with limits in memory each worker would count alone and admit the whole limit, ${workers} times over`);
  }
  if (workers > 1 && !sharedAccounts) {
    throw new UsageError(`--workers ${workers} needs DATABASE_URL (PostgreSQL): the embedded database in SLUICE_DATA_DIR can be opened by one process only`);
  }
  return workers;
}

/** Migrates the database and makes the first admin once, here, so the workers do not race to; then runs them. */
async function startPrimary(workers: number, configFile: string, logger: Logger): Promise<number> {
  logger.info({ config: configFile, workers }, "configuration loaded; starting the workers");
  const db = await openDatabase(databaseLocation(process.env), logger);
  try {
    const accounts = await openAccounts(db);
    await bootstrapAdmin(accounts, process.env, logger).finally(() => accounts.close());
  } finally {
    await db.close();
  }
  serveClusterMetrics();
  return runPrimary({ workers, logger, configFile, onReady: printBanner });
}

function printBanner(url: string, grpc: string | undefined): void {
  process.stdout.write(startBanner(url, grpc));
}

/**
 * What `sluice start` prints once it listens: the gateway's address (scripts wait for its first
 * line), and the gRPC rate-limit service's when `server.grpcPort` turns it on.
 */
export function startBanner(url: string, grpc: string | undefined): string {
  return `\nSluice is ready at ${url}\n  dashboard: ${url}/\n  docs:      ${url}/docs\n` +
    (grpc === undefined ? "" : `  grpc:      ${grpc} (Envoy rate-limit service, ShouldRateLimit)\n`) +
    `  try:       curl -H 'x-api-key: secret-key' ${url}/api/users/users/104\n\n`;
}

/** host:port of the gRPC rate-limit service (an IPv6 host in brackets), or undefined when it is off. */
export function grpcAddress(host: string, port: number | undefined): string | undefined {
  if (port === undefined) return undefined;
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
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
