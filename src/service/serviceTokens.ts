/**
 * Service tokens: what applications send (`Authorization: Bearer st_…`) to ask the rate-limit
 * service for decisions. Made, listed and revoked by an admin (the admin API's /service-tokens).
 *
 * A token is `st_` + 32 base62 characters from crypto random bytes (190 bits, made as API keys
 * are), shown once. The `service_tokens` table (migration 3) keeps only its SHA-256 (hex) and its
 * `start` (`st_` + 6 characters, to recognise it in lists). A token carries rights: `decide`
 * (decisions and reads of state) and `reset` (forget a limit's counters; an admin's power, so
 * never granted by default); and a scope (migration 5): the ad-hoc namespaces and named policies
 * it may use, or none, for every one (tokenScope.ts says why that is the default).
 *
 * Every change (a new token, a revocation) is announced on the `sluice_service_tokens` channel from
 * inside its transaction; each instance's verifier (serviceTokenVerifier.ts) reloads when it hears.
 *
 * @example
 * const tokens = serviceTokenRepository(db);
 * const { token, record } = await tokens.create({ name: "billing", rights: ["decide"], scope: { namespaces: ["billing"], policies: [] } }); // show `token` once
 * await tokens.revoke(record.id);
 */
import { randomUUID } from "node:crypto";
import type { Database, Queryable } from "../db/database.js";
import { sha256Hex } from "../config/apiKeyDigest.js";
import { API_KEY_PREFIX, generateApiKey } from "../accounts/apiKeys.js";

export const SERVICE_TOKEN_PREFIX = "st_";
/** What every token this module makes looks like; anything else is not one of ours. */
export const SERVICE_TOKEN_PATTERN = /^st_[0-9A-Za-z]{32}$/;
/** The channel that announces changed tokens. */
export const SERVICE_TOKENS_CHANNEL = "sluice_service_tokens";
/** What a token may do: `decide` (decisions, reads of state), `reset` (forget a limit's counters). */
export const SERVICE_TOKEN_RIGHTS = ["decide", "reset"] as const;
export type ServiceTokenRight = (typeof SERVICE_TOKEN_RIGHTS)[number];

/** What a scoped token may use: these ad-hoc namespaces and these named policies (Envoy domains), no others. */
export interface TokenScope {
  readonly namespaces: readonly string[];
  readonly policies: readonly string[];
}

/** Characters of the random part kept, after the prefix, as the token's display start. */
const START_LENGTH = 6;

/** A new plaintext token: an API key's 190 random bits under the service-token prefix. */
export function generateServiceToken(): string {
  return SERVICE_TOKEN_PREFIX + generateApiKey().slice(API_KEY_PREFIX.length);
}

/** A stored token, as lists show it: never the token, never its hash. */
export interface ServiceTokenRecord {
  readonly id: string;
  readonly start: string;
  readonly name: string;
  readonly rights: readonly ServiceTokenRight[];
  /** null: every namespace and policy. */
  readonly scope: TokenScope | null;
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  readonly revokedAt: Date | null;
}

/** What the verifier keeps of a live token. */
export interface ActiveServiceToken {
  readonly id: string;
  readonly hash: string;
  readonly rights: readonly ServiceTokenRight[];
  readonly scope: TokenScope | null;
  readonly expiresAt: Date | null;
}

export interface NewServiceToken {
  readonly name: string;
  readonly rights: readonly ServiceTokenRight[];
  /** Absent or null: every namespace and policy. */
  readonly scope?: TokenScope | null | undefined;
  readonly expiresAt?: Date | null | undefined;
}

