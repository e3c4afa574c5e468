/**
 * The one form in which Sluice keeps an API key: the hex SHA-256 of the key. A config may write
 * a key in plaintext or already as "sha256:<hex>"; both come out as the same digest.
 */
import { hash } from "node:crypto";

export const HASHED_KEY_PREFIX = "sha256:";

export function sha256Hex(text: string): string {
  return hash("sha256", text, "hex");
}

export function apiKeyDigest(configuredKey: string): string {
  return configuredKey.startsWith(HASHED_KEY_PREFIX) ? configuredKey.slice(HASHED_KEY_PREFIX.length) : sha256Hex(configuredKey);
}
