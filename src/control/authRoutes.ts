/**
 * Sign-up, sign-in, sign-out and password change for people (JSON, session cookie). To be built.
 */
import type { FastifyInstance } from "fastify";
import type { Accounts } from "../accounts/accounts.js";
import type { RateLimitStore } from "../stores/store.js";

export interface AuthRoutesDeps {
  readonly accounts: Accounts;
  /** The limiter store the login throttle counts failures in. */
  readonly limiterStore: RateLimitStore;
}

export async function registerAuthRoutes(_app: FastifyInstance, _deps: AuthRoutesDeps): Promise<void> {}
