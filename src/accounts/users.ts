/**
 * The users table: accounts that sign in to the dashboard and own API keys. One account per
 * email address whatever its case (`email_key` is the trimmed, lower-cased address, unique);
 * the address is shown as it was typed. Password hashes come out through `findCredentials`
 * only, for the login path; every other read answers a `User`, which has none.
 *
 * Takes a `Queryable`, so it works on the database or inside a caller's transaction (disabling a
 * user and revoking their sessions together: sessions.ts). Plans are checked by the foreign key:
 * an unknown plan is `UnknownPlan` (plans.ts).
 *
 * @example
 * const users = new UserRepository(db);
 * const user = await users.create({ email: "Ada@example.com", passwordHash, role: "user", plan: "free" });
 * await users.findByEmail("ada@EXAMPLE.com"); // → the same user
 */
import { randomUUID } from "node:crypto";
import type { Queryable } from "../db/database.js";
import { notifyKeyChanged } from "./apiKeys.js";
import { UnknownPlan } from "./plans.js";

export const ROLES = ["admin", "user"] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  readonly id: string;
  /** As typed at sign-up, trimmed. */
  readonly email: string;
  readonly role: Role;
  readonly plan: string;
  /** When the account was disabled; null while it may sign in. */
  readonly disabledAt: Date | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface NewUser {
  readonly email: string;
  /** From PasswordHasher.hash (passwords.ts); never the password itself. */
  readonly passwordHash: string;
  readonly role: Role;
  readonly plan: string;
}

export interface UserFilter {
  readonly role?: Role | undefined;
  readonly plan?: string | undefined;
  /** true: disabled accounts only; false: enabled ones only; undefined: both. */
  readonly disabled?: boolean | undefined;
  /** Case-insensitive substring of the email address. */
  readonly emailContains?: string | undefined;
}

export interface UserListOptions extends UserFilter {
  /** Page size, 1–200; default 50. */
  readonly limit?: number | undefined;
  /** `nextCursor` of the previous page. */
  readonly cursor?: string | undefined;
}

export interface UserPage {
  /** Ordered by lower-cased email address, byte by byte (the same on every engine and locale). */
  readonly items: readonly User[];
  /** Users matching the filter, on all pages. */
  readonly total: number;
  /** Present when more pages follow. */
  readonly nextCursor?: string;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
/** RFC 5321's limit on a forward path. */
const MAX_EMAIL_LENGTH = 254;

/** Another account already has this email address (in any case). */
export class EmailTaken extends Error {
  readonly code = "SLUICE_ERR_EMAIL_TAKEN";
  constructor(readonly email: string) {
    super(`an account with the email address ${email} already exists`);
    this.name = "EmailTaken";
  }
}

/** Not an email address Sluice can keep. */
export class InvalidEmail extends Error {
  readonly code = "SLUICE_ERR_INVALID_EMAIL";
  constructor(email: string) {
    super(`not an email address: ${JSON.stringify(email)}`);
    this.name = "InvalidEmail";
  }
}

/** A list cursor this repository did not hand out. */
export class InvalidCursor extends Error {
  readonly code = "SLUICE_ERR_INVALID_CURSOR";
  constructor() {
    super("the cursor is not one a previous page returned");
    this.name = "InvalidCursor";
  }
}

/** The address to store (trimmed) and the key that identifies it (also lower-cased). */
export function normalizeEmail(email: string): { email: string; emailKey: string } {
  const trimmed = email.trim();
  // Deliberately loose: one "@" with something on each side. Whether it is deliverable only a mail can tell.
  if (trimmed.length > MAX_EMAIL_LENGTH || !/^[^\s@]+@[^\s@]+$/.test(trimmed)) throw new InvalidEmail(email);
  return { email: trimmed, emailKey: trimmed.toLowerCase() };
}

interface UserRow {
  id: string;
  email: string;
  role: Role;
  plan: string;
  disabled_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const USER_COLUMNS = "id, email, role, plan, disabled_at, created_at, updated_at";

function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    plan: row.plan,
    disabledAt: row.disabled_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class UserRepository {
  constructor(private readonly db: Queryable) {}

  /** EmailTaken when the address is in use, UnknownPlan when the plan does not exist. */
  async create(user: NewUser): Promise<User> {
    const { email, emailKey } = normalizeEmail(user.email);
    try {
      const [row] = await this.db.query<UserRow>(
        `insert into users (id, email, email_key, password_hash, role, plan) values ($1, $2, $3, $4, $5, $6) returning ${USER_COLUMNS}`,
        [randomUUID(), email, emailKey, user.passwordHash, user.role, user.plan],
      );
      return toUser(row!);
    } catch (error) {
      if (violated(error, "23505", "users_email_key_key")) throw new EmailTaken(email);
      if (violated(error, "23503", "users_plan_fkey")) throw new UnknownPlan(user.plan);
      throw error;
    }
  }

  async findById(id: string): Promise<User | undefined> {
    if (!UUID.test(id)) return undefined; // not a uuid: no such user, rather than a cast error
    const [row] = await this.db.query<UserRow>(`select ${USER_COLUMNS} from users where id = $1`, [id]);
    return row && toUser(row);
  }

  async findByEmail(email: string): Promise<User | undefined> {
    const [row] = await this.db.query<UserRow>(`select ${USER_COLUMNS} from users where email_key = $1`, [email.trim().toLowerCase()]);
    return row && toUser(row);
  }

  /** The login path's read: the user and their password hash. */
  async findCredentials(email: string): Promise<{ user: User; passwordHash: string } | undefined> {
    const [row] = await this.db.query<UserRow & { password_hash: string }>(
      `select ${USER_COLUMNS}, password_hash from users where email_key = $1`,
      [email.trim().toLowerCase()],
    );
    return row && { user: toUser(row), passwordHash: row.password_hash };
  }

  /** One page of users matching `options`, by email address; follow `nextCursor` for the next. */
  async list(options: UserListOptions = {}): Promise<UserPage> {
    const limit = options.limit ?? DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) throw new RangeError(`limit must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${limit}`);
    const params: unknown[] = [];
    const where = filterClauses(options, params);
    const [counted] = await this.db.query<{ n: number }>(`select count(*)::int as n from users ${sqlWhere(where)}`, params);
    if (options.cursor !== undefined) {
      params.push(decodeCursor(options.cursor));
      where.push(`email_key collate "C" > $${params.length}`);
    }
    params.push(limit + 1); // one more than a page: whether another page follows
    const rows = await this.db.query<UserRow>(
      `select ${USER_COLUMNS}, email_key from users ${sqlWhere(where)} order by email_key collate "C" limit $${params.length}`,
      params,
    );
    const items = rows.slice(0, limit).map(toUser);
    const page: UserPage = { items, total: counted!.n };
    return rows.length > limit ? { ...page, nextCursor: encodeCursor((rows[limit - 1] as UserRow & { email_key: string }).email_key) } : page;
  }

