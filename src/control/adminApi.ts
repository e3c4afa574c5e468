/**
 * The admin API under /admin/api: users, API keys and plans. To be built.
 */
import type { FastifyInstance } from "fastify";
import type { Accounts } from "../accounts/accounts.js";

export interface AdminApiDeps {
  readonly accounts: Accounts;
  /** SLUICE_ADMIN_TOKEN: accepted as a Bearer token besides an admin's session. */
  readonly adminToken: string | undefined;
}

export async function registerAdminApi(_app: FastifyInstance, _deps: AdminApiDeps): Promise<void> {}
