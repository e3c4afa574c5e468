/**
 * `sluice users create|list|disable|enable|reset-password`: accounts from the command line, e.g.
 * the first admin of a new installation, an account to shut off at once, or a one-time link for
 * someone who forgot their password (Sluice sends no email: pass the link on yourself).
 *
 * A password is never printed. It is read from --password, else SLUICE_PASSWORD, else the first
 * line of stdin when stdin is not a terminal; the last two keep it out of shell history and out
 * of `ps`, so --password earns a warning on stderr. Disabling ends the user's sessions in the same
 * transaction, and the change notice makes every gateway drop the user's cached API keys.
 *
 * @example
 * // printf '%s\n' "$PASSWORD" | sluice users create --email ada@example.com --role admin
 * // sluice users list --role admin --json
 * // sluice users disable ada@example.com
 * // sluice users reset-password ada@example.com --url https://sluice.example.com
 */
import type { Readable } from "node:stream";
import type { Accounts } from "../accounts/accounts.js";
import { PasswordResets } from "../accounts/passwordResets.js";
import { SessionStore } from "../accounts/sessions.js";
import { MAX_PAGE_SIZE, ROLES, UserRepository, type Role, type User } from "../accounts/users.js";
import { findUser, parseCommandArgs, parseCount, withAccounts, type AccountCommand, type CommandIo } from "./accountCommand.js";
import { UsageError } from "./cliErrors.js";
import { cliOutput, formatTime } from "./cliOutput.js";

export const usersCommand: AccountCommand = async (args, io) => {
  const [sub, ...rest] = args;
  switch (sub) {
    case "create": return usersCreate(rest, io);
    case "list": return usersList(rest, io);
    case "disable": return usersSetDisabled(rest, io, true);
    case "enable": return usersSetDisabled(rest, io, false);
    case "reset-password": return usersResetPassword(rest, io);
    default:
      throw new UsageError(sub === undefined ? "users needs a command: create, list, disable, enable or reset-password" : `unknown command "users ${sub}"`, "users");
  }
};

async function usersCreate(args: readonly string[], io: CommandIo): Promise<number> {
  const { values } = parseCommandArgs("users create", args, {
    email: { type: "string" },
    password: { type: "string" },
    role: { type: "string" },
    plan: { type: "string" },
  });
  if (values.email === undefined) throw new UsageError("users create needs --email", "users");
  const role = parseRole(values.role);
  if (values.password !== undefined) {
    io.stderr.write("sluice: note: a password on the command line shows in `ps` and shell history; SLUICE_PASSWORD or stdin is safer\n");
  }
  const password = await readPassword(values.password, io);
  const email = values.email;
  const plan = values.plan;
  const user = await withAccounts(io, (accounts) => accounts.createUser({ email, password, ...(role !== undefined && { role }), ...(plan !== undefined && { plan }) }));
  const out = cliOutput(io.stdout, { json: values.json === true });
  out.result(user, () => {
    out.line(`Created user ${user.email}.`);
    out.table(["ID", "ROLE", "PLAN"], [[user.id, user.role, user.plan]]);
  });
  return 0;
}

async function usersList(args: readonly string[], io: CommandIo): Promise<number> {
  const { values } = parseCommandArgs("users list", args, {
    role: { type: "string" },
    plan: { type: "string" },
    disabled: { type: "boolean" },
    enabled: { type: "boolean" },
    email: { type: "string" },
    limit: { type: "string" },
  });
  if (values.disabled === true && values.enabled === true) throw new UsageError("users list takes --disabled or --enabled, not both", "users");
  const role = parseRole(values.role);
  const limit = parseCount("--limit", values.limit, Number.MAX_SAFE_INTEGER);
  const filter = {
    role,
    plan: values.plan,
    disabled: values.disabled === true ? true : values.enabled === true ? false : undefined,
    emailContains: values.email,
  };
  const { users, total } = await withAccounts(io, async (accounts) => {
    const found: User[] = [];
    let cursor: string | undefined;
    let matching = 0;
    do {
      const page = await accounts.users.list({ ...filter, cursor, limit: Math.min(MAX_PAGE_SIZE, (limit ?? Infinity) - found.length) });
      found.push(...page.items);
      matching = page.total;
      cursor = page.nextCursor;
    } while (cursor !== undefined && found.length < (limit ?? Infinity));
    return { users: found, total: matching };
  });
  const out = cliOutput(io.stdout, { json: values.json === true });
  out.result(users, () => {
    if (users.length === 0) return out.line("No users match.");
    out.table(["ID", "EMAIL", "ROLE", "PLAN", "STATUS", "CREATED"], users.map((u) => [
      u.id, u.email, u.role, u.plan, u.disabledAt === null ? "enabled" : `disabled ${formatTime(u.disabledAt)}`, formatTime(u.createdAt),
    ]));
    if (users.length < total) out.line(`(${users.length} of ${total} users; raise --limit to see more)`);
  });
  return 0;
}

