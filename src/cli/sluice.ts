#!/usr/bin/env node
/**
 * The `sluice` command: start the gateway, check a config file, or run the demo backends alone.
 * Exit codes: 0 fine, 1 failed at run time, 2 bad usage or invalid configuration.
 */
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../config/loader.js";
import { DEMO_SERVICE_NAMES, startDemoServices, type DemoServiceName } from "../demo/demoServices.js";
import { createLogger, LOG_LEVELS, type LogLevel } from "../observability/logger.js";
import { startSluice } from "../sluice.js";

const USAGE = `Usage: sluice <command> [options]

Commands:
  start [--config FILE] [--no-demo] [--port N] [--host ADDR]
                                      Start the gateway (and the demo services its config refers to).
  check-config [--config FILE]        Validate a config file and exit.
  demo [SERVICE...] [--port N]        Run demo backends on their own (${DEMO_SERVICE_NAMES.join(", ")}).
  help                                Show this text.

Environment: SLUICE_CONFIG (config file), PORT and HOST (override server.port/host; the flags
override them), LOG_LEVEL (${LOG_LEVELS.join(", ")}; default info).
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
        const sluice = await startSluice({ config, demo: !values["no-demo"], logger, redisUrl: process.env["REDIS_URL"] || undefined });
        process.stdout.write(`\nSluice is ready at ${sluice.url}\n  docs:  ${sluice.url}/docs\n  try:   curl -H 'x-api-key: secret-key' ${sluice.url}/api/users/users/104\n\n`);
        onShutdown(() => sluice.close());
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
