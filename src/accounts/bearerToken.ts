/**
 * Secrets presented as `Authorization: Bearer <token>` (the admin token, service tokens), and the
 * one way to compare a presented secret with a known one: both are hashed first, so the
 * comparison takes the same time whatever the lengths and wherever the two differ.
 */
import { hash, timingSafeEqual } from "node:crypto";

const BEARER = "Bearer ";

/** The token of an `Authorization: Bearer <token>` header; undefined for any other header. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return authorization !== undefined && authorization.startsWith(BEARER) ? authorization.slice(BEARER.length) : undefined;
}

/** Whether `presented` equals `expected`, in constant time. */
export function sameSecret(presented: string, expected: string): boolean {
  return timingSafeEqual(hash("sha256", presented, "buffer"), hash("sha256", expected, "buffer"));
}
