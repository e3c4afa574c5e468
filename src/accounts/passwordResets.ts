/**
 * One-time password resets, for a user who forgot their password. Sluice sends no email: an
 * admin issues a reset (`sluice users reset-password`, or the admin API) and passes the link on
 * themselves. A reset token is 32 random bytes (base64url), shown once; the table keeps only its
 * SHA-256, as for sessions. Issuing a new reset for a user replaces any earlier one.
 *
 * Redeeming a token sets the new password and ends every session of the user, and deletes the
 * token, in one transaction: a token works once, and only until it expires (RESET_TTL_MS).
 * Time comes from the injected clock, as in sessions.ts.
 *
 * @example
 * const { token } = await resets.issue(user.id);          // hand it to the user
 * await resets.redeem(token, newPasswordHash);           // → the user's id, or undefined
 */
import { randomBytes } from "node:crypto";
import type { Database } from "../db/database.js";
import { sha256Hex } from "../config/apiKeyDigest.js";
import { SessionStore } from "./sessions.js";
import { UserRepository } from "./users.js";

/** How long a reset token works: a day, to reach its user by whatever way the admin picks. */
export const RESET_TTL_MS = 24 * 60 * 60 * 1000;

/** 32 bytes in unpadded base64url. */
const TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/;

export interface IssuedReset {
  /** Give it to the user once; it is not kept anywhere. */
  readonly token: string;
  readonly expiresAt: Date;
}

export class PasswordResets {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new reset for `userId`; any earlier one of theirs stops working. */
  async issue(userId: string): Promise<IssuedReset> {
    const token = randomBytes(32).toString("base64url");
    const now = this.now();
    const expiresAt = new Date(now + RESET_TTL_MS);
    await this.db.transaction(async (tx) => {
      await tx.query("delete from password_resets where user_id = $1", [userId]);
      await tx.query("insert into password_resets (token_hash, user_id, created_at, expires_at) values ($1, $2, $3, $4)", [sha256Hex(token), userId, new Date(now), expiresAt]);
    });
    return { token, expiresAt };
  }

  /** Whose live token this is, without using it; undefined for an unknown, used or expired one. */
  async peek(token: string): Promise<string | undefined> {
    if (!TOKEN_FORMAT.test(token)) return undefined;
    const [row] = await this.db.query<{ user_id: string }>("select user_id from password_resets where token_hash = $1 and expires_at > $2", [sha256Hex(token), new Date(this.now())]);
    return row?.user_id;
  }

  /**
   * Uses the token: the user's password becomes `passwordHash` and every session of theirs ends,
   * all or nothing. The user's id, or undefined when the token is unknown, used or expired.
   */
  async redeem(token: string, passwordHash: string): Promise<string | undefined> {
    if (!TOKEN_FORMAT.test(token)) return undefined;
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<{ user_id: string; expires_at: Date }>("delete from password_resets where token_hash = $1 returning user_id, expires_at", [sha256Hex(token)]);
      if (row === undefined || row.expires_at.getTime() <= this.now()) return undefined;
      await new UserRepository(tx).setPasswordHash(row.user_id, passwordHash);
      await new SessionStore(tx).revokeAllFor(row.user_id);
      return row.user_id;
    });
  }
}
