/**
 * `sluice keys create|list|revoke|rotate`: API keys from the command line.
 *
 * A key is printed once, by the command that makes it (create, rotate), on a line of its own —
 * or as `key` in the --json document — and never again: the database keeps only its hash, and
 * lists show its start (`sk_abc123…`). Revoking and rotating go through the repository, whose
 * change notice makes every gateway sharing the database drop the key from its cache at once.
 *
 * @example
 * // sluice keys create --user ada@example.com --name ci --scope users --expires 90d
 * // sluice keys list --user ada@example.com --all
 * // sluice keys rotate 3f0c… --grace 1h
 */
import type { Accounts } from "../accounts/accounts.js";
import { MAX_LIST_LIMIT, type ApiKeyRecord } from "../accounts/apiKeys.js";
import { UnknownPlan } from "../accounts/plans.js";
import { parseDuration } from "../config/duration.js";
import { nameSchema } from "../config/schema.js";
import { findUser, parseCommandArgs, parseCount, withAccounts, type AccountCommand, type CommandIo } from "./accountCommand.js";
import { NotFound, Refused, UsageError } from "./cliErrors.js";
import { cliOutput, formatTime, type CliOutput } from "./cliOutput.js";

/** How long a rotated key keeps working when --grace is not given. */
export const DEFAULT_ROTATION_GRACE = "1h";

export const keysCommand: AccountCommand = async (args, io) => {
  const [sub, ...rest] = args;
  switch (sub) {
    case "create": return keysCreate(rest, io);
    case "list": return keysList(rest, io);
    case "revoke": return keysRevoke(rest, io);
    case "rotate": return keysRotate(rest, io);
    default:
      throw new UsageError(sub === undefined ? "keys needs a command: create, list, revoke or rotate" : `unknown command "keys ${sub}"`, "keys");
  }
};

async function keysCreate(args: readonly string[], io: CommandIo): Promise<number> {
  const { values } = parseCommandArgs("keys create", args, {
    user: { type: "string" },
    name: { type: "string" },
    scope: { type: "string", multiple: true },
    plan: { type: "string" },
    expires: { type: "string" },
  });
  if (values.user === undefined || values.name === undefined) throw new UsageError("keys create needs --user and --name", "keys");
  const name = values.name.trim();
  if (name === "" || name.length > 100) throw new UsageError("--name takes 1 to 100 characters", "keys");
  const badScopes = (values.scope ?? []).filter((scope) => !nameSchema.safeParse(scope).success);
  if (badScopes.length > 0) throw new UsageError(`--scope takes a service name (lower-case letters, digits, '-' or '_'), not ${badScopes.map((s) => JSON.stringify(s)).join(", ")}`, "keys");
  const expiresAt = values.expires === undefined ? null : parseExpiry(values.expires, Date.now());
  const user = values.user;
  const plan = values.plan;
  const created = await withAccounts(io, async (accounts) => {
    const owner = await findUser(accounts, user);
    // The foreign key would refuse it too, but as a bare database error.
    if (plan !== undefined && (await accounts.plans.get(plan)) === undefined) throw new UnknownPlan(plan);
    const made = await accounts.apiKeys.create(owner.id, { name, scopes: values.scope ?? null, plan: plan ?? null, expiresAt });
    return { ...made, owner };
  });
  const out = cliOutput(io.stdout, { json: values.json === true });
  out.result({ key: created.key, ...created.record }, () => {
    out.line(`Created API key "${created.record.name}" for ${created.owner.email}:`);
    showNewKey(out, created.key, created.record);
  });
  return 0;
}

async function keysList(args: readonly string[], io: CommandIo): Promise<number> {
  const { values } = parseCommandArgs("keys list", args, { user: { type: "string" }, all: { type: "boolean" }, limit: { type: "string" } });
  const limit = parseCount("--limit", values.limit, Number.MAX_SAFE_INTEGER);
  const { user } = values;
  const now = Date.now();
  const keys = await withAccounts(io, async (accounts) => {
    const userId = user === undefined ? undefined : (await findUser(accounts, user)).id;
    const found: ApiKeyRecord[] = [];
    for (;;) {
      const want = Math.min(MAX_LIST_LIMIT, (limit ?? Infinity) - found.length);
      const page = await accounts.apiKeys.list({ userId, includeRevoked: values.all === true, limit: want, offset: found.length });
      found.push(...page);
      if (page.length < want || found.length === limit) break;
    }
    const emails = await ownerEmails(accounts, found);
    return found.map((record) => ({ ...record, userEmail: emails.get(record.userId) ?? null, status: keyStatus(record, now) }));
  });
  const out = cliOutput(io.stdout, { json: values.json === true });
  out.result(keys, () => {
    if (keys.length === 0) return out.line(values.all === true ? "No keys." : "No live keys (--all shows revoked ones too).");
    out.table(["ID", "KEY", "NAME", "USER", "PLAN", "SCOPES", "CREATED", "LAST USED", "EXPIRES", "STATUS"], keys.map((k) => [
      k.id, `${k.start}…`, k.name, k.userEmail ?? k.userId, k.plan ?? "(user's)", k.scopes?.join(",") ?? "(all)",
      formatTime(k.createdAt), formatTime(k.lastUsedAt), formatTime(k.expiresAt), k.status,
    ]));
  });
  return 0;
}

