/**
 * The gateway config every Sluice target of the bench runs with (bench/run.ts, bench/profile.ts).
 */
import { benchKey, consumerName, KEY_COUNT } from "./keys.js";

/**
 * One service; the bench's 10,000 keys, one consumer each; one limit so high it never refuses but
 * is still checked per request, by consumer. With Redis, the limit fails closed (503) and waits up
 * to a second, so a Redis that cannot keep up fails the bench instead of being skipped unseen.
 */
export function gatewayConfig(upstreamUrl: string, limiter: { readonly store: "memory" } | { readonly store: "redis"; readonly keyPrefix: string }): string {
  const consumers = Array.from({ length: KEY_COUNT }, (_, i) => `  ${consumerName(i)}:\n    keys: [${benchKey(i)}]`).join("\n");
  const redis = limiter.store === "redis";
  const limiterSection = redis ? `  store: redis\n  keyPrefix: "${limiter.keyPrefix}"\n  timeout: 1s` : "  store: memory";
  return `# Written by the Sluice bench for one run; deleted when the bench exits.
server:
  host: 127.0.0.1
  port: 0
limiter:
${limiterSection}
limits:
  bench-unlimited:
    algorithm: gcra
    limit: 1000000000
    window: 1s
    by: [consumer]${redis ? "\n    onStoreFailure: closed" : ""}
defaults:
  limits: [bench-unlimited]
services:
  users:
    upstream: ${upstreamUrl}
    openapi: false
consumers:
${consumers}
`;
}
