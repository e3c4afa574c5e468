/**
 * API keys kept in the database: how a key is made, and the repository over the `api_keys` table.
 *
 * A key is `sk_` + 32 base62 characters drawn from crypto random bytes (190 bits), shown to its
 * owner once. The table keeps only the key's SHA-256 (hex, `key_hash`, the lookup index) and its
 * `start` (`sk_` + the first 6 characters, to recognise it in lists); nothing here returns a hash.
 * Verification on the hot path (hash → cache → `findActiveByHash`) lives in databaseApiKeys.ts.
 *
 * Every change that can make a key stop verifying (revoke, rotate; elsewhere an owner's plan or
 * disabled state) is announced on the `sluice_api_keys` channel, from inside the transaction
 * that makes it, so every instance drops its cached copy as soon as the change commits.
 * Times compared with expiries come from the injected clock, passed to SQL as a parameter, so
 * tests can move time and instances agree with their own clocks rather than the database's.
 *
 * @example
 * const keys = apiKeyRepository(db);
 * const { key, record } = await keys.create(userId, { name: "ci" }); // show `key` once
 * await keys.rotate(record.id, 24 * 3600_000); // the old key keeps working for a day
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { Database, Queryable } from "../db/database.js";
import { sha256Hex } from "../config/apiKeyDigest.js";

export const API_KEY_PREFIX = "sk_";
/** Base62 characters after the prefix: 32 × log2(62) ≈ 190.5 bits of randomness. */
export const API_KEY_RANDOM_LENGTH = 32;
/** What every key this module makes looks like; anything else is not one of ours. */
export const API_KEY_PATTERN = /^sk_[0-9A-Za-z]{32}$/;
/** Characters of the random part kept, after the prefix, as the key's display start. */
const START_LENGTH = 6;
/** The channel that announces changed keys; the payload is the key's hash, or see notifyKeyChanged. */
export const API_KEYS_CHANNEL = "sluice_api_keys";
/** Payload: every key (of every owner) may have changed. Same value as MISSED_NOTIFICATIONS. */
export const ALL_KEYS = "*";
/** Payload prefix: every key of one owner may have changed (its plan, its disabled state). */
export const OWNER_KEYS_PREFIX = "user:";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** Bytes at or above 248 (= 4 × 62) are dropped: keeping them would favour the first 8 characters. */
const UNBIASED_LIMIT = 256 - (256 % BASE62.length);

/**
 * A new plaintext key. `random` is for tests (to prove biased bytes are rejected).
 *
 * @example generateApiKey() // → "sk_4fZq…" (35 characters)
 */
export function generateApiKey(random: (size: number) => Uint8Array = randomBytes): string {
  let key = API_KEY_PREFIX;
  while (key.length < API_KEY_PREFIX.length + API_KEY_RANDOM_LENGTH) {
    // 8 spare bytes per draw: on average 3% are rejected, so one draw almost always suffices.
    for (const byte of random(API_KEY_RANDOM_LENGTH + 8)) {
      if (byte >= UNBIASED_LIMIT) continue;
      key += BASE62[byte % BASE62.length];
      if (key.length === API_KEY_PREFIX.length + API_KEY_RANDOM_LENGTH) break;
    }
  }
  return key;
}

/** The part of a key shown in lists: `sk_` + its first 6 random characters. */
export function apiKeyStart(key: string): string {
  return key.slice(0, API_KEY_PREFIX.length + START_LENGTH);
}

/** A stored key, as lists and admin pages see it: never the key, never its hash. */
export interface ApiKeyRecord {
  readonly id: string;
  readonly start: string;
  readonly name: string;
  readonly userId: string;
  /** Services the key may call; null: all. */
  readonly scopes: readonly string[] | null;
  /** Overrides the owner's plan; null: the owner's. */
  readonly plan: string | null;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
  readonly expiresAt: Date | null;
  readonly revokedAt: Date | null;
  /** The key that replaced this one when it was rotated. */
  readonly replacedBy: string | null;
}

/** A key that verifies, with what the gateway needs of its owner. */
export interface ActiveApiKey extends ApiKeyRecord {
  readonly owner: {
    readonly id: string;
    readonly plan: string;
    readonly role: "admin" | "user";
    readonly disabledAt: Date | null;
  };
}

export interface NewApiKey {
  readonly name: string;
  readonly scopes?: readonly string[] | null | undefined;
  readonly plan?: string | null | undefined;
  readonly expiresAt?: Date | null | undefined;
}

export interface ApiKeyListQuery {
  readonly userId?: string | undefined;
  /** Revoked keys are left out unless this is true. */
  readonly includeRevoked?: boolean | undefined;
  /** 1 to MAX_LIST_LIMIT. */
  readonly limit: number;
  readonly offset?: number | undefined;
}

export const MAX_LIST_LIMIT = 1000;