async function keysRevoke(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs("keys revoke", args, {}, ["ID"]);
  const id = positionals[0]!;
  const { before, after } = await withAccounts(io, async (accounts) => {
    const found = await accounts.apiKeys.get(id);
    if (found === undefined) throw new NotFound(`no API key with the id ${id}`);
    return { before: found, after: (await accounts.apiKeys.revoke(id)) ?? found };
  });
  const out = cliOutput(io.stdout, { json: values.json === true });
  out.result(after, () => {
    if (before.revokedAt !== null) out.line(`Key ${id} (${before.start}…, "${before.name}") was already revoked at ${formatTime(before.revokedAt)}.`);
    else out.line(`Revoked key ${id} (${after.start}…, "${after.name}"). Gateways refuse it from now on.`);
  });
  return 0;
}

async function keysRotate(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs("keys rotate", args, { grace: { type: "string" } }, ["ID"]);
  const id = positionals[0]!;
  const grace = values.grace ?? DEFAULT_ROTATION_GRACE;
  let graceMs;
  try {
    graceMs = grace === "0" ? 0 : parseDuration(grace);
  } catch {
    throw new UsageError(`--grace takes a duration such as 30m, 1h or 1d, or 0 to end the old key now; not ${JSON.stringify(grace)}`, "keys");
  }
  const rotated = await withAccounts(io, async (accounts) => {
    const result = await accounts.apiKeys.rotate(id, graceMs);
    if (result !== undefined) return result;
    const found = await accounts.apiKeys.get(id);
    if (found === undefined) throw new NotFound(`no API key with the id ${id}`);
    const status = keyStatus(found, Date.now());
    const why = status === "rotated" ? `it was rotated already, into key ${found.replacedBy}` : status === "expired" ? "it has expired" : "it is revoked";
    throw new Refused(`key ${id} cannot be rotated: ${why}; create a new key instead`);
  });
  const out = cliOutput(io.stdout, { json: values.json === true });
  out.result({ key: rotated.key, ...rotated.record, replaced: rotated.replaced }, () => {
    out.line(`Rotated key "${rotated.record.name}": the old key ${rotated.replaced.start}… works until ${formatTime(rotated.replaced.expiresAt)}. The new key:`);
    showNewKey(out, rotated.key, rotated.record);
  });
  return 0;
}

/** The one time a key is shown: alone on its line, so it is easy to copy, then what it is. */
function showNewKey(out: CliOutput, key: string, record: ApiKeyRecord): void {
  out.line();
  out.line(key);
  out.line();
  out.table(["ID", "PLAN", "SCOPES", "EXPIRES"], [[record.id, record.plan ?? "(user's)", record.scopes?.join(",") ?? "(all)", formatTime(record.expiresAt)]]);
  out.line();
  out.line("Store the key now: it will not be shown again (Sluice keeps only its hash).");
}

/** What a key is at `now`, in one word (two for a rotated key). */
export function keyStatus(record: ApiKeyRecord, now: number): string {
  if (record.revokedAt !== null) return "revoked";
  if (record.expiresAt !== null && record.expiresAt.getTime() <= now) return "expired";
  if (record.replacedBy !== null) return "rotated";
  return "active";
}

async function ownerEmails(accounts: Accounts, records: readonly ApiKeyRecord[]): Promise<Map<string, string>> {
  const emails = new Map<string, string>();
  for (const userId of new Set(records.map((r) => r.userId))) {
    const owner = await accounts.users.findById(userId);
    if (owner !== undefined) emails.set(userId, owner.email);
  }
  return emails;
}

/** --expires: a duration from now ("30d") or an ISO 8601 time ("2030-01-01", "2030-01-01T12:00:00Z"), in the future. */
export function parseExpiry(text: string, now: number): Date {
  let at: number;
  try {
    at = now + parseDuration(text);
  } catch {
    at = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text) ? Date.parse(text) : NaN;
  }
  if (Number.isNaN(at)) throw new UsageError(`--expires takes a duration from now such as 30d, or an ISO 8601 time such as 2030-01-31T00:00:00Z; not ${JSON.stringify(text)}`, "keys");
  if (at <= now) throw new UsageError(`--expires ${text} is not in the future`, "keys");
  return new Date(at);
}
