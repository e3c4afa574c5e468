/**
 * API keys declared in the config file (static consumers). Keys are hashed with SHA-256 when the
 * config loads and only the hashes are kept, so a heap dump shows no key; verification hashes the
 * presented key and looks the digest up. The lookup's timing depends on the digest, not on the
 * secret, so it leaks nothing an attacker can use to guess a key byte by byte.
 *
 * @example staticApiKeys({ demo: { keys: ["secret-key"] } }).verify("secret-key") // → { id: "demo" }
 */
import type { SluiceConfig } from "../config/schema.js";
import { apiKeyDigest, HASHED_KEY_PREFIX, sha256Hex } from "../config/apiKeyDigest.js";
import type { ApiKeyVerifier, Consumer } from "./consumer.js";

export function staticApiKeys(consumers: SluiceConfig["consumers"]): ApiKeyVerifier {
  const byHash = new Map<string, Consumer>();
  for (const [id, consumer] of Object.entries(consumers)) {
    const identity: Consumer = Object.freeze({
      id,
      ...(consumer.plan !== undefined && { plan: consumer.plan }),
      ...(consumer.scopes !== undefined && { scopes: consumer.scopes }),
    });
    for (const key of consumer.keys) byHash.set(apiKeyDigest(key), identity);
  }
  const verify = (presentedKey: string) => byHash.get(sha256Hex(presentedKey));
  return { verify, known: verify };
}

/** True when any consumer's key is written in plaintext (fine for a demo, not for production). */
export function hasPlaintextKeys(consumers: SluiceConfig["consumers"]): boolean {
  return Object.values(consumers).some((c) => c.keys.some((key) => !key.startsWith(HASHED_KEY_PREFIX)));
}
