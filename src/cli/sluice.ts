#!/usr/bin/env node
/**
 * The `sluice` command: start the gateway, check a config file, run the demo backends alone, and
 * manage accounts (users, API keys, plans) and the database schema. This file is the dispatcher
 * and the one usage text; each account group lives in its own module (usersCommand.ts,
 * keysCommand.ts, plansCommand.ts, migrateCommand.ts), `start` in startCommand.ts, and every
 * expected failure is mapped to an exit code and a message in cliErrors.ts.
 * Exit codes: 0 fine, 1 failed at run time, 2 bad usage, invalid configuration or invalid input.
 */
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../config/loader.js";
import { DataDirNotPrivate } from "../db/privateFiles.js";
import { DEMO_SERVICE_NAMES, type DemoServiceName } from "../config/demoNames.js";
import { LOG_LEVELS, type LogLevel } from "../config/schema.js";
import { createStdoutLogger } from "../observability/logger.js";
import type { AccountCommand, CommandIo } from "./accountCommand.js";
import { describeFailure, UsageError, type Failure } from "./cliErrors.js";
import { keysCommand } from "./keysCommand.js";
import { migrateCommand } from "./migrateCommand.js";
import { plansCommand } from "./plansCommand.js";
import { onShutdown } from "./onShutdown.js";
import { usersCommand } from "./usersCommand.js";

/** Said under the account commands, in the full usage and in each group's. */
const ACCOUNT_NOTES = `Every account command takes --json: one JSON document on stdout, for scripts.
The embedded database serves one process at a time: while \`sluice start\` runs on a data dir,
account commands on that dir fail ("in use"). Use the admin API then, or keep accounts in
PostgreSQL (DATABASE_URL), which the gateway and these commands can share.`;

const USAGE = `Usage: sluice <command> [options]

Gateway:
  start [--config FILE] [--no-demo] [--port N] [--host ADDR] [--workers N]
                                      Start the gateway (and the demo services its config refers to).
                                      SIGHUP or saving the config file reloads it; SIGTERM drains.
                                      --workers: processes sharing the port (default: one per core
                                      with REDIS_URL and DATABASE_URL set, else 1).
  check-config [--config FILE]        Validate a config file and exit.
  demo [SERVICE...] [--port N]        Run demo backends on their own (${DEMO_SERVICE_NAMES.join(", ")}).
  help                                Show this text.

Accounts, in the database DATABASE_URL names, else the embedded one in SLUICE_DATA_DIR (./data):
  migrate                             Apply pending schema migrations and say which (start does too).
  users create --email EMAIL [--role admin|user] [--plan PLAN] [--password PASSWORD]
                                      Create an account. The password comes from --password, else
                                      SLUICE_PASSWORD, else the first line of stdin when it is piped;
                                      the last two keep it out of \`ps\` and shell history.
  users list [--role ROLE] [--plan PLAN] [--disabled | --enabled] [--email TEXT] [--limit N]
                                      Accounts by email address; --email matches part of it.
  users disable EMAIL|ID              Disable an account: its sessions end, its API keys stop working.
  users enable EMAIL|ID               Let a disabled account sign in and use its keys again.
  users reset-password EMAIL|ID [--url BASE]
                                      Print a one-time link (valid a day) to set a new password.
  keys create --user EMAIL|ID --name NAME [--scope SERVICE]... [--plan PLAN] [--expires WHEN]
                                      Make an API key and print it, once: it cannot be shown again.
                                      --scope allows only those services (default: all); --plan
                                      overrides the user's plan; WHEN is a duration (30d) or an
                                      ISO 8601 time (2030-01-31T00:00:00Z).
  keys list [--user EMAIL|ID] [--all] [--limit N]
                                      Keys, newest first, by their first characters, never whole;
                                      --all adds revoked ones.
  keys revoke ID                      Revoke a key; gateways sharing the database refuse it at once.
  keys rotate ID [--grace DURATION]   Replace a key with a new one, printed once; the old one keeps
                                      working for DURATION (default 1h; 0 ends it now).
  plans list                          Plans and their limits.
  plans show NAME                     A plan as YAML, in the form plans set --file reads.
  plans set NAME (--file FILE | --limits TEXT) [--description TEXT]
                                      Create or replace a plan. Limits are written like the config
                                      file's limits, in YAML or JSON: FILE holds description and
                                      limits, TEXT the limits alone. Every invalid field is listed.

${ACCOUNT_NOTES}

Exit codes: 0 done; 1 failed at run time (the port is taken, the database is in use or
unreachable); 2 bad usage, or invalid configuration or input (nothing was started or changed).

Environment: SLUICE_CONFIG (config file), PORT and HOST (override server.port/host; the flags
override them), LOG_LEVEL (${LOG_LEVELS.join(", ")}; default info), REDIS_URL (limits in Redis),
DATABASE_URL (accounts in PostgreSQL; else the embedded database in SLUICE_DATA_DIR, default ./data),
SLUICE_ADMIN_EMAIL and SLUICE_ADMIN_PASSWORD (the first admin, created once), SLUICE_ADMIN_TOKEN
(a Bearer token for the admin API), SLUICE_PASSWORD (the password for users create).
With no config named, the demo config examples/sluice.yaml is used.`;