async function usersSetDisabled(args: readonly string[], io: CommandIo, disabled: boolean): Promise<number> {
  const command = disabled ? "users disable" : "users enable";
  const { values, positionals } = parseCommandArgs(command, args, {}, ["EMAIL|ID"]);
  const { user, sessionsEnded, adminsLeft } = await withAccounts(io, async (accounts) => {
    const found = await findUser(accounts, positionals[0]!);
    const changed = await setDisabled(accounts, found.id, disabled);
    return { ...changed, adminsLeft: await accounts.users.countAdmins() };
  });
  const out = cliOutput(io.stdout, { json: values.json === true });
  out.result(disabled ? { user, sessionsEnded } : { user }, () => {
    if (disabled) out.line(`Disabled ${user.email}: ${sessionsEnded} session(s) ended; their API keys stop working.`);
    else out.line(`Enabled ${user.email}: they may sign in, and their API keys work again.`);
  });
  if (disabled && user.role === "admin" && adminsLeft === 0) {
    io.stderr.write("sluice: warning: no enabled admin is left; `sluice users enable` or `sluice users create --role admin` makes one\n");
  }
  return 0;
}

/** A one-time reset link for the user, valid a day; the token is printed once and kept only hashed. */
async function usersResetPassword(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs("users reset-password", args, { url: { type: "string" } }, ["EMAIL|ID"]);
  const base = (values.url ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
  const { user, issued } = await withAccounts(io, async (accounts) => {
    const found = await findUser(accounts, positionals[0]!);
    return { user: found, issued: await new PasswordResets(accounts.db, accounts.now).issue(found.id) };
  });
  const link = `${base}/#/reset?token=${issued.token}`;
  const out = cliOutput(io.stdout, { json: values.json === true });
  out.result({ user: { id: user.id, email: user.email }, token: issued.token, link, expiresAt: issued.expiresAt.toISOString() }, () => {
    out.line(`A one-time link for ${user.email} to set a new password (valid until ${formatTime(issued.expiresAt)}):`);
    out.line(link);
  });
  return 0;
}

/** The user's new state and the sessions ended, in one transaction: a disabled user keeps no session. */
async function setDisabled(accounts: Accounts, id: string, disabled: boolean): Promise<{ user: User; sessionsEnded: number }> {
  return accounts.db.transaction(async (tx) => {
    const user = await new UserRepository(tx).setDisabled(id, disabled);
    if (user === undefined) throw new Error(`user ${id} vanished while being changed`);
    const sessionsEnded = disabled ? await new SessionStore(tx).revokeAllFor(id) : 0;
    return { user, sessionsEnded };
  });
}

function parseRole(text: string | undefined): Role | undefined {
  if (text === undefined) return undefined;
  if (!ROLES.includes(text as Role)) throw new UsageError(`--role is one of ${ROLES.join(", ")}, not ${JSON.stringify(text)}`, "users");
  return text as Role;
}

/** --password, else SLUICE_PASSWORD, else the first line of piped stdin. */
async function readPassword(given: string | undefined, io: CommandIo): Promise<string> {
  if (given !== undefined) return given;
  const fromEnv = io.env["SLUICE_PASSWORD"];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  if (io.stdin.isTTY !== true) {
    const firstLine = (await readAll(io.stdin)).split(/\r?\n/)[0];
    if (firstLine !== undefined && firstLine !== "") return firstLine;
  }
  throw new UsageError("users create needs a password: pipe it on stdin, set SLUICE_PASSWORD, or give --password", "users");
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}
