/**
 * A signed-in user's own API keys: list, create, revoke, rotate. To be built.
 */
import type { FastifyInstance } from "fastify";
import type { Accounts } from "../accounts/accounts.js";

export interface AccountRoutesDeps {
  readonly accounts: Accounts;
}

export async function registerAccountRoutes(_app: FastifyInstance, _deps: AccountRoutesDeps): Promise<void> {}