export interface ServiceTokenRepository {
  /** Makes a token; `token` is the plaintext, to show once. */
  create(spec: NewServiceToken): Promise<{ token: string; record: ServiceTokenRecord }>;
  get(id: string): Promise<ServiceTokenRecord | undefined>;
  /** Newest first; revoked ones only when asked. */
  list(options?: { readonly includeRevoked?: boolean | undefined }): Promise<ServiceTokenRecord[]>;
  /** Revokes at once on every instance (idempotent: a second revoke keeps the first time); undefined when there is no such token. */
  revoke(id: string): Promise<ServiceTokenRecord | undefined>;
  /** Every token not revoked and not expired at `at`: what the verifier holds. */
  active(at: Date): Promise<ActiveServiceToken[]>;
}

interface TokenRow {
  id: string;
  start: string;
  name: string;
  rights: string[];
  namespaces: string[] | null;
  policies: string[] | null;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
}

/** Every column but the hash. */
const COLUMNS = "id, start, name, rights, namespaces, policies, created_at, expires_at, revoked_at";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const toRecord = (row: TokenRow): ServiceTokenRecord => ({
  id: row.id,
  start: row.start,
  name: row.name,
  rights: row.rights.filter(isRight),
  scope: scopeOf(row),
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  revokedAt: row.revoked_at,
});

function scopeOf(row: Pick<TokenRow, "namespaces" | "policies">): TokenScope | null {
  return row.namespaces === null || row.policies === null ? null : { namespaces: row.namespaces, policies: row.policies };
}

function isRight(value: string): value is ServiceTokenRight {
  return (SERVICE_TOKEN_RIGHTS as readonly string[]).includes(value);
}

/** Announces a change; inside a transaction, when it commits. */
const announce = (q: Queryable, id: string) => q.query("select pg_notify($1, $2)", [SERVICE_TOKENS_CHANNEL, id]);

export function serviceTokenRepository(db: Database, options: { readonly now?: () => number } = {}): ServiceTokenRepository {
  const now = options.now ?? Date.now;
  return {
    create: ({ name, rights, scope, expiresAt }) => db.transaction(async (tx) => {
      const token = generateServiceToken();
      const [row] = await tx.query<TokenRow>(
        `insert into service_tokens (id, token_hash, start, name, rights, namespaces, policies, created_at, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning ${COLUMNS}`,
        [
          randomUUID(), sha256Hex(token), token.slice(0, SERVICE_TOKEN_PREFIX.length + START_LENGTH), name, [...new Set(rights)],
          scope ? [...new Set(scope.namespaces)] : null, scope ? [...new Set(scope.policies)] : null, new Date(now()), expiresAt ?? null,
        ],
      );
      await announce(tx, row!.id);
      return { token, record: toRecord(row!) };
    }),

    async get(id) {
      if (!UUID.test(id)) return undefined;
      const [row] = await db.query<TokenRow>(`select ${COLUMNS} from service_tokens where id = $1`, [id]);
      return row && toRecord(row);
    },

    async list({ includeRevoked = false } = {}) {
      const rows = await db.query<TokenRow>(`select ${COLUMNS} from service_tokens where $1 or revoked_at is null order by created_at desc, id`, [includeRevoked]);
      return rows.map(toRecord);
    },

    revoke: async (id) => {
      if (!UUID.test(id)) return undefined;
      return db.transaction(async (tx) => {
        const [row] = await tx.query<TokenRow>(`update service_tokens set revoked_at = coalesce(revoked_at, $2) where id = $1 returning ${COLUMNS}`, [id, new Date(now())]);
        if (row !== undefined) await announce(tx, id);
        return row && toRecord(row);
      });
    },

    async active(at) {
      const rows = await db.query<Pick<TokenRow, "id" | "rights" | "namespaces" | "policies" | "expires_at"> & { token_hash: string }>(
        "select id, token_hash, rights, namespaces, policies, expires_at from service_tokens where revoked_at is null and (expires_at is null or expires_at > $1)",
        [at],
      );
      return rows.map((row) => ({ id: row.id, hash: row.token_hash, rights: row.rights.filter(isRight), scope: scopeOf(row), expiresAt: row.expires_at }));
    },
  };
}
