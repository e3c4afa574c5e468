/**
 * Bytes per key of an in-process limiter, measured in a process of its own (bench/limiter.ts
 * starts it with --expose-gc): full GC, heap used plus array buffers; fill the store with N keys,
 * one decision each; full GC, the same again. The difference, divided by N, is what one key costs,
 * key string included (the store keeps it as the Map key), and the typed arrays the memory store
 * keeps its columns in (outside V8's heap, so `heapUsed` alone would not see them). Prints one
 * JSON line.
 *
 *   node --expose-gc --import tsx bench/limiter/footprint.ts <store> <keys>
 *   store: sluice-<algorithm> (every registered algorithm) | rate-limiter-flexible
 */
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { RateLimiterMemory } from "rate-limiter-flexible";
import type { Policy } from "../../src/limiter/policy.js";
import { MemoryStore } from "../../src/stores/memoryStore.js";

/** One key's policy per algorithm: 1,000 per hour, never refused by one decision. */
const POLICIES = {
  "sluice-gcra": { name: "bench", algorithm: "gcra", limit: 1_000, windowMs: 3_600_000 },
  "sluice-token-bucket": { name: "bench", algorithm: "token-bucket", limit: 1_000, windowMs: 3_600_000, capacity: 1_000 },
  "sluice-sliding-window-log": { name: "bench", algorithm: "sliding-window-log", limit: 1_000, windowMs: 3_600_000 },
  "sluice-sliding-window-counter": { name: "bench", algorithm: "sliding-window-counter", limit: 1_000, windowMs: 3_600_000 },
  "sluice-fixed-window": { name: "bench", algorithm: "fixed-window", limit: 1_000, windowMs: 3_600_000 },
  "sluice-concurrency": { name: "bench", algorithm: "concurrency", limit: 1_000, windowMs: 3_600_000 },
} satisfies Record<string, Policy>;

export const FOOTPRINT_STORES = [...(Object.keys(POLICIES) as (keyof typeof POLICIES)[]), "rate-limiter-flexible"] as const;
export type FootprintStore = (typeof FOOTPRINT_STORES)[number];

export interface Footprint {
  readonly store: FootprintStore;
  readonly keys: number;
  /** heapUsed + arrayBuffers before and after, bytes. */
  readonly heapBefore: number;
  readonly heapAfter: number;
  readonly bytesPerKey: number;
}

const WINDOW_MS = 3_600_000;

async function measure(store: FootprintStore, keys: number): Promise<Footprint> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run me with node --expose-gc");
  const heap = () => {
    // Twice: the first full GC can leave what only a second one finds unreachable.
    gc();
    gc();
    const { heapUsed, arrayBuffers } = process.memoryUsage();
    return heapUsed + arrayBuffers;
  };

  const heapBefore = heap();
  let size: () => number;
  if (store === "rate-limiter-flexible") {
    const limiter = new RateLimiterMemory({ points: 1_000, duration: WINDOW_MS / 1000, keyPrefix: "bench" });
    for (let i = 0; i < keys; i++) await limiter.consume(subject(i));
    // It keeps its records in a plain object; count them to prove they are all still there.
    size = () => Object.keys((limiter as unknown as { _memoryStorage: { _storage: object } })._memoryStorage._storage).length;
  } else {
    const policy: Policy = POLICIES[store];
    const memory = new MemoryStore({ sweepIntervalMs: 0, maxKeys: keys });
    // A concurrency limit holds a lease per request (the gateway names it with a UUID): one each, never given back.
    for (let i = 0; i < keys; i++) memory.consume([{ key: `${policy.name}|${subject(i)}`, policy, cost: 1, ...(policy.algorithm === "concurrency" && { lease: randomUUID() }) }]);
    size = () => memory.size;
  }
  const heapAfter = heap();
  // Reading the store after the second measurement keeps it alive through it.
  if (size() !== keys) throw new Error(`${store} holds ${size()} keys, not ${keys}`);
  return { store, keys, heapBefore, heapAfter, bytesPerKey: (heapAfter - heapBefore) / keys };
}

/** Same shape as the in-process bench's keys: `consumer-<n>`. */
function subject(i: number): string {
  return `consumer-${i}`;
}

/** This file's path, for the orchestrator that starts it. */
export const FOOTPRINT_SCRIPT = fileURLToPath(import.meta.url);

// Measure only when run as a program; bench/limiter.ts imports the names above without measuring.
if (process.argv[1] === FOOTPRINT_SCRIPT) {
  const [, , store, keys] = process.argv;
  if (!FOOTPRINT_STORES.includes(store as FootprintStore) || !Number.isInteger(Number(keys)) || Number(keys) < 1) {
    process.stderr.write(`usage: node --expose-gc --import tsx bench/limiter/footprint.ts <${FOOTPRINT_STORES.join(" | ")}> <keys>\n`);
    process.exit(2);
  }
  process.stdout.write(`${JSON.stringify(await measure(store as FootprintStore, Number(keys)))}\n`);
}