/** The account commands, by group; each parses its own options. */
const ACCOUNT_COMMANDS = new Map<string, AccountCommand>([
  ["users", usersCommand],
  ["keys", keysCommand],
  ["plans", plansCommand],
  ["migrate", migrateCommand],
]);

const OPTIONS = {
  "config": { type: "string", short: "c" },
  "no-demo": { type: "boolean" },
  "port": { type: "string", short: "p" },
  "host": { type: "string" },
  "workers": { type: "string", short: "w" },
  "help": { type: "boolean", short: "h" },
} as const;

async function main(argv: readonly string[]): Promise<number> {
  const accountCommand = ACCOUNT_COMMANDS.get(argv[0] ?? "");
  if (accountCommand !== undefined) return runAccountCommand(argv[0]!, accountCommand, argv.slice(1));
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
  const level = logLevel();
  if (level === undefined) return 2;
  const logger = await createStdoutLogger(level);
  try {
    switch (command) {
      case "start": {
        // Loaded on demand, like the demo services: the account commands start faster without the gateway's modules.
        const { startCommand } = await import("./startCommand.js");
        return await startCommand(values, logger);
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
        const { startDemoServices } = await import("../demo/demoServices.js");
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
    // The operator's to fix, and the message says how: no stack.
    if (error instanceof DataDirNotPrivate) return writeFailure(describeFailure(error)!);
    logger.fatal({ err: error }, "sluice failed");
    return 1;
  }
}

/** Runs one account command; expected failures become one clear message and exit 1 or 2. */
async function runAccountCommand(group: string, command: AccountCommand, args: readonly string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h") || args[0] === "help") {
    process.stdout.write(`${groupUsage(group)}\n`);
    return 0;
  }
  if (logLevel() === undefined) return 2;
  const io: CommandIo = { env: process.env, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
  try {
    return await command(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`sluice: ${error.message}\n\n${groupUsage(error.group ?? group)}\n`);
      return 2;
    }
    const failure = describeFailure(error);
    if (failure !== undefined) return writeFailure(failure);
    // Not one of ours: a bug or an infrastructure fault nobody named, so the stack is worth having.
    process.stderr.write(`sluice: ${group} failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    return 1;
  }
}

/** Writes an expected failure's lines to stderr; its exit code. */
function writeFailure({ exitCode, lines: [first, ...rest] }: Failure): number {
  process.stderr.write([`sluice: ${first}`, ...rest].join("\n") + "\n");
  return exitCode;
}

/** The usage lines of one group (continuations included), then the account notes. */
function groupUsage(group: string): string {
  const lines: string[] = [];
  let inGroup = false;
  for (const line of USAGE.split("\n")) {
    if (/^ {2}\S/.test(line)) inGroup = line === `  ${group}` || line.startsWith(`  ${group} `);
    else if (!/^ {3}/.test(line)) inGroup = false;
    if (inGroup) lines.push(line);
  }
  return `Usage:\n${lines.join("\n")}\n\n${ACCOUNT_NOTES}\nRun \`sluice help\` for every command.`;
}

/** LOG_LEVEL, checked; undefined (after saying why on stderr) when it is not a level. */
function logLevel(): LogLevel | undefined {
  const level = process.env["LOG_LEVEL"] || "info";
  if (LOG_LEVELS.includes(level as LogLevel)) return level as LogLevel;
  process.stderr.write(`sluice: LOG_LEVEL "${level}" is not one of ${LOG_LEVELS.join(", ")}\n`);
  return undefined;
}

process.exitCode = await main(process.argv.slice(2));
