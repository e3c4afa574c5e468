/**
 * Who is calling the rate-limit service: `Authorization: Bearer <token>`, where the token is a
 * service token (serviceTokens.ts; its rights and scope as granted) or the operator's
 * SLUICE_ADMIN_TOKEN (every right, no scope: every namespace and policy). The admin token is compared as SHA-256 digests in constant time; service tokens
 * are looked up by their hash (serviceTokenVerifier.ts). Anything else, and nothing, is nobody.
 *
 * @example
 * const authenticate = serviceAuthenticator({ adminToken: process.env.SLUICE_ADMIN_TOKEN, tokens });
 * authenticate(req.headers.authorization); // → { kind: "service-token", id, rights: ["decide"], scope: null } or undefined
 */
import { bearerToken, sameSecret } from "../accounts/bearerToken.js";
import type { ServiceTokenRight, TokenScope } from "./serviceTokens.js";
import type { ServiceTokenVerifier } from "./serviceTokenVerifier.js";

export type ServiceCaller =
  | { readonly kind: "admin-token"; readonly rights: readonly ServiceTokenRight[]; readonly scope: null }
  | { readonly kind: "service-token"; readonly id: string; readonly rights: readonly ServiceTokenRight[]; readonly scope: TokenScope | null };

export interface ServiceAuthOptions {
  /** SLUICE_ADMIN_TOKEN; unset: service tokens only. */
  readonly adminToken?: string | undefined;
  /** Service tokens from the database; absent without one. */
  readonly tokens?: Pick<ServiceTokenVerifier, "verify"> | undefined;
}

const ADMIN: ServiceCaller = Object.freeze({ kind: "admin-token", rights: Object.freeze(["decide", "reset"] as const), scope: null });

export function serviceAuthenticator({ adminToken, tokens }: ServiceAuthOptions): (authorization: string | undefined) => ServiceCaller | undefined {
  return function authenticateServiceCaller(authorization) {
    const token = bearerToken(authorization);
    if (token === undefined) return undefined;
    const verified = tokens?.verify(token);
    if (verified !== undefined) return { kind: "service-token", id: verified.id, rights: verified.rights, scope: verified.scope };
    return adminToken && sameSecret(token, adminToken) ? ADMIN : undefined;
  };
}