export interface ApiKeyRepository {
  /** Makes a key for `userId`; `key` is the plaintext, to show once: it cannot be read back. */
  create(userId: string, key: NewApiKey): Promise<{ key: string; record: ApiKeyRecord }>;
  get(id: string): Promise<ApiKeyRecord | undefined>;
  /** Keys whose start (`sk_` + 6, as lists show it) is this, newest first, at most `limit`. */
  findByStart(start: string, limit: number): Promise<ApiKeyRecord[]>;
  /** Newest first. */
  list(query: ApiKeyListQuery): Promise<ApiKeyRecord[]>;
  /** Revokes the key (idempotent: a second revoke keeps the first time); undefined when there is no such key. */
  revoke(id: string): Promise<ApiKeyRecord | undefined>;
  /**
   * Replaces a live key with a new one of the same name, scopes, plan and expiry; the old one keeps
   * working for `graceMs` (or until its own expiry, if sooner). Undefined when `id` is unknown,
   * revoked, expired or already replaced.
   */
  rotate(id: string, graceMs: number): Promise<{ key: string; record: ApiKeyRecord; replaced: ApiKeyRecord } | undefined>;
  /** The key with this hash if it verifies at `now` (not revoked, not expired, owner not disabled). */
  findActiveByHash(hash: string, now?: number): Promise<ActiveApiKey | undefined>;
  /** Records that these keys were used at `at` (one time for all, or one per key; never moves a later last use back, never stamps a use after a revocation). */
  touchLastUsed(ids: readonly string[], at: Date | readonly Date[]): Promise<void>;
}

export interface ApiKeyRepositoryOptions {
  /** Milliseconds since the epoch; compared with expiries and stamped on created/revoked times. */
  readonly now?: () => number;
}

/** Something that can announce a change: the Database, or a transaction (announces on commit). */
type Notifier = Queryable | Pick<Database, "notify">;

/**
 * Tells every instance's verifier to forget a key: by its hash, every key of an owner
 * (`{ userId }`, after a plan change or disabling), or every key (`"*"`). Given a transaction,
 * the notice goes out when it commits.
 *
 * @example await notifyKeyChanged(tx, { userId }) // in the transaction that disables the user
 */
export async function notifyKeyChanged(db: Notifier, target: string | { readonly userId: string }): Promise<void> {
  const payload = typeof target === "string" ? target : `${OWNER_KEYS_PREFIX}${target.userId}`;
  if ("notify" in db) await db.notify(API_KEYS_CHANNEL, payload);
  else await db.query("select pg_notify($1, $2)", [API_KEYS_CHANNEL, payload]);
}

interface KeyRow {
  id: string;
  key_hash: string;
  start: string;
  name: string;
  user_id: string;
  scopes: string[] | null;
  plan: string | null;
  created_at: Date;
  last_used_at: Date | null;
  expires_at: Date | null;
  revoked_at: Date | null;
  replaced_by: string | null;
}

interface ActiveRow extends KeyRow {
  owner_plan: string;
  owner_role: "admin" | "user";
  owner_disabled_at: Date | null;
}

/** Every column but the hash, which leaves this module only inside notifications. */
const COLUMNS = "id, start, name, user_id, scopes, plan, created_at, last_used_at, expires_at, revoked_at, replaced_by";

