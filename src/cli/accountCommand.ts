/**
 * What every account command (users, keys, plans, migrate) shares: its streams and environment,
 * its argument parsing (every one takes --json), and the accounts it works on — the database
 * named by DATABASE_URL, else the embedded one in SLUICE_DATA_DIR (default ./data), opened and
 * migrated for the one command and closed after it, so the embedded database is held no longer
 * than the command runs. The group modules (usersCommand.ts, keysCommand.ts, plansCommand.ts,
 * migrateCommand.ts) sit on this; sluice.ts dispatches to them and reports their failures.
 *
 * @example
 * export const usersList: AccountCommand = (args, io) =>
 *   withAccounts(io, async (accounts) => { … });
 */
import type { Readable, Writable } from "node:stream";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { openAccounts, type Accounts } from "../accounts/accounts.js";
import type { User } from "../accounts/users.js";
import { databaseLocation, openDatabase } from "../db/openDatabase.js";
import { NotFound, UsageError } from "./cliErrors.js";

export interface CommandIo {
  readonly env: NodeJS.ProcessEnv;
  readonly stdin: Readable & { readonly isTTY?: boolean };
  readonly stdout: Writable;
  readonly stderr: Writable;
}

/** A command group: its arguments after the group's name; resolves to the exit code. */
export type AccountCommand = (args: readonly string[], io: CommandIo) => Promise<number>;

type Options = NonNullable<ParseArgsConfig["options"]>;
const JSON_OPTION = { json: { type: "boolean" } } as const;

/** What parseCommandArgs answers: the options' values (typed from `O`, plus json) and the positionals. */
export type CommandArgs<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O & typeof JSON_OPTION; allowPositionals: true; strict: true }>>;

/**
 * Parses `args` for `command` ("users list"): the options given plus --json, and exactly the
 * positionals named (`["EMAIL|ID"]`). Anything else is a UsageError naming the group.
 */
export function parseCommandArgs<const O extends Options>(command: string, args: readonly string[], options: O, positionals: readonly string[] = []): CommandArgs<O> {
  const group = command.split(" ")[0];
  let parsed: CommandArgs<O>;
  try {
    parsed = parseArgs({ args: [...args], options: { ...options, ...JSON_OPTION }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${command}: ${(error as Error).message}`, group);
  }
  const given = parsed.positionals;
  if (given.length < positionals.length) throw new UsageError(`${command} needs ${positionals.join(" ")}`, group);
  if (given.length > positionals.length) {
    const extra = given.slice(positionals.length).map((p) => JSON.stringify(p)).join(" ");
    throw new UsageError(`${command} takes ${positionals.length === 0 ? "no arguments" : `only ${positionals.join(" ")}`}; what is ${extra}?`, group);
  }
  return parsed;
}

/** Opens (and migrates) the accounts database for `work`, and closes it whatever happens. */
export async function withAccounts<T>(io: CommandIo, work: (accounts: Accounts) => Promise<T>): Promise<T> {
  // No logger: stdout belongs to the command's output (one JSON document with --json).
  const db = await openDatabase(databaseLocation(io.env));
  try {
    const accounts = await openAccounts(db);
    try {
      return await work(accounts);
    } finally {
      await accounts.close();
    }
  } finally {
    await db.close();
  }
}

/** The user an argument names: an email address (it has an "@") or an id. */
export async function findUser(accounts: Accounts, emailOrId: string): Promise<User> {
  const user = emailOrId.includes("@") ? await accounts.users.findByEmail(emailOrId) : await accounts.users.findById(emailOrId);
  if (user === undefined) throw new NotFound(`no user ${emailOrId.includes("@") ? "with the email address" : "with the id"} ${emailOrId}`);
  return user;
}

/** A positive whole number given to `option`, at most `max`. */
export function parseCount(option: string, text: string | undefined, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > max) throw new UsageError(`${option} takes a whole number from 1 to ${max}, not ${JSON.stringify(text)}`);
  return n;
}
