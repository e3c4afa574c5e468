/**
 * What the admin API's resource files share: the route declarer for their dependencies, the
 * body limit, and the 404 they answer for an id that names nothing.
 */
import type { Accounts } from "../../accounts/accounts.js";
import { problems } from "../../problems/catalogue.js";
import { ProblemError } from "../../problems/problemError.js";
import { routeFor } from "../defineRoute.js";

export interface AdminApiDeps {
  readonly accounts: Accounts;
  /** SLUICE_ADMIN_TOKEN: accepted as a Bearer token besides an admin's session. */
  readonly adminToken: string | undefined;
}

export const ADMIN_API_PREFIX = "/admin/api";
/** Largest JSON body accepted: a plan with many limits fits many times over. */
export const ADMIN_BODY_LIMIT = 64 * 1024;
/** Items per page when a list does not say. */
export const DEFAULT_LIST_SIZE = 50;

export const adminRoute = routeFor<AdminApiDeps>();

export const notFound = (what: string) => new ProblemError(problems.notFound, `No ${what}.`);
