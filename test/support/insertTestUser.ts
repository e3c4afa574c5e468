/**
 * Users for tests of what hangs off a user (API keys), inserted with plain SQL so those tests do
 * not depend on the user repository. The plan row a user needs is created when missing.
 */
import { randomUUID } from "node:crypto";
import type { Queryable } from "../../src/db/database.js";

export interface TestUser {
  readonly id: string;
  readonly plan: string;
}

export async function ensurePlan(db: Queryable, name: string): Promise<void> {
  await db.query("insert into plans (name) values ($1) on conflict do nothing", [name]);
}

export async function insertTestUser(db: Queryable, { plan = "free", role = "user" }: { plan?: string; role?: "admin" | "user" } = {}): Promise<TestUser> {
  await ensurePlan(db, plan);
  const id = randomUUID();
  const email = `user-${id}@example.test`;
  await db.query(
    "insert into users (id, email, email_key, password_hash, role, plan) values ($1, $2, $3, $4, $5, $6)",
    [id, email, email.toLowerCase(), "not-a-real-hash", role, plan],
  );
  return { id, plan };
}

export async function disableTestUser(db: Queryable, id: string): Promise<void> {
  await db.query("update users set disabled_at = now() where id = $1", [id]);
}