/** Ids come from URLs and forms: one that is not a UUID names no key, rather than failing the query. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isUuid = (id: string) => UUID.test(id);

const toRecord = (row: Omit<KeyRow, "key_hash">): ApiKeyRecord => ({
  id: row.id,
  start: row.start,
  name: row.name,
  userId: row.user_id,
  scopes: row.scopes,
  plan: row.plan,
  createdAt: row.created_at,
  lastUsedAt: row.last_used_at,
  expiresAt: row.expires_at,
  revokedAt: row.revoked_at,
  replacedBy: row.replaced_by,
});

export function apiKeyRepository(db: Database, options: ApiKeyRepositoryOptions = {}): ApiKeyRepository {
  const now = options.now ?? Date.now;

  const insert = async (q: Queryable, userId: string, spec: NewApiKey, at: Date) => {
    const key = generateApiKey();
    const [row] = await q.query<KeyRow>(
      `insert into api_keys (id, key_hash, start, name, user_id, scopes, plan, created_at, expires_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       returning ${COLUMNS}`,
      [randomUUID(), sha256Hex(key), apiKeyStart(key), spec.name, userId, spec.scopes ?? null, spec.plan ?? null, at, spec.expiresAt ?? null],
    );
    return { key, record: toRecord(row!) };
  };

  return {
    create: (userId, spec) => insert(db, userId, spec, new Date(now())),

    async get(id) {
      if (!isUuid(id)) return undefined;
      const [row] = await db.query<KeyRow>(`select ${COLUMNS} from api_keys where id = $1`, [id]);
      return row === undefined ? undefined : toRecord(row);
    },

    async findByStart(start, limit) {
      if (!/^sk_[A-Za-z0-9]{6}$/.test(start)) return [];
      const rows = await db.query<KeyRow>(`select ${COLUMNS} from api_keys where start = $1 order by created_at desc limit $2`, [start, limit]);
      return rows.map(toRecord);
    },

    async list({ userId, includeRevoked = false, limit, offset = 0 }) {
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) throw new RangeError(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}`);
      if (!Number.isInteger(offset) || offset < 0) throw new RangeError("offset must be a non-negative integer");
      if (userId !== undefined && !isUuid(userId)) return [];
      const rows = await db.query<KeyRow>(
        `select ${COLUMNS} from api_keys
         where ($1::uuid is null or user_id = $1) and ($2 or revoked_at is null)
         order by created_at desc, id
         limit $3 offset $4`,
        [userId ?? null, includeRevoked, limit, offset],
      );
      return rows.map(toRecord);
    },

    revoke: async (id) => {
      if (!isUuid(id)) return undefined;
      return db.transaction(async (tx) => {
        const [row] = await tx.query<KeyRow>(
          `update api_keys set revoked_at = coalesce(revoked_at, $2) where id = $1 returning key_hash, ${COLUMNS}`,
          [id, new Date(now())],
        );
        if (row === undefined) return undefined;
        await notifyKeyChanged(tx, row.key_hash);
        return toRecord(row);
      });
    },

    async rotate(id, graceMs) {
      if (!Number.isFinite(graceMs) || graceMs < 0) throw new RangeError("graceMs must be a non-negative number");
      if (!isUuid(id)) return undefined;
      return db.transaction(async (tx) => {
        const at = now();
        // The row lock makes two concurrent rotations of one key give one new key, not two.
        const [old] = await tx.query<KeyRow>(
          `select key_hash, ${COLUMNS} from api_keys
           where id = $1 and revoked_at is null and replaced_by is null and (expires_at is null or expires_at > $2)
           for update`,
          [id, new Date(at)],
        );
        if (old === undefined) return undefined;
        // A name of its own, so the list never shows two keys alike: "server" → "server (2)" → "server (3)".
        const fresh = await insert(tx, old.user_id, { name: rotatedName(old.name), scopes: old.scopes, plan: old.plan, expiresAt: old.expires_at }, new Date(at));
        const [replaced] = await tx.query<KeyRow>(
          `update api_keys set replaced_by = $2, expires_at = least(expires_at, $3) where id = $1 returning ${COLUMNS}`,
          [id, fresh.record.id, new Date(at + graceMs)],
        );
        await notifyKeyChanged(tx, old.key_hash);
        return { ...fresh, replaced: toRecord(replaced!) };
      });
    },

    async findActiveByHash(hash, at = now()) {
      const [row] = await db.query<ActiveRow>(
        `select k.id, k.start, k.name, k.user_id, k.scopes, k.plan, k.created_at, k.last_used_at, k.expires_at, k.revoked_at, k.replaced_by,
                u.plan as owner_plan, u.role as owner_role, u.disabled_at as owner_disabled_at
         from api_keys k join users u on u.id = k.user_id
         where k.key_hash = $1 and k.revoked_at is null and (k.expires_at is null or k.expires_at > $2) and u.disabled_at is null`,
        [hash, new Date(at)],
      );
      if (row === undefined) return undefined;
      return { ...toRecord(row), owner: { id: row.user_id, plan: row.owner_plan, role: row.owner_role, disabledAt: row.owner_disabled_at } };
    },

    async touchLastUsed(ids, at) {
      if (ids.length === 0) return;
      const times = at instanceof Date ? ids.map(() => at) : at;
      // Each key its own time, looked up by its place in the arrays; never a use after the key's
      // revocation (a batch written late). No join: an UPDATE … FROM unnest(…) upset the embedded
      // engine's next statement at shutdown.
      await db.query(
        `update api_keys set last_used_at = greatest(last_used_at, ($2::timestamptz[])[array_position($1::uuid[], id)])
         where id = any($1::uuid[]) and (revoked_at is null or ($2::timestamptz[])[array_position($1::uuid[], id)] <= revoked_at)`,
        [ids, times],
      );
    },
  };
}

/** The name a rotated key's successor gets: "laptop" → "laptop (2)", "laptop (2)" → "laptop (3)"; at most 100 characters. */
export function rotatedName(name: string): string {
  const numbered = /^(.*) \((\d+)\)$/.exec(name);
  const base = numbered?.[1] ?? name;
  const suffix = ` (${numbered === null ? 2 : Number(numbered[2]) + 1})`;
  return [...base].slice(0, 100 - suffix.length).join("") + suffix;
}