  /** UnknownPlan when the plan does not exist; undefined when the user does not. */
  async setPlan(id: string, plan: string): Promise<User | undefined> {
    try {
      return await this.#announced(id, await this.#update(id, "plan = $2", [plan]));
    } catch (error) {
      if (violated(error, "23503", "users_plan_fkey")) throw new UnknownPlan(plan);
      throw error;
    }
  }

  async setRole(id: string, role: Role): Promise<User | undefined> {
    return this.#update(id, "role = $2", [role]);
  }

  /** Disabling keeps the first `disabledAt`; enabling clears it. Revoke the user's sessions with it (SessionStore.revokeAllFor). */
  async setDisabled(id: string, disabled: boolean): Promise<User | undefined> {
    return this.#announced(id, await this.#update(id, "disabled_at = case when $2::boolean then coalesce(disabled_at, now()) end", [disabled]));
  }

  /** Stores a new hash (a password change, or a rehash at login). Revoke the user's other sessions with it. */
  async setPasswordHash(id: string, passwordHash: string): Promise<User | undefined> {
    return this.#update(id, "password_hash = $2", [passwordHash]);
  }

  /** Admins; by default only those who may sign in — the ones that count when guarding the last admin. */
  /** The user's keys verify differently now (plan, disabled): every instance drops them from its key cache. */
  async #announced(id: string, user: User | undefined): Promise<User | undefined> {
    if (user !== undefined) await notifyKeyChanged(this.db, { userId: id });
    return user;
  }

  // `lock`, inside a transaction: the counted rows stay locked until it ends, so two transactions
  // cannot each demote or disable one of the last two admins (a waiting count sees the other's change).
  async countAdmins(options: { includeDisabled?: boolean; lock?: boolean } = {}): Promise<number> {
    const admins = `select id from users where role = 'admin' ${options.includeDisabled === true ? "" : "and disabled_at is null"} ${options.lock === true ? "for update" : ""}`;
    const [row] = await this.db.query<{ n: number }>(`select count(*)::int as n from (${admins}) as admins`);
    return row!.n;
  }

  async #update(id: string, assignment: string, params: readonly unknown[]): Promise<User | undefined> {
    if (!UUID.test(id)) return undefined;
    const [row] = await this.db.query<UserRow>(
      `update users set ${assignment}, updated_at = now() where id = $1 returning ${USER_COLUMNS}`,
      [id, ...params],
    );
    return row && toUser(row);
  }
}

function filterClauses(filter: UserFilter, params: unknown[]): string[] {
  const where: string[] = [];
  const add = (clause: (placeholder: string) => string, value: unknown) => {
    params.push(value);
    where.push(clause(`$${params.length}`));
  };
  if (filter.role !== undefined) add((p) => `role = ${p}`, filter.role);
  if (filter.plan !== undefined) add((p) => `plan = ${p}`, filter.plan);
  if (filter.disabled !== undefined) where.push(filter.disabled ? "disabled_at is not null" : "disabled_at is null");
  // strpos, not like: the needle's % and _ stay literal without escaping.
  if (filter.emailContains !== undefined && filter.emailContains !== "") add((p) => `strpos(email_key, ${p}) > 0`, filter.emailContains.toLowerCase());
  return where;
}

function sqlWhere(clauses: readonly string[]): string {
  return clauses.length === 0 ? "" : `where ${clauses.join(" and ")}`;
}

// The cursor is the last email key of a page, opaque to clients so the order may change later.
function encodeCursor(emailKey: string): string {
  return Buffer.from(emailKey, "utf8").toString("base64url");
}

function decodeCursor(cursor: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new InvalidCursor();
  return Buffer.from(cursor, "base64url").toString("utf8");
}

/** Whether `error` is PostgreSQL's `code` violation of `constraint` (both engines report them alike). */
function violated(error: unknown, code: string, constraint: string): boolean {
  const e = error as { code?: unknown; constraint?: unknown } | null;
  return typeof e === "object" && e !== null && e.code === code && e.constraint === constraint;
}
