/**
 * The schema, as an append-only list of migrations, and the one function that applies them.
 *
 * Applied at start-up by every instance, safely when several start at once: all pending
 * migrations run in ONE transaction holding a transaction-level advisory lock, so the second
 * instance waits, then finds them applied; and a migration that fails rolls back everything it
 * and its predecessors in that run did (PostgreSQL's DDL is transactional), leaving the database
 * as it was. Never edit an applied migration: add the next one.
 */
import type { Database } from "./database.js";

export interface Migration {
  readonly id: number;
  readonly name: string;
  readonly sql: string;
}

/** Arbitrary, fixed: the advisory lock every Sluice instance takes to migrate. */
const MIGRATION_LOCK = 5_318_003;

export const MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: "accounts",
    sql: `
      create table plans (
        name text primary key,
        description text not null default '',
        -- limit name → limit, in the shape of the config file's limits (docs/config.md#limits)
        limits jsonb not null default '{}',
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );

      create table users (
        id uuid primary key,
        email text not null,
        -- lower-cased email: one account per address, whatever its case
        email_key text not null unique,
        password_hash text not null,
        role text not null check (role in ('admin', 'user')),
        plan text not null references plans (name) on update cascade,
        disabled_at timestamptz,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );

      create table sessions (
        -- SHA-256 (hex) of the session token; the token itself is never stored
        token_hash text primary key,
        user_id uuid not null references users (id) on delete cascade,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null
      );
      create index sessions_user on sessions (user_id);
      create index sessions_expiry on sessions (expires_at);

      create table api_keys (
        id uuid primary key,
        -- SHA-256 (hex) of the key; the key itself is shown once and never stored
        key_hash text not null unique,
        -- the first characters of the key, to recognise it in lists
        start text not null,
        name text not null,
        user_id uuid not null references users (id) on delete cascade,
        -- services the key may call; null: all
        scopes text[],
        -- overrides the owner's plan; null: the owner's
        plan text references plans (name) on update cascade,
        created_at timestamptz not null default now(),
        last_used_at timestamptz,
        expires_at timestamptz,
        revoked_at timestamptz,
        -- set on the old key when it is rotated
        replaced_by uuid references api_keys (id)
      );
      create index api_keys_user on api_keys (user_id);
    `,
  },
  {
    id: 2,
    name: "default plans",
    // Limits as the config file writes them (src/accounts/plans.ts); a plan an operator
    // already made under one of these names is left alone.
    sql: `
      insert into plans (name, description, limits) values
        ('free', 'Free: 5 requests per 30 s', '{
          "free-rate": { "algorithm": "sliding-window-log", "limit": 5, "window": "30s", "by": ["consumer"] }
        }'),
        ('premium', 'Premium: 100 requests per minute, 10 000 per day', '{
          "premium-rate": { "algorithm": "gcra", "limit": 100, "window": "1m", "by": ["consumer"] },
          "premium-daily": { "algorithm": "fixed-window", "limit": 10000, "window": "1d", "align": "clock", "by": ["consumer"] }
        }')
      on conflict (name) do nothing;
    `,
  },
  {
    id: 3,
    name: "service tokens",
    // The rate-limit service's callers (src/service/serviceTokens.ts).
    sql: `
      create table service_tokens (
        id uuid primary key,
        -- SHA-256 (hex) of the token; the token itself is shown once and never stored
        token_hash text not null unique,
        -- the first characters of the token, to recognise it in lists
        start text not null,
        name text not null,
        -- what the token may do: 'decide', 'reset'
        rights text[] not null,
        created_at timestamptz not null default now(),
        expires_at timestamptz,
        revoked_at timestamptz
      );
    `,
  },
  {
    id: 4,
    name: "usage",
    // Requests per caller per minute, written in batches by src/usage/usageRecorder.ts.
    sql: `
      create table usage_minutes (
        -- 'key:<api key id>', 'user:<user id>' (session calls) or 'consumer:<config name>'
        subject text not null,
        minute timestamptz not null,
        allowed int not null default 0,
        limited int not null default 0,
        primary key (subject, minute)
      );
      -- retention deletes by age
      create index usage_minutes_minute on usage_minutes (minute);
    `,
  },
  {
    id: 5,
    name: "service token scopes",
    // The namespaces and named policies a service token may use (src/service/tokenScope.ts).
    // Both null: every one, as tokens made before scopes could; both set, or neither.
    sql: `
      alter table service_tokens
        add column namespaces text[],
        add column policies text[],
        add constraint service_tokens_scope check ((namespaces is null) = (policies is null));
    `,
  },
  {
    id: 6,
    name: "password resets",
    // One-time reset tokens an admin issues (src/accounts/passwordResets.ts); only their SHA-256.
    sql: `
      create table password_resets (
        token_hash text primary key,
        user_id uuid not null references users (id) on delete cascade,
        created_at timestamptz not null,
        expires_at timestamptz not null
      );
      create index password_resets_user on password_resets (user_id);
    `,
  },
];

/** Applies the pending migrations; returns the ids it applied (none when up to date). */
export async function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query("select pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await tx.query(`create table if not exists sluice_migrations (
      id int primary key,
      name text not null,
      applied_at timestamptz not null default now()
    )`);
    const rows = await tx.query<{ id: number }>("select id from sluice_migrations");
    const done = new Set(rows.map((row) => row.id));
    const applied: number[] = [];
    for (const migration of migrations) {
      if (done.has(migration.id)) continue;
      await tx.exec(migration.sql);
      await tx.query("insert into sluice_migrations (id, name) values ($1, $2)", [migration.id, migration.name]);
      applied.push(migration.id);
    }
    return applied;
  });
}
