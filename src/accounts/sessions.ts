/**
 * Dashboard sign-in sessions. A session token is 32 random bytes (base64url), handed to the
 * browser once; the sessions table keeps only its SHA-256, so a leaked table opens no session.
 * Verifying hashes the presented token and looks the digest up by primary key.
 *
 * Time comes from the injected clock (`now`), never from the database's now(): expiry is
 * computed and compared in JavaScript time, passed to SQL as parameters, so tests move a clock
 * instead of sleeping. An expired session answers like an unknown one, and is deleted on sight;
 * `deleteExpired` sweeps the rest.
 *
 * At sign-in, `rotate` drops the browser's previous token and issues a new one in one
 * transaction (no session fixation). On a password change or when an account is disabled,
 * `revokeAllFor` ends every session of the user.
 *
 * @example
 * const sessions = new SessionStore(db);
 * const { token } = await sessions.create(user.id);
 * await sessions.verify(token); // → { userId, expiresAt }
 */
import { randomBytes } from "node:crypto";
import type { Database, Queryable } from "../db/database.js";
import { sha256Hex } from "../config/apiKeyDigest.js";

/** The session cookie's name over plain HTTP, and over HTTPS (where the `__Host-` prefix binds it to this host). */
export const SESSION_COOKIE = "sluice_session";
export const SECURE_SESSION_COOKIE = "__Host-sluice_session";
/**
 * Every cookie Sluice sets, by its plain name (over HTTPS each also takes a prefix). The gateway
 * keeps them from upstreams both ways (gateway/upstream/ownCredentials.ts): add any new one here.
 */
export const SLUICE_COOKIE_NAMES: readonly string[] = [SESSION_COOKIE];

/** How long a session lives unless told otherwise: a working day. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

const TOKEN_BYTES = 32;
/** 32 bytes in unpadded base64url. */
const TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/;

export interface IssuedSession {
  /** Give it to the browser (an HttpOnly cookie); it is not kept anywhere. */
  readonly token: string;
  readonly expiresAt: Date;
}

export interface VerifiedSession {
  readonly userId: string;
  readonly expiresAt: Date;
}

export interface SessionStoreOptions {
  /** Milliseconds since the epoch; default Date.now. */
  readonly now?: () => number;
  /** Lifetime of sessions created without one; default SESSION_TTL_MS. */
  readonly ttlMs?: number;
}

export class SessionStore {
  readonly #now: () => number;
  readonly #ttlMs: number;

  /** On a `Database`, `rotate` opens its own transaction; on a transaction, it runs in that one. */
  constructor(
    private readonly db: Queryable | Database,
    options: SessionStoreOptions = {},
  ) {
    this.#now = options.now ?? Date.now;
    this.#ttlMs = options.ttlMs ?? SESSION_TTL_MS;
  }

  /** A new session for `userId`, living `ttlMs` from now. */
  async create(userId: string, ttlMs: number = this.#ttlMs): Promise<IssuedSession> {
    return issue(this.db, userId, this.#now(), ttlMs);
  }

  /** The session's user, or undefined when the token is unknown, revoked or expired. */
  async verify(token: string): Promise<VerifiedSession | undefined> {
    if (!TOKEN_FORMAT.test(token)) return undefined;
    // One statement: an expired session is deleted as it is found, and only a live one answers.
    const [row] = await this.db.query<{ user_id: string; expires_at: Date }>(
      `with expired as (delete from sessions where token_hash = $1 and expires_at <= $2 returning token_hash)
       select user_id, expires_at from sessions where token_hash = $1 and expires_at > $2`,
      [sha256Hex(token), new Date(this.#now())],
    );
    if (row === undefined) return undefined;
    return { userId: row.user_id, expiresAt: row.expires_at };
  }

  /** Ends one session (sign-out); false when there was none. */
  async revoke(token: string): Promise<boolean> {
    if (!TOKEN_FORMAT.test(token)) return false;
    const rows = await this.db.query("delete from sessions where token_hash = $1 returning token_hash", [sha256Hex(token)]);
    return rows.length > 0;
  }

  /** Ends every session of the user (password changed, account disabled); answers how many. */
  async revokeAllFor(userId: string): Promise<number> {
    const rows = await this.db.query("delete from sessions where user_id = $1 returning token_hash", [userId]);
    return rows.length;
  }

  /** Deletes the sessions that have expired; answers how many. */
  async deleteExpired(): Promise<number> {
    const rows = await this.db.query("delete from sessions where expires_at <= $1 returning token_hash", [new Date(this.#now())]);
    return rows.length;
  }

  /**
   * Sign-in: ends the browser's previous session (whoever it belonged to) and issues a new one
   * for `userId`, both or neither.
   */
  async rotate(oldToken: string | undefined, userId: string, ttlMs: number = this.#ttlMs): Promise<IssuedSession> {
    const now = this.#now();
    return inTransaction(this.db, async (tx) => {
      if (oldToken !== undefined && TOKEN_FORMAT.test(oldToken)) {
        await tx.query("delete from sessions where token_hash = $1", [sha256Hex(oldToken)]);
      }
      return issue(tx, userId, now, ttlMs);
    });
  }
}

async function issue(db: Queryable, userId: string, now: number, ttlMs: number): Promise<IssuedSession> {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`a session lives a positive number of milliseconds, got ${ttlMs}`);
  const token = randomBytes(TOKEN_BYTES).toString("base64url");
  const expiresAt = new Date(now + ttlMs);
  await db.query("insert into sessions (token_hash, user_id, created_at, expires_at) values ($1, $2, $3, $4)", [sha256Hex(token), userId, new Date(now), expiresAt]);
  return { token, expiresAt };
}

function inTransaction<T>(db: Queryable | Database, work: (tx: Queryable) => Promise<T>): Promise<T> {
  return "transaction" in db ? db.transaction(work) : work(db);
}
